import TheanoCore

/// The inverse of each square matrix of a stack (by an LU factorization, LAPACK
/// `getrf`/`getrs`). Throws when a matrix is singular.
public struct MatrixInverse: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    package init() {}

    public var description: String { "inv" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        _ = try inputs[0].matrixStack(square: true)
        return [TensorType(matrixAlgebraDType(inputs[0].dtype), shape: inputs[0].shape)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let lapack = try LAPACK.required(by: "a matrix inverse")
        try checkSquare(inputs[0])
        let stack = MatrixStack(inputs[0])
        return [try stack.map(rows: stack.rows, columns: stack.rows, dtype: matrixAlgebraDType(inputs[0].dtype)) {
            try $0.solve(.identity(stack.rows), using: lapack)
        }]
    }

    /// `Ā = −Xᵀ·X̄·Xᵀ` for `X = A⁻¹`.
    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return [nil] }
        let inverseTransposed = try node.output(0).matrixTranspose
        return [try -matmul(matmul(inverseTransposed, g), inverseTransposed)]
    }

    /// `dX = −X·dA·X`.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        guard let tangent = inputTangents[0] else { return [nil] }
        let inverse = node.output(0)
        return [try -matmul(matmul(inverse, tangent), inverse)]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { inputShapes }
}

/// The inverse of each square matrix of `a` (NumPy's `linalg.inv`). Throws when the
/// function runs if a matrix is singular. To multiply by an inverse, ``solve(_:_:assume:lower:fileID:line:)``
/// is cheaper and more accurate, and the optimizer rewrites `dot(inv(a), b)` into it.
public func inv(_ a: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try MatrixInverse()(a, at: SourceLocation.resolve(fileID: fileID, line: line))
}

/// The Moore–Penrose pseudo-inverse of each matrix of a stack, by the SVD: singular values
/// at most `relativeCutoff` times the largest are treated as zero.
///
/// Its gradient holds where the rank does not change (Golub and Pereyra, 1973):
/// `Ā = −Xᵀ·X̄·Xᵀ + (I − A·X)·X̄ᵀ·X·Xᵀ + Xᵀ·X·X̄ᵀ·(I − X·A)` for `X = A⁺`.
public struct PseudoInverse: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    public let relativeCutoff: Double

    package init(relativeCutoff: Double) { self.relativeCutoff = relativeCutoff }

    public var description: String { "pinv(rcond=\(relativeCutoff))" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (batch, rows, columns) = try inputs[0].matrixStack()
        return [TensorType(matrixAlgebraDType(inputs[0].dtype), shape: batch + [columns, rows])]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let lapack = try LAPACK.required(by: "a pseudo-inverse")
        let stack = MatrixStack(inputs[0])
        return [try stack.map(rows: stack.columns, columns: stack.rows, dtype: matrixAlgebraDType(inputs[0].dtype)) { a in
            let (u, s, vt) = try a.singularValueDecomposition(.reduced, using: lapack)
            let cutoff = relativeCutoff * (s.max() ?? 0)
            // A⁺ = V·diag(1/s)·Uᵀ over the singular values kept.
            var result = DenseMatrix(zeros: a.columns, a.rows)
            for (index, value) in s.enumerated() where value > cutoff {
                for j in 0..<a.rows { for i in 0..<a.columns { result[i, j] += vt[index, i] * u[j, index] / value } }
            }
            return result
        }]
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return [nil] }
        return [try pseudoInverseGradient(node.inputs[0], inverse: node.output(0), g, at: node.location)]
    }

    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        [try inputTangents[0].map { try pseudoInverseTangent(node.inputs[0], inverse: node.output(0), $0, at: node.location) }]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        let sizes = inputShapes[0]
        return [Array(sizes.dropLast(2)) + [sizes[sizes.count - 1], sizes[sizes.count - 2]]]
    }
}

/// The projections onto the complements of `a`'s column and row spaces, `I − A·X` and
/// `I − X·A`, for `X = A⁺`: the terms by which a pseudo-inverse's derivatives differ from an
/// inverse's.
private func complementProjections(_ a: Variable, inverse x: Variable, at location: SourceLocation) throws -> (columns: Variable, rows: Variable) {
    (try identity(like: a.matrixTranspose, at: location) - matmul(a, x), try identity(like: a, at: location) - matmul(x, a))
}

/// The gradient with respect to `a` of a scalar whose gradient with respect to `a`'s
/// pseudo-inverse `inverse` is `g` (see ``PseudoInverse``).
func pseudoInverseGradient(_ a: Variable, inverse x: Variable, _ g: Variable, at location: SourceLocation) throws -> Variable {
    let xT = try x.matrixTranspose, gT = try g.matrixTranspose
    let (columns, rows) = try complementProjections(a, inverse: x, at: location)
    return try -matmul(matmul(xT, g), xT) + matmul(matmul(columns, gT), matmul(x, xT)) + matmul(matmul(xT, x), matmul(gT, rows))
}

/// The change of `a`'s pseudo-inverse `inverse` for a change `da` of `a`:
/// `dX = −X·dA·X + X·Xᵀ·dAᵀ·(I − A·X) + (I − X·A)·dAᵀ·Xᵀ·X`.
func pseudoInverseTangent(_ a: Variable, inverse x: Variable, _ da: Variable, at location: SourceLocation) throws -> Variable {
    let xT = try x.matrixTranspose, daT = try da.matrixTranspose
    let (columns, rows) = try complementProjections(a, inverse: x, at: location)
    return try -matmul(matmul(x, da), x) + matmul(matmul(x, xT), matmul(daT, columns)) + matmul(matmul(rows, daT), matmul(xT, x))
}

/// The Moore–Penrose pseudo-inverse of each matrix of `a` (NumPy's `linalg.pinv`):
/// singular values at most `rcond` times the largest count as zero.
public func pinv(_ a: Variable, rcond: Double = 1e-15, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try PseudoInverse(relativeCutoff: rcond)(a, at: SourceLocation.resolve(fileID: fileID, line: line))
}
