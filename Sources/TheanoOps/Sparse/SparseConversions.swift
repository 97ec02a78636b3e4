import TheanoCore

// Sparse matrices in the graph: inputs, and the conversions from and to dense matrices.

/// A free input variable holding sparse matrices of `format` (`.csr` or `.csc`), `dtype`
/// and static shape `shape` (two sizes, each known or `nil`).
public func sparseMatrix(_ name: String? = nil, format: StorageFormat = .csr, dtype: DType = .defaultFloat, shape: [Int?] = [nil, nil],
                         fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    guard format != .dense, shape.count == 2 else {
        throw TheanoError.invalidArgument(function: "sparseMatrix", reason: "a sparse matrix is CSR or CSC, with two sizes", location: location)
    }
    return Variable(type: TensorType(dtype, shape: shape, format: format), name: name, location: location)
}

/// The stored values of a dense matrix as a sparse one: its nonzero elements (``SparseMatrix/init(dense:format:)``).
///
/// Its gradient takes the sparse gradient back to a dense matrix (zeros where nothing is
/// stored); its tangent is the change sampled at the stored positions.
public struct DenseToSparse: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp, SparseOp {
    public let format: StorageFormat

    package init(format: StorageFormat) { self.format = format }

    public var description: String { "\(format)_from_dense" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs[0].ndim == 2, !inputs[0].isSparse else { throw OpError("expects a dense matrix") }
        return [TensorType(inputs[0].dtype, shape: inputs[0].shape, format: format)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        [NDArray(sparse: try SparseMatrix(dense: inputs[0], format: format))]
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        [try outputGradients[0].map { try SparseToDense()($0, at: node.location) }]
    }

    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        [try inputTangents[0].map { try SampleAtStructure()([node.output(0), $0], at: node.location) }]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { inputShapes }
}

/// The dense matrix a sparse one stands for (zeros where nothing is stored).
///
/// Its gradient is *structured*, as Theano's: the dense gradient sampled at the stored
/// positions only (``SampleAtStructure``), so a sparse variable's gradient keeps its
/// structure.
public struct SparseToDense: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp, SparseOp {
    package init() {}

    public var description: String { "dense_from_sparse" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs[0].isSparse else { throw OpError("expects a sparse matrix") }
        return [TensorType(inputs[0].dtype, shape: inputs[0].shape)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] { [try sparseOperand(inputs[0]).dense()] }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        [try outputGradients[0].map { try SampleAtStructure()([node.inputs[0], $0], at: node.location) }]
    }

    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        try linearPushforward(node, inputTangents: inputTangents, linear: [0])
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { inputShapes }
}

/// The values of a matrix at the positions a sparse matrix stores, as a sparse matrix of that
/// structure (inputs: the sparse matrix, whose values are not read, and the matrix sampled):
/// Theano's `sp_ones_like(s) * g`. The matrix sampled may be sparse too (zero where it stores
/// nothing). Linear in the matrix sampled.
public struct SampleAtStructure: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp, SparseOp {
    package init() {}

