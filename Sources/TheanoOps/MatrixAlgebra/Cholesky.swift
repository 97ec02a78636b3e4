import TheanoCore

/// The Cholesky factor of each symmetric positive-definite matrix of a stack, read from
/// one triangle: lower `L` with `A = L·Lᵀ`, or upper `U` with `A = Uᵀ·U` (LAPACK `potrf`).
/// Throws when a matrix is not positive definite.
///
/// Its gradient treats the triangle read as the matrix's free elements (Murray, 2016:
/// `Ā = Φ(S + Sᵀ)` with `S = L⁻ᵀ·Φ(Lᵀ·L̄)·L⁻¹` and `Φ` the lower triangle with its diagonal
/// halved).
public struct Cholesky: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    public let lower: Bool

    package init(lower: Bool) { self.lower = lower }

    public var description: String { lower ? "cholesky" : "cholesky(upper)" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        _ = try inputs[0].matrixStack(square: true)
        return [TensorType(matrixAlgebraDType(inputs[0].dtype), shape: inputs[0].shape)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let lapack = try LAPACK.required(by: "a Cholesky factorization")
        try checkSquare(inputs[0])
        let stack = MatrixStack(inputs[0])
        return [try stack.map(rows: stack.rows, columns: stack.rows, dtype: matrixAlgebraDType(inputs[0].dtype)) {
            try $0.choleskyFactor(lower: lower, using: lapack)
        }]
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return [nil] }
        // Work with the lower factor; an upper one is its transpose.
        let (l, lBar) = lower ? (node.output(0), g) : (try node.output(0).matrixTranspose, try g.matrixTranspose)
        let p = try lowerTriangleHalvingDiagonal(matmul(l.matrixTranspose, lBar))
        let s = try conjugateByInverse(p, factor: l, at: node.location, transposedFirst: true)
        return [try gradientOfSymmetricRead(s, lower: lower)]
    }

    /// `dL = L·Φ(L⁻¹·dA·L⁻ᵀ)`, with `dA` the symmetric change of the triangle read.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        guard let tangent = inputTangents[0] else { return [nil] }
        let l = lower ? node.output(0) : try node.output(0).matrixTranspose
        let change = try symmetricRead(tangent, lower: lower)
        let dl = try matmul(l, lowerTriangleHalvingDiagonal(conjugateByInverse(change, factor: l, at: node.location, transposedFirst: false)))
        return [lower ? dl : try dl.matrixTranspose]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { inputShapes }

    /// `L⁻ᵀ·x·L⁻¹` (`transposedFirst`) or `L⁻¹·x·L⁻ᵀ` for a lower-triangular `L`, by two
    /// triangular solves.
    private func conjugateByInverse(_ x: Variable, factor l: Variable, at location: SourceLocation, transposedFirst: Bool) throws -> Variable {
        let solve = SolveTriangular(lower: true, transposed: transposedFirst, unitDiagonal: false)
        let half = try solve([l, x], at: location)
        return try solve([l, half.matrixTranspose], at: location).matrixTranspose
    }
}

/// The Cholesky factor of each symmetric positive-definite matrix of `a`: lower (`a = L·Lᵀ`,
/// read from `a`'s lower triangle) or, with `lower: false`, upper (`a = Uᵀ·U`, read from the
/// upper triangle), as SciPy's `cholesky`. Throws when the function runs if a matrix is not
/// positive definite. Integer matrices give float64 factors.
public func cholesky(_ a: Variable, lower: Bool = true, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try Cholesky(lower: lower)(a, at: SourceLocation.resolve(fileID: fileID, line: line))
}
