import TheanoCore

/// Matrix products of matching pairs in two stacks of matrices:
/// `result[i] = a[i] · b[i]` for `a` of shape (batch, m, k) and `b` of shape (batch, k, n).
public struct BatchedDot: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    package init() {}

    public var description: String { "batched_dot" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (a, b) = (inputs[0], inputs[1])
        guard a.ndim == 3, b.ndim == 3, a.dtype == b.dtype, a.dtype != .bool else {
            throw OpError("operands must be 3-d tensors of one numeric dtype")
        }
        if let x = a.shape[0], let y = b.shape[0], x != y { throw OpError("batch sizes \(x) and \(y) differ") }
        if let x = a.shape[2], let y = b.shape[1], x != y { throw OpError("inner dimensions \(x) and \(y) differ") }
        return [TensorType(a.dtype, shape: [a.shape[0] ?? b.shape[0], a.shape[1], b.shape[2]])]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let (a, b) = (inputs[0], inputs[1])
        guard a.shape[0] == b.shape[0], a.shape[2] == b.shape[1] else {
            throw OpError("cannot multiply stacks of shapes \(shapeText(a.shape)) and \(shapeText(b.shape))")
        }
        let out = NDArray(uninitialized: [a.shape[0], a.shape[1], b.shape[2]], dtype: a.dtype)
        for i in 0..<a.shape[0] {
            out.indexed(axis: 0, at: i).assign(from: a.indexed(axis: 0, at: i).matrixProduct(b.indexed(axis: 0, at: i)))
        }
        return [out]
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        let (a, b) = (node.inputs[0], node.inputs[1])
        guard let g = outputGradients[0], a.dtype.isFloat else { return [nil, nil] }
        return [try batchedDot(g, b.dimshuffle(0, 2, 1)), try batchedDot(a.dimshuffle(0, 2, 1), g)]
    }

    /// `batchedDot(ta, b) + batchedDot(a, tb)`.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        [try productRule(node.inputs, tangents: inputTangents) { try self($0, at: node.location) }]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        [[inputShapes[0][0], inputShapes[0][1], inputShapes[1][2]]]
    }
}

/// `result[i] = dot(a[i], b[i])` over a leading batch dimension both operands share (Theano's
/// `batched_dot`; NumPy's `einsum` over the batch): each pair of elements is multiplied as
/// ``dot(_:_:fileID:line:)`` multiplies tensors, the last axis of `a[i]` against the
/// second-to-last axis of `b[i]` (its only axis when `b` is a matrix). Both operands have at
/// least 2 dimensions; two matrices give the dot products of their rows, of shape `[batch]`.
/// Every case is one ``BatchedDot`` of stacks of matrices between reshapes. Operands are
/// cast to their common dtype (booleans to `int64`).
public func batchedDot(_ a: Variable, _ b: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    func mismatch(_ reason: String) -> TheanoError {
        .typeMismatch(op: "batchedDot", inputs: [a.type, b.type], reason: reason, location: location)
    }
    guard a.ndim >= 2, b.ndim >= 2 else { throw mismatch("operands need a batch dimension and at least one more") }
    let contracted = Swift.max(1, b.ndim - 2)
    if let x = a.staticShape[0], let y = b.staticShape[0], x != y { throw mismatch("batch sizes \(x) and \(y) differ") }
    if let m = a.staticShape.last!, let n = b.staticShape[contracted], m != n {
        throw mismatch("inner dimensions \(m) and \(n) differ (the last axis of a, axis \(contracted) of b)")
    }
    let common = DType.promote(a.dtype, b.dtype)
    let dtype = common == .bool ? .int64 : common
    let (left, right) = (try cast(a, to: dtype, at: location), try cast(b, to: dtype, at: location))
    if a.ndim == 3 && b.ndim == 3 { return try BatchedDot()([left, right], at: location) }
    return try SourceLocation.attributing(to: location) {
        let sizesA = try a.dimensionSizes(), sizesB = try b.dimensionSizes()
        let one = Constant(NDArray(scalar: Int64(1)), location: location)
        let rowsA = Array(sizesA[1..<(a.ndim - 1)]), freeB = (1..<b.ndim).filter { $0 != contracted }.map { sizesB[$0] }
        // Stacks of (rows × inner) and (inner × columns) matrices: the middle axes of `a` are
        // rows, the contracted axis of `b` moves next to the batch and its other axes are columns.
        let stackA = try reshape(left, sizes: [sizesA[0], sizeProduct([one] + rowsA, at: location), sizesA.last!], at: location)
        let leadingB = try right.transpose([0, contracted] + (1..<b.ndim).filter { $0 != contracted })
        let stackB = try reshape(leadingB, sizes: [sizesB[0], sizesB[contracted], sizeProduct([one] + freeB, at: location)], at: location)
        let batch = a.staticShape[0] == nil ? sizesB[0] : sizesA[0]
        return try reshape(BatchedDot()([stackA, stackB], at: location), sizes: [batch] + rowsA + freeB, at: location)
    }
}

/// The sum of products over `axes.a` of `a` and `axes.b` of `b` (NumPy's `tensordot`): the
/// result has `a`'s other dimensions followed by `b`'s.
public func tensordot(_ a: Variable, _ b: Variable, axes: (a: [Int], b: [Int]),
                      fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    let summedA = try Axes(axes.a).resolved(ndim: a.ndim, function: "tensordot", location: location)
    let summedB = try Axes(axes.b).resolved(ndim: b.ndim, function: "tensordot", location: location)
    // Keep the pairing the caller gave: resolved() sorts, so map through the originals.
    let pairsA = axes.a.map { $0 < 0 ? $0 + a.ndim : $0 }, pairsB = axes.b.map { $0 < 0 ? $0 + b.ndim : $0 }
    guard summedA.count == summedB.count else {
        throw TheanoError.invalidArgument(function: "tensordot", reason: "\(axes.a.count) axes of a paired with \(axes.b.count) of b", location: location)
    }
    for (x, y) in zip(pairsA, pairsB) {
        if let m = a.staticShape[x], let n = b.staticShape[y], m != n {
            throw TheanoError.typeMismatch(op: "tensordot", inputs: [a.type, b.type], reason: "axis \(x) of a (\(m)) and axis \(y) of b (\(n)) differ", location: location)
        }
    }
    return try SourceLocation.attributing(to: location) {
        let freeA = (0..<a.ndim).filter { !summedA.contains($0) }, freeB = (0..<b.ndim).filter { !summedB.contains($0) }
        let sizesA = try a.dimensionSizes(), sizesB = try b.dimensionSizes()
        let one = Constant(NDArray(scalar: Int64(1)), location: location)
        let left = try reshape(a.transpose(freeA + pairsA), sizes: [sizeProduct([one] + freeA.map { sizesA[$0] }, at: location),
                                                                  sizeProduct([one] + pairsA.map { sizesA[$0] }, at: location)], at: location)
        let right = try reshape(b.transpose(pairsB + freeB), sizes: [sizeProduct([one] + pairsB.map { sizesB[$0] }, at: location),
                                                                   sizeProduct([one] + freeB.map { sizesB[$0] }, at: location)], at: location)
        return try reshape(dot(left, right), sizes: freeA.map { sizesA[$0] } + freeB.map { sizesB[$0] }, at: location)
    }
}

/// `tensordot` over the last `axes` dimensions of `a` and the first `axes` of `b`.
public func tensordot(_ a: Variable, _ b: Variable, axes: Int = 2, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try tensordot(a, b, axes: (Array((a.ndim - axes)..<a.ndim), Array(0..<axes)), fileID: fileID, line: line)
}
