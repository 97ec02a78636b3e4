import TheanoCore

/// The least-squares solution `x` minimizing `‖A·x − b‖₂` for each matrix `A` of a stack
/// and the matching matrix `b` (LAPACK `gelsd`, by the SVD): the minimum-norm solution when
/// `A` is rank-deficient, singular values at most `relativeCutoff` times the largest counting
/// as zero (`nil`: machine epsilon times the larger size of `A`).
///
/// `x = A⁺·b`, so its gradient is that of the pseudo-inverse (``PseudoInverse``), valid
/// where the rank does not change.
public struct LeastSquares: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    public let relativeCutoff: Double?

    package init(relativeCutoff: Double?) { self.relativeCutoff = relativeCutoff }

    public var description: String { relativeCutoff.map { "lstsq(rcond=\($0))" } ?? "lstsq" }

    /// The cutoff for a matrix of `rows`×`columns`.
    func cutoff(rows: Int, columns: Int) -> Double { relativeCutoff ?? Double.ulpOfOne * Double(Swift.max(rows, columns)) }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (a, b) = (inputs[0], inputs[1])
        let dtype = try rightHandSidesDType(a, b)
        return [TensorType(dtype, shape: Array(b.shape.dropLast(2)) + [a.shape.last!, b.shape.last!])]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let lapack = try LAPACK.required(by: "a least-squares solution")
        let (a, b) = (inputs[0], inputs[1])
        guard a.shape.dropLast() == b.shape.dropLast() else {
            throw OpError("cannot fit matrices of shape \(shapeText(a.shape)) to right-hand sides of shape \(shapeText(b.shape))")
        }
        let (matrices, sides) = (MatrixStack(a), MatrixStack(b))
        let solutions = try (0..<matrices.count).map {
            try matrices.matrix($0).leastSquares(sides.matrix($0), relativeCondition: cutoff(rows: matrices.rows, columns: matrices.columns), using: lapack)
        }
        let dtype = DType.promote(matrixAlgebraDType(a.dtype), matrixAlgebraDType(b.dtype))
        return [NDArray(matrices: solutions, batchShape: sides.batchShape, rows: matrices.columns, columns: sides.columns, dtype: dtype)]
    }

    /// With `P = A⁺`: `b̄ = Pᵀ·x̄`, and `Ā` the pseudo-inverse's gradient for `P̄ = x̄·bᵀ`.
    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return [nil, nil] }
        let (a, b) = (node.inputs[0], node.inputs[1])
        // The pseudo-inverse's cutoff counts from the largest singular value, as gelsd's does.
        let inverse = try PseudoInverse(relativeCutoff: relativeCutoff ?? 1e-15)(a, at: node.location)
        let inverseBar = try matmul(g, b.matrixTranspose)
        return [try pseudoInverseGradient(a, inverse: inverse, inverseBar, at: node.location), try matmul(inverse.matrixTranspose, g)]
    }

    /// `dx = dP·b + P·db` with `P = A⁺`.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        let (a, b) = (node.inputs[0], node.inputs[1])
        guard inputTangents.contains(where: { $0 != nil }) else { return [nil] }
        let inverse = try PseudoInverse(relativeCutoff: relativeCutoff ?? 1e-15)(a, at: node.location)
        var change: Variable?
        if let da = inputTangents[0] { change = try matmul(pseudoInverseTangent(a, inverse: inverse, da, at: node.location), b) }
        if let db = inputTangents[1] { change = try change.adding(matmul(inverse, db)) }
        return [change]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        let (a, b) = (inputShapes[0], inputShapes[1])
        return [Array(b.dropLast(2)) + [a[a.count - 1], b[b.count - 1]]]
    }
}

/// The least-squares solution of `a·x = b` for each matrix of `a` (NumPy's `linalg.lstsq`,
/// returning the solution only): the `x` minimizing `‖a·x − b‖₂`, of minimum norm when `a`
/// is rank-deficient, with singular values at most `rcond` times the largest counted as
/// zero (`nil`: machine epsilon times `max(m, n)`, NumPy's default). `b` is a stack of
/// matrices or of vectors.
public func lstsq(_ a: Variable, _ b: Variable, rcond: Double? = nil, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    guard a.ndim >= 2, b.ndim == a.ndim || b.ndim == a.ndim - 1 else {
        throw TheanoError.typeMismatch(op: "lstsq", inputs: [a.type, b.type], reason: "a must be a stack of matrices and b one of matrices or vectors", location: location)
    }
    return try SourceLocation.attributing(to: location) {
        let op = LeastSquares(relativeCutoff: rcond)
        if b.ndim == a.ndim { return try op([a, b], at: location) }
        return try squeeze(op([a, expandDims(b, axis: b.ndim)], at: location), axis: Axes([b.ndim]))
    }
}
