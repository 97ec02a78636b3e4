import TheanoCore

// A sparse matrix's stored values as a dense vector, and back: every structured operation on
// the values (Theano's `structured_sigmoid`, `structured_exp`, `structured_pow`, `structured_add`,
// sparse × scalar) is a dense operation on that vector, whose gradient comes with it.

/// The stored values of a sparse matrix, as a dense vector in storage order. Linear.
public struct SparseValues: DifferentiableOp, ForwardDifferentiableOp, SparseOp {
    package init() {}

    public var description: String { "sparse_values" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs[0].isSparse else { throw OpError("expects a sparse matrix") }
        return [TensorType(inputs[0].dtype, shape: [nil])]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] { [try sparseOperand(inputs[0]).data] }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        [try outputGradients[0].map { try SparseWithValues()([node.inputs[0], $0], at: node.location) }]
    }

    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        try linearPushforward(node, inputTangents: inputTangents, linear: [0])
    }
}

/// A sparse matrix with the structure of another (whose values are not read) and the given
/// values, one per stored position in storage order. Linear in the values.
public struct SparseWithValues: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp, SparseOp {
    package init() {}

    public var description: String { "sparse_with_values" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (pattern, values) = (inputs[0], inputs[1])
        guard pattern.isSparse, !values.isSparse, values.ndim == 1 else { throw OpError("expects a sparse matrix and a vector of values") }
        return [TensorType(values.dtype, shape: pattern.shape, format: pattern.format)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let pattern = try sparseOperand(inputs[0]), values = inputs[1]
        guard values.count == pattern.storedCount else {
            throw OpError("\(values.count) values for a sparse matrix storing \(pattern.storedCount)")
        }
        return [NDArray(sparse: pattern.withData(values))]
    }

    public func isConnected(toInput index: Int) -> Bool { index == 1 }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        [nil, try outputGradients[0].map { try SparseValues()($0, at: node.location) }]
    }

    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        try linearPushforward(node, inputTangents: inputTangents, linear: [1])
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { [inputShapes[0]] }
}

/// The row (`axis` 0) or column (`axis` 1) of each stored value of a sparse matrix, as an
/// int64 vector in storage order. Positions do not change with the values: no gradient.
public struct StoredPositions: DifferentiableOp, ForwardDifferentiableOp, SparseOp {
    public let axis: Int

    package init(axis: Int) { self.axis = axis }

    public var description: String { "stored_\(axis == 0 ? "rows" : "columns")" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs[0].isSparse, axis == 0 || axis == 1 else { throw OpError("expects a sparse matrix and axis 0 or 1") }
        return [TensorType(.int64, shape: [nil])]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let matrix = try sparseOperand(inputs[0])
        // The minor axis is stored per value; the major one is the line each value lies on.
        if (axis == 1) == (matrix.format == .csr) { return [NDArray(matrix.indices.map(Int64.init))] }
        var lines: [Int64] = []
        lines.reserveCapacity(matrix.storedCount)
        for line in 0..<matrix.majorMinor.major {
            lines += repeatElement(Int64(line), count: matrix.indptr[line + 1] - matrix.indptr[line])
        }
        return [NDArray(lines)]
    }

    public func isConnected(toInput index: Int) -> Bool { false }
    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] { [nil] }
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] { [nil] }
}

/// `f` applied to the stored values of the sparse matrix `s`, the structure kept: the
/// structured operations of Theano (`structured(s) { try sigmoid($0) }`). Positions not stored
/// stay unstored whatever `f(0)` is. Its gradient is `f`'s at the stored values.
public func structured(_ s: Variable, fileID: String = #fileID, line: Int = #line,
                       _ f: (Variable) throws -> Variable) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    guard s.isSparse else {
        throw TheanoError.invalidArgument(function: "structured", reason: "expects a sparse matrix, not \(s.type)", location: location)
    }
    return try SourceLocation.attributing(to: location) {
        let values = try f(SparseValues()(s, at: location))
        guard values.ndim == 1 else {
            throw TheanoError.invalidArgument(function: "structured", reason: "the function must give one value per stored value", location: location)
        }
        return try SparseWithValues()([s, values], at: location)
    }
}

/// The logistic sigmoid of each stored value (Theano's `structured_sigmoid`).
public func structuredSigmoid(_ s: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try structured(s, fileID: fileID, line: line) { try sigmoid($0) }
}

/// `exp` of each stored value (Theano's `structured_exp`).
public func structuredExp(_ s: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try structured(s, fileID: fileID, line: line) { try exp($0) }
}

/// Each stored value to the power `p` (Theano's `structured_pow`).
public func structuredPow(_ s: Variable, _ p: Double, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try structured(s, fileID: fileID, line: line) { try pow($0, p) }
}

/// Each stored value times `c` (a sparse matrix times a scalar).
public func structuredScale(_ s: Variable, by c: Double, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try structured(s, fileID: fileID, line: line) { try $0 * c }
}

/// `row[j]` added to each stored value of column `j` (Theano's `structured_add_s_v`).
public func structuredAdd(_ s: Variable, row: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    guard row.ndim == 1, !row.isSparse else {
        throw TheanoError.invalidArgument(function: "structuredAdd", reason: "adds a dense vector, not \(row.type)", location: location)
    }
    return try structured(s, fileID: fileID, line: line) { values in
        try values + subtensor(row, [.tensor(StoredPositions(axis: 1)(s, at: location))], at: location)
    }
}

/// The elementwise product of the sparse matrix `s` and `other` — a 0-d tensor, or a matrix of
/// its shape, dense or sparse — at the positions `s` stores (Theano's `mul` of a sparse matrix:
/// elsewhere the product is zero, so the structure is `s`'s). Gradients are structured. `*`
/// with a sparse operand comes here.
package func sparseProduct(_ s: Variable, _ other: Variable, at location: SourceLocation) throws -> Variable {
    guard s.isSparse, other.ndim == 0 || other.ndim == 2 else {
        throw TheanoError.invalidArgument(function: "mul", reason: "multiplies a sparse matrix by a scalar or a matrix of its shape, not \(other.type)",
                                          location: location)
    }
    return try SourceLocation.attributing(to: location) {
        let factors = other.ndim == 0 ? other : try SparseValues()(SampleAtStructure()([s, other], at: location), at: location)
        return try structured(s) { values in try values * factors }
    }
}