    public var description: String { "sample_at_structure" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (pattern, sampled) = (inputs[0], inputs[1])
        guard pattern.isSparse, sampled.ndim == 2 else { throw OpError("expects a sparse matrix and a matrix") }
        for (x, y) in zip(pattern.shape, sampled.shape) { if let x, let y, x != y { throw OpError("sizes \(x) and \(y) differ") } }
        return [TensorType(sampled.dtype, shape: zip(pattern.shape, sampled.shape).map { $0 ?? $1 }, format: pattern.format)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let pattern = try sparseOperand(inputs[0]), dense = inputs[1]
        guard dense.shape == pattern.shape else {
            throw OpError("a matrix of shape \(shapeText(dense.shape)) against a sparse one of shape \(shapeText(pattern.shape))")
        }
        if let sparse = dense.sparse { return [NDArray(sparse: pattern.withData(try sparse.values(at: pattern)))] }
        let values = (pattern.format == .csr ? dense : dense.transposed()).contiguous()
        let minor = pattern.majorMinor.minor
        var positions: [Int] = []
        positions.reserveCapacity(pattern.storedCount)
        for line in 0..<pattern.majorMinor.major {
            for entry in pattern.indptr[line]..<pattern.indptr[line + 1] { positions.append(line * minor + pattern.indices[entry]) }
        }
        let data = values.reshaped([values.count]).gathered(positions)
        return [NDArray(sparse: pattern.withData(data))]
    }

    public func isConnected(toInput index: Int) -> Bool { index == 1 }

    /// The gradient sampled is the sum's at the stored positions: dense for a dense matrix, at
    /// its own structure for a sparse one.
    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return [nil, nil] }
        let sampled = node.inputs[1]
        return [nil, sampled.isSparse ? try self([sampled, g], at: node.location) : try SparseToDense()(g, at: node.location)]
    }

    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        try linearPushforward(node, inputTangents: inputTangents, linear: [1])
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { [inputShapes[1]] }
}

extension SparseMatrix {
    /// This matrix's values at the positions `pattern` stores (of this shape), in `pattern`'s
    /// storage order: zero where this matrix stores nothing, the sum where it stores a
    /// position twice.
    func values(at pattern: SparseMatrix) throws -> NDArray {
        let matching = try converted(to: pattern.format)
        let stored = matching.data.cast(to: .float64).elements(as: Double.self)
        var line = [Double](repeating: 0, count: pattern.majorMinor.minor), result: [Double] = []
        result.reserveCapacity(pattern.storedCount)
        for major in 0..<pattern.majorMinor.major {
            let entries = matching.indptr[major]..<matching.indptr[major + 1]
            for entry in entries { line[matching.indices[entry]] += stored[entry] }
            for entry in pattern.indptr[major]..<pattern.indptr[major + 1] { result.append(line[pattern.indices[entry]]) }
            for entry in entries { line[matching.indices[entry]] = 0 }
        }
        return NDArray(result, shape: [result.count]).cast(to: dtype)
    }
}

/// A sparse matrix stored in the other format (CSR as CSC, or back), the same matrix.
public struct ChangeSparseFormat: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp, SparseOp {
    public let format: StorageFormat

    package init(format: StorageFormat) { self.format = format }

    public var description: String { "to_\(format)" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs[0].isSparse, format != .dense else { throw OpError("converts sparse matrices between CSR and CSC") }
        return [TensorType(inputs[0].dtype, shape: inputs[0].shape, format: format)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] { [NDArray(sparse: try sparseOperand(inputs[0]).converted(to: format))] }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        [try outputGradients[0].map { try ChangeSparseFormat(format: node.inputs[0].type.format)($0, at: node.location) }]
    }

    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        try linearPushforward(node, inputTangents: inputTangents, linear: [0])
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { inputShapes }
}

/// The sparse matrix a value stands for; throws (an internal error) when it is dense.
package func sparseOperand(_ value: NDArray) throws -> SparseMatrix {
    guard let sparse = value.sparse else { throw OpError("expects a sparse matrix value, got a dense array") }
    return sparse
}

/// The nonzero elements of the dense matrix `x` as a sparse matrix of `format` (Theano's
/// `csr_from_dense`). A sparse `x` is converted to `format` (returned as is when it has it).
public func toSparse(_ x: Variable, format: StorageFormat = .csr, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    if x.type.format == format { return x }
    if x.isSparse { return try ChangeSparseFormat(format: format)(x, at: location) }
    return try DenseToSparse(format: format)(x, at: location)
}

/// The dense matrix the sparse matrix `x` stands for (Theano's `dense_from_sparse`); a dense
/// `x` as is.
public func toDense(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    x.isSparse ? try SparseToDense()(x, at: SourceLocation.resolve(fileID: fileID, line: line)) : x
}

extension Variable {
    /// Whether the variable holds sparse matrices.
    public var isSparse: Bool { type.isSparse }
}
