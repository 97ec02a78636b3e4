import TheanoCore

/// `x = A⁻¹·b` for each matrix `A` given by its Cholesky factor (lower `L` with `A = L·Lᵀ`,
/// or upper `U` with `A = Uᵀ·U`; only that triangle is read) and the matching matrix `b`
/// (LAPACK `potrs`): two triangular solves reusing one factorization.
public struct CholeskySolve: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    public let lower: Bool

    package init(lower: Bool) { self.lower = lower }

    public var description: String { lower ? "cho_solve" : "cho_solve(upper)" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] { try solveTypes(inputs) }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let lapack = try LAPACK.required(by: "a Cholesky solve")
        return [try solveEach(inputs) { factor, b in try factor.choleskySolve(b, lower: lower, using: lapack) }]
    }

    /// With `G = −b̄·xᵀ` the gradient with respect to `A`: `L̄ = tril((G + Gᵀ)·L)`, or
    /// `Ū = triu(U·(G + Gᵀ))`.
    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return [nil, nil] }
        let factor = try readFactor(node)
        let bBar = try self([factor, g], at: node.location)
        let aBar = try -matmul(bBar, node.output(0).matrixTranspose)
        let symmetric = try aBar + aBar.matrixTranspose
        let factorBar = lower ? try tril(matmul(symmetric, factor)) : try triu(matmul(factor, symmetric))
        return [factorBar, bBar]
    }

    /// `dx = A⁻¹·(db − dA·x)` with `dA = dL·Lᵀ + L·dLᵀ` (or `dUᵀ·U + Uᵀ·dU`).
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        var change = inputTangents[1]
        if let tangent = inputTangents[0] {
            let factor = try readFactor(node)
            let dFactor = lower ? try tril(tangent) : try triu(tangent)
            let product = lower ? try matmul(dFactor, factor.matrixTranspose) : try matmul(dFactor.matrixTranspose, factor)
            change = try change.adding(-matmul(product + product.matrixTranspose, node.output(0)))
        }
        return [try change.map { try self([node.inputs[0], $0], at: node.location) }]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { [inputShapes[1]] }

    /// The triangle of the factor input that the solve reads.
    private func readFactor(_ node: Apply) throws -> Variable {
        lower ? try tril(node.inputs[0]) : try triu(node.inputs[0])
    }
}

/// `x` with `A·x = b`, where `factor` is the Cholesky factor of each matrix `A` of a stack
/// (SciPy's `cho_solve((factor, lower), b)`): lower (`A = L·Lᵀ`) or upper (`A = Uᵀ·U`).
/// `b` is a stack of matrices, or of vectors.
public func choSolve(_ factor: Variable, _ b: Variable, lower: Bool = true, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    return try solvingVectorsAsColumns(factor, b, function: "choSolve", at: location) {
        try CholeskySolve(lower: lower)([factor, $0], at: location)
    }
}
