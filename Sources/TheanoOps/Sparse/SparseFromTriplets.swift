import TheanoCore

/// The sparse matrix of a static `shape` and `format` whose element `(rows[t], columns[t])`
/// is `values[t]` (inputs: the values, the rows and the columns, vectors of one length):
/// SciPy's `coo_matrix((values, (rows, columns)), shape)` converted to CSR or CSC. Repeated
/// positions add up; a zero given stays stored.
///
/// Its second output is, for each triplet, the stored entry its value went into; the
/// gradient with respect to the values reads the matrix's gradient there. Positions have no
/// gradient.
public struct SparseFromTriplets: DifferentiableOp, ForwardDifferentiableOp, SparseOp {
    public let format: StorageFormat
    public let shape: [Int]

    package init(format: StorageFormat, shape: [Int]) { (self.format, self.shape) = (format, shape) }

    public var description: String { "\(format)_from_triplets\(shape)" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (values, rows, columns) = (inputs[0], inputs[1], inputs[2])
        guard format != .dense, shape.count == 2, shape.allSatisfy({ $0 >= 0 }) else {
            throw OpError("builds a CSR or CSC matrix of two sizes, not \(shape)")
        }
        guard [values, rows, columns].allSatisfy({ $0.ndim == 1 && !$0.isSparse }), rows.dtype.isInteger, columns.dtype.isInteger else {
            throw OpError("expects vectors of values, integer rows and integer columns")
        }
        return [TensorType(values.dtype, shape: shape, format: format), TensorType(.int64, shape: [values.shape[0]])]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let positions = inputs[1...].map { $0.cast(to: .int64).contiguous().elements(as: Int64.self).map(Int.init) }
        let (matrix, entries) = try SparseMatrix.assembling(format: format, shape: shape, rows: positions[0], columns: positions[1], values: inputs[0])
        return [NDArray(sparse: matrix), NDArray(entries.map(Int64.init))]
    }

    public func isConnected(toInput index: Int) -> Bool { index == 0 }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return [nil, nil, nil] }
        let gathered = try SourceLocation.attributing(to: node.location) { try SparseValues()(g, at: node.location)[node.output(1)] }
        return [gathered, nil, nil]
    }

    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        guard let dv = inputTangents[0] else { return [nil, nil] }
        return [try apply([dv] + node.inputs.dropFirst(), at: node.location).output(0), nil]
    }
}

/// The sparse matrix of `shape` whose element `(rows[t], columns[t])` is `values[t]`, stored as
/// `format` (SciPy's `coo_matrix((values, (rows, columns)), shape)`): repeated positions add up.
/// Differentiable in `values`.
///
/// ```swift
/// let s = try sparseFromTriplets(values: v, rows: constant(NDArray([0, 2] as [Int64])), columns: j, shape: [3, 4])
/// ```
public func sparseFromTriplets(values: Variable, rows: Variable, columns: Variable, shape: [Int], format: StorageFormat = .csr,
                               fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try SparseFromTriplets(format: format, shape: shape).apply([values, rows, columns], at: .resolve(fileID: fileID, line: line)).output(0)
}
