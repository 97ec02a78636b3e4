import TheanoCore

/// The diagonal `offset` of each matrix of a stack (the last two axes): element `i` is
/// `x[..., i + max(0, -offset), i + max(0, offset)]`. Linear; its gradient puts the
/// gradient back on the diagonal (``EmbedDiagonal``).
public struct ExtractDiagonal: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    public let offset: Int

    package init(offset: Int) { self.offset = offset }

    public var description: String { "diagonal(offset=\(offset))" }

    /// The length of the diagonal of a `rows`×`columns` matrix.
    func length(rows: Int, columns: Int) -> Int {
        Swift.max(0, offset >= 0 ? Swift.min(rows, columns - offset) : Swift.min(rows + offset, columns))
    }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (batch, rows, columns) = try inputs[0].matrixStack()
        let size = rows.flatMap { rows in columns.map { length(rows: rows, columns: $0) } }
        return [TensorType(inputs[0].dtype, shape: batch + [size])]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let x = inputs[0]
        let (rows, columns) = (x.shape[x.ndim - 2], x.shape[x.ndim - 1])
        let count = length(rows: rows, columns: columns)
        // A strided view: one step along the diagonal moves one row and one column.
        let start = x.offset + Swift.max(0, -offset) * x.strides[x.ndim - 2] + Swift.max(0, offset) * x.strides[x.ndim - 1]
        let view = NDArray(dtype: x.dtype, shape: Array(x.shape.dropLast(2)) + [count],
                           strides: Array(x.strides.dropLast(2)) + [x.strides[x.ndim - 2] + x.strides[x.ndim - 1]],
                           offset: count == 0 ? x.offset : start, storage: x.storage)
        return [view.contiguousCopy()]
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return [nil] }
        let sizes = try node.inputs[0].dimensionSizes()
        let input = node.inputs[0]
        return [try EmbedDiagonal(offset: offset, staticSizes: Array(input.staticShape.suffix(2)))(
            [g, sizes[sizes.count - 2], sizes[sizes.count - 1]], at: node.location)]
    }

    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        try linearPushforward(node, inputTangents: inputTangents, linear: [0])
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        let sizes = inputShapes[0]
        let (rows, columns) = (sizes[sizes.count - 2], sizes[sizes.count - 1])
        let longest = offset >= 0 ? try minimum(rows, columns - offset) : try minimum(rows + offset, columns)
        let zero = Constant(NDArray(scalar: Int64(0)), location: node.location)
        return [Array(sizes.dropLast(2)) + [try maximum(longest, zero)]]
    }
}

/// Matrices of `rows`×`columns` zeros with the vectors of a stack on their diagonal
/// `offset` (inputs: the vectors, then the two sizes as int64 scalars). The inverse of
/// ``ExtractDiagonal`` on the diagonal, and its gradient; linear in the vectors.
/// `staticSizes` are the sizes when known as the graph is built.
public struct EmbedDiagonal: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    public let offset: Int
    public let staticSizes: [Int?]

    package init(offset: Int, staticSizes: [Int?] = [nil, nil]) { (self.offset, self.staticSizes) = (offset, staticSizes) }

    public var description: String { "embed_diagonal(offset=\(offset))" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs[0].ndim >= 1, inputs[1].ndim == 0, inputs[2].ndim == 0, inputs[1].dtype.isInteger, inputs[2].dtype.isInteger else {
            throw OpError("expects vectors and two integer sizes")
        }
        return [TensorType(inputs[0].dtype, shape: Array(inputs[0].shape.dropLast()) + staticSizes)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let vectors = inputs[0]
        let (rows, columns) = (Int(inputs[1].scalar(as: Int64.self)), Int(inputs[2].scalar(as: Int64.self)))
        let diagonal = ExtractDiagonal(offset: offset)
        guard rows >= 0, columns >= 0, diagonal.length(rows: rows, columns: columns) == vectors.shape.last!,
              zip(staticSizes, [rows, columns]).allSatisfy({ $0 == nil || $0 == $1 }) else {
            throw OpError("a diagonal of \(vectors.shape.last!) elements does not fit diagonal \(offset) of a \(rows)×\(columns) matrix")
        }
        let out = NDArray(zeros: Array(vectors.shape.dropLast()) + [rows, columns], dtype: vectors.dtype)
        // Write through a diagonal view of the output.
        let start = Swift.max(0, -offset) * out.strides[out.ndim - 2] + Swift.max(0, offset) * out.strides[out.ndim - 1]
        let view = NDArray(dtype: out.dtype, shape: vectors.shape,
                           strides: Array(out.strides.dropLast(2)) + [out.strides[out.ndim - 2] + out.strides[out.ndim - 1]],
                           offset: vectors.count == 0 ? 0 : start, storage: out.storage)
        view.assign(from: vectors)
        return [out]
    }

    public func isConnected(toInput index: Int) -> Bool { index == 0 }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        [try outputGradients[0].map { try ExtractDiagonal(offset: offset)($0, at: node.location) }, nil, nil]
    }

    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        try linearPushforward(node, inputTangents: inputTangents, linear: [0])
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        [Array(inputShapes[0].dropLast()) + [node.inputs[1], node.inputs[2]]]
    }
}

/// The diagonal `offset` of `x` between `axis1` and `axis2`, as a last axis after the
/// others (NumPy's `diagonal`).
public func diagonal(_ x: Variable, offset: Int = 0, axis1: Int = 0, axis2: Int = 1,
                     fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    guard x.ndim >= 2 else {
        throw TheanoError.invalidArgument(function: "diagonal", reason: "needs at least 2 dimensions, not \(x.ndim)", location: location)
    }
    let first = axis1 < 0 ? axis1 + x.ndim : axis1, second = axis2 < 0 ? axis2 + x.ndim : axis2
    guard (0..<x.ndim).contains(first), (0..<x.ndim).contains(second), first != second else {
        throw TheanoError.invalidArgument(function: "diagonal", reason: "axes \(axis1) and \(axis2) are not two distinct axes of a \(x.ndim)-d tensor", location: location)
    }
    let rest = (0..<x.ndim).filter { $0 != first && $0 != second }
    return try SourceLocation.attributing(to: location) {
        try ExtractDiagonal(offset: offset)(x.transpose(rest + [first, second]), at: location)
    }
}

/// NumPy's `diag`: the matrix with vector `x` on its diagonal `k` (zeros elsewhere), or
/// the diagonal `k` of matrix `x`.
public func diag(_ x: Variable, k: Int = 0, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    switch x.ndim {
    case 1:
        return try SourceLocation.attributing(to: location) {
            let size = try x.dimensionSizes()[0] + Swift.abs(k)
            let staticSize = x.staticShape[0].map { $0 + Swift.abs(k) }
            return try EmbedDiagonal(offset: k, staticSizes: [staticSize, staticSize])([x, size, size], at: location)
        }
    case 2:
        return try ExtractDiagonal(offset: k)(x, at: location)
    default:
        throw TheanoError.invalidArgument(function: "diag", reason: "takes a vector or a matrix, not a \(x.ndim)-d tensor", location: location)
    }
}

/// The sum of the diagonal `offset` of `x` between `axis1` and `axis2` (NumPy's `trace`).
public func trace(_ x: Variable, offset: Int = 0, axis1: Int = 0, axis2: Int = 1,
                  fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try sum(diagonal(x, offset: offset, axis1: axis1, axis2: axis2, fileID: fileID, line: line), axis: -1,
            fileID: fileID, line: line)
}
