import TheanoCore

/// The LU factorization with partial pivoting of each square matrix of a stack, packed as
/// SciPy's `lu_factor` returns it (LAPACK `getrf`): `L` (unit diagonal, not stored) below
/// the diagonal of `lu`, `U` on and above it, and `pivots[i]` the row swapped with row `i`
/// (0-based, int32). A singular matrix factors too (`U` has a zero on its diagonal).
///
/// Not differentiable: the pivots are piecewise constant and the packed factors are an
/// intermediate; differentiate ``solve(_:_:assume:lower:fileID:line:)`` or
/// ``det(_:fileID:line:)`` instead, which the optimizer computes from one factorization.
public struct LUFactor: Op, ShapeInferringOp {
    package init() {}

    public var description: String { "lu_factor" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (batch, rows, _) = try inputs[0].matrixStack(square: true)
        return [TensorType(matrixAlgebraDType(inputs[0].dtype), shape: inputs[0].shape), TensorType(.int32, shape: batch + [rows])]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let lapack = try LAPACK.required(by: "an LU factorization")
        try checkSquare(inputs[0])
        let stack = MatrixStack(inputs[0])
        let results = try stack.matrices.map { try $0.luFactorization(using: lapack) }
        return [NDArray(matrices: results.map(\.lu), batchShape: stack.batchShape, rows: stack.rows, columns: stack.rows,
                        dtype: matrixAlgebraDType(inputs[0].dtype)),
                NDArray(results.flatMap(\.pivots), shape: stack.batchShape + [stack.rows])]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        [inputShapes[0], Array(inputShapes[0].dropLast())]
    }
}

/// `x = A⁻¹·b` (or `A⁻ᵀ·b` when `transposed`) from the packed LU factorization of `A` and
/// its pivots (``LUFactor``), for each matrix of a stack (LAPACK `getrs`). Throws when a
/// factorization is singular (SciPy would return infinities). Not differentiable, like
/// ``LUFactor``.
public struct LUSolve: Op, ShapeInferringOp {
    public let transposed: Bool

    package init(transposed: Bool) { self.transposed = transposed }

    public var description: String { transposed ? "lu_solve(transposed)" : "lu_solve" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs[1].dtype == .int32, inputs[1].ndim == inputs[0].ndim - 1 else {
            throw OpError("expects the int32 pivots of the factorization")
        }
        return try solveTypes([inputs[0], inputs[2]])
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let lapack = try LAPACK.required(by: "an LU solve")
        let pivots = inputs[1].contiguous().elements(as: Int32.self), size = inputs[0].shape.last!
        guard inputs[1].shape == Array(inputs[0].shape.dropLast()), pivots.allSatisfy({ (0..<Int32(size)).contains($0) }) else {
            throw OpError("pivots of shape \(shapeText(inputs[1].shape)) do not belong to factors of shape \(shapeText(inputs[0].shape))")
        }
        var index = 0
        return [try solveEach([inputs[0], inputs[2]]) { lu, b in
            defer { index += 1 }
            if lu.diagonal.contains(0) { throw OpError("the matrix is singular") }
            return try lu.luSolve(pivots: Array(pivots[(index * size)..<((index + 1) * size)]), b, transposed: transposed, using: lapack)
        }]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { [inputShapes[2]] }
}

/// The packed LU factorization of each square matrix of `a` and its pivots (SciPy's
/// `lu_factor`): see ``LUFactor``.
public func luFactor(_ a: Variable, fileID: String = #fileID, line: Int = #line) throws -> (lu: Variable, pivots: Variable) {
    let outputs = try LUFactor().apply([a], at: SourceLocation.resolve(fileID: fileID, line: line)).outputs
    return (outputs[0], outputs[1])
}

/// `x` with `A·x = b` (or `Aᵀ·x = b` when `transposed`) from `luFactor(A)` (SciPy's
/// `lu_solve`); `b` is a stack of matrices or of vectors.
public func luSolve(_ lu: Variable, _ pivots: Variable, _ b: Variable, transposed: Bool = false,
                    fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    return try solvingVectorsAsColumns(lu, b, function: "luSolve", at: location) {
        try LUSolve(transposed: transposed)([lu, pivots, $0], at: location)
    }
}
