import TheanoCore

/// What a solve may assume of its matrix (SciPy's `assume_a`).
public enum MatrixStructure: String, Hashable, Sendable {
    /// Any nonsingular square matrix: an LU factorization with partial pivoting.
    case general
    /// Symmetric, read from one triangle.
    case symmetric
    /// Symmetric positive definite, read from one triangle: a Cholesky factorization.
    case positiveDefinite
    /// Lower triangular: only the lower triangle is read.
    case lowerTriangular
    /// Upper triangular: only the upper triangle is read.
    case upperTriangular
}

/// `x = A⁻¹·b` for each square matrix `A` of a stack and the matching matrix `b`: general
/// (LAPACK `getrf`/`getrs`), symmetric (the symmetric matrix read from one triangle) or
/// positive definite (`potrf`/`potrs`). Throws when a matrix is singular or, when assumed
/// positive definite, is not. Triangular solves are ``SolveTriangular``.
public struct Solve: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    public let structure: MatrixStructure
    /// Which triangle a symmetric matrix is read from.
    public let lower: Bool

    package init(structure: MatrixStructure, lower: Bool) {
        precondition(structure == .general || structure == .symmetric || structure == .positiveDefinite)
        (self.structure, self.lower) = (structure, structure == .general ? false : lower)
    }

    public var description: String {
        structure == .general ? "solve" : "solve(\(structure.rawValue), \(lower ? "lower" : "upper"))"
    }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] { try solveTypes(inputs) }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let lapack = try LAPACK.required(by: "a linear solve")
        return [try solveEach(inputs) { a, b in
            switch structure {
            case .positiveDefinite: try a.choleskyFactor(lower: lower, using: lapack).choleskySolve(b, lower: lower, using: lapack)
            case .symmetric: try a.symmetrized(fromLower: lower).solve(b, using: lapack)
            default: try a.solve(b, using: lapack)
            }
        }]
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return [nil, nil] }
        let a = node.inputs[0]
        // The symmetric matrices are their own transposes; a general one is transposed.
        let bBar = try self([structure == .general ? a.matrixTranspose : a, g], at: node.location)
        let x = node.output(0)
        if structure != .general { return [try gradientOfSymmetricRead(negatedOuterProductOf: bBar, x, lower: lower), bBar] }
        return [try -matmul(bBar, x.matrixTranspose), bBar]
    }

    /// `dx = A⁻¹·(db − dA·x)` with `dA` the change of the matrix read.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        var change = inputTangents[1]
        if let da = inputTangents[0] {
            let read = structure == .general ? da : try symmetricRead(da, lower: lower)
            change = try change.adding(-matmul(read, node.output(0)))
        }
        return [try change.map { try self([node.inputs[0], $0], at: node.location) }]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { [inputShapes[1]] }
}

/// `x` with `a·x = b` for each square matrix `a` of a stack (SciPy's `solve`), assuming
/// what `assume` says of `a`: a symmetric or positive-definite matrix is read from its
/// `lower` triangle (upper by default, as SciPy), a triangular one from its triangle. `b`
/// is a stack of matrices, or of vectors (one dimension fewer than `a`). Throws when the
/// function runs if a matrix is singular (or not positive definite when assumed so).
public func solve(_ a: Variable, _ b: Variable, assume structure: MatrixStructure = .general, lower: Bool = false,
                  fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    return try solvingVectorsAsColumns(a, b, function: "solve", at: location) { b in
        switch structure {
        case .lowerTriangular, .upperTriangular:
            try SolveTriangular(lower: structure == .lowerTriangular, transposed: false, unitDiagonal: false)([a, b], at: location)
        default:
            try Solve(structure: structure, lower: lower)([a, b], at: location)
        }
    }
}
