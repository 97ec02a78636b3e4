import TheanoCore

/// `x = A⁻¹·b` (or `A⁻ᵀ·b` when `transposed`) for each triangular matrix `A` of a stack and
/// the matching matrix `b`, reading only `A`'s lower (or upper) triangle, its diagonal taken
/// as ones when `unitDiagonal` (LAPACK `trtrs`). Throws when a matrix is singular.
public struct SolveTriangular: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    public let lower: Bool, transposed: Bool, unitDiagonal: Bool

    package init(lower: Bool, transposed: Bool, unitDiagonal: Bool) {
        (self.lower, self.transposed, self.unitDiagonal) = (lower, transposed, unitDiagonal)
    }

    public var description: String {
        "solve_triangular(\(lower ? "lower" : "upper")\(transposed ? ", transposed" : "")\(unitDiagonal ? ", unit diagonal" : ""))"
    }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        try solveTypes(inputs)
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let lapack = try LAPACK.required(by: "a triangular solve")
        return [try solveEach(inputs) { a, b in
            try a.solveTriangular(b, lower: lower, transposed: transposed, unitDiagonal: unitDiagonal, using: lapack)
        }]
    }

    /// The part of a matrix this op reads.
    func readPart(_ x: Variable) throws -> Variable {
        let k = unitDiagonal ? (lower ? -1 : 1) : 0
        return lower ? try tril(x, k: k) : try triu(x, k: k)
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return [nil, nil] }
        let (a, x) = (node.inputs[0], node.output(0))
        let bBar = try SolveTriangular(lower: lower, transposed: !transposed, unitDiagonal: unitDiagonal)([a, g], at: node.location)
        let aBar = transposed ? try matmul(x, bBar.matrixTranspose) : try matmul(bBar, x.matrixTranspose)
        return [try readPart(-aBar), bBar]
    }

    /// `dx = A⁻¹·(db − dA·x)` with `dA` the change of the part read.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        var change = inputTangents[1]
        if let da = inputTangents[0] {
            let read = try readPart(da)
            change = try change.adding(-matmul(transposed ? read.matrixTranspose : read, node.output(0)))
        }
        return [try change.map { try self([node.inputs[0], $0], at: node.location) }]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { [inputShapes[1]] }
}

// MARK: - What the solves share

extension Op {
    /// The type of `x` in `A·x = b` for a stack of square matrices `A` and a stack of
    /// matrices `b` with the same batch shape.
    func solveTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        _ = try inputs[0].matrixStack(square: true)
        return [TensorType(try rightHandSidesDType(inputs[0], inputs[1]), shape: inputs[1].shape)]
    }

    /// The dtype of `x` in `A·x ≈ b` for stacks of matrices `a` and `b` with the same batch
    /// shape and as many rows; throws unless they have them.
    func rightHandSidesDType(_ a: TensorType, _ b: TensorType) throws -> DType {
        let (batchA, rows, _) = try a.matrixStack()
        let (batchB, rowsB, _) = try b.matrixStack()
        guard batchA.count == batchB.count else {
            throw OpError("a stack of \(batchA.count)-d batches of matrices and one of \(batchB.count)-d batches")
        }
        for (x, y) in zip(batchA + [rows], batchB + [rowsB]) {
            if let x, let y, x != y { throw OpError("\(a) and \(b) do not match: dimension sizes \(x) and \(y)") }
        }
        return DType.promote(matrixAlgebraDType(a.dtype), matrixAlgebraDType(b.dtype))
    }

    /// `solve(A, b)` for each pair of matrices of the stacks `inputs[0]` and `inputs[1]`.
    func solveEach(_ inputs: [NDArray], _ solve: (DenseMatrix, DenseMatrix) throws -> DenseMatrix) throws -> NDArray {
        let (a, b) = (inputs[0], inputs[1])
        try checkSquare(a)
        guard a.shape.dropLast() == b.shape.dropLast() else {
            throw OpError("cannot solve with matrices of shape \(shapeText(a.shape)) for right-hand sides of shape \(shapeText(b.shape))")
        }
        let (matrices, sides) = (MatrixStack(a), MatrixStack(b))
        let solutions = try (0..<matrices.count).map { try solve(matrices.matrix($0), sides.matrix($0)) }
        let dtype = DType.promote(matrixAlgebraDType(a.dtype), matrixAlgebraDType(b.dtype))
        return NDArray(matrices: solutions, batchShape: sides.batchShape, rows: sides.rows, columns: sides.columns, dtype: dtype)
    }
}

/// Applies a solve to right-hand sides `b` that are vectors (`b` has one dimension fewer
/// than `a`) by solving for them as one-column matrices; matrices go straight through.
package func solvingVectorsAsColumns(_ a: Variable, _ b: Variable, function: String, at location: SourceLocation,
                                     _ solve: (Variable) throws -> Variable) throws -> Variable {
    guard a.ndim >= 2, b.ndim == a.ndim || b.ndim == a.ndim - 1 else {
        throw TheanoError.typeMismatch(op: function, inputs: [a.type, b.type],
                                       reason: "a must be a stack of square matrices and b a stack of matrices or vectors of the same batch", location: location)
    }
    return try SourceLocation.attributing(to: location) {
        if b.ndim == a.ndim { return try solve(b) }
        return try squeeze(solve(expandDims(b, axis: b.ndim)), axis: Axes([b.ndim]))
    }
}

/// `x` with `a·x = b` for each triangular matrix `a` of a stack (SciPy's `solve_triangular`):
/// only the `lower` (or upper) triangle of `a` is read, its diagonal taken as ones when
/// `unitDiagonal`; `transposed` solves `aᵀ·x = b`. `b` is a stack of matrices, or of vectors
/// (one dimension fewer than `a`). Throws when the function runs if a matrix is singular.
public func solveTriangular(_ a: Variable, _ b: Variable, lower: Bool = false, transposed: Bool = false, unitDiagonal: Bool = false,
                            fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    return try solvingVectorsAsColumns(a, b, function: "solveTriangular", at: location) {
        try SolveTriangular(lower: lower, transposed: transposed, unitDiagonal: unitDiagonal)([a, $0], at: location)
    }
}
