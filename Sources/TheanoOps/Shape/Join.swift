import TheanoCore

/// Tensors of one dtype joined along an existing axis (NumPy's `concatenate`). All other
/// dimensions must agree.
public struct Join: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    /// The axis the tensors are joined along.
    public let axis: Int

    package init(axis: Int) {
        self.axis = axis
    }
    public var description: String { "join{axis=\(axis)}" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let first = inputs[0]
        guard axis < first.ndim, inputs.allSatisfy({ $0.ndim == first.ndim && $0.dtype == first.dtype }) else {
            throw OpError("tensors must share a dtype and a number of dimensions (> \(axis))")
        }
        let shape = try (0..<first.ndim).map { d -> Int? in
            if d == axis { return inputs.reduce(Int?.some(0)) { total, t in total.flatMap { a in t.shape[d].map { a + $0 } } } }
            let known = Set(inputs.compactMap { $0.shape[d] })
            guard known.count <= 1 else { throw OpError("sizes \(known.sorted()) differ in dimension \(d)") }
            return known.first
        }
        return [TensorType(first.dtype, shape: shape)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let first = inputs[0]
        for (position, input) in inputs.enumerated() where !input.shape.indices.allSatisfy({ $0 == axis || input.shape[$0] == first.shape[$0] }) {
            throw OpError("operand \(position) has shape \(shapeText(input.shape)), which differs from operand 0's "
                          + "\(shapeText(first.shape)) outside axis \(axis)")
        }
        var shape = first.shape
        shape[axis] = inputs.reduce(0) { $0 + $1.shape[axis] }
        let out = NDArray(uninitialized: shape, dtype: first.dtype)
        var start = 0
        for input in inputs {
            out.sliced(axis: axis, start: start, count: input.shape[axis], step: 1).assign(from: input)
            start += input.shape[axis]
        }
        return [out]
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0], g.dtype.isFloat else { return node.inputs.map { _ in nil } }
        let sizes = try node.inputs.map { try $0.dimensionSizes()[axis] }
        return try split(g, sizes: sizes, axis: axis, at: node.location)
    }

    /// The tangents joined the same way (zeros for pieces that do not change).
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        try linearPushforward(node, inputTangents: inputTangents, linear: node.inputs.indices)
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        var shape = inputShapes[0]
        shape[axis] = try inputShapes.dropFirst().reduce(inputShapes[0][axis]) { try $0 + $1[axis] }
        return [shape]
    }
}

/// A tensor cut along an axis into consecutive pieces of given sizes. Inputs: the tensor,
/// then one `int64` size per piece (they must add up to the axis's size).
public struct Split: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    /// The axis the tensor is cut along.
    public let axis: Int
    /// Each piece's size along the axis where its size input is a constant, else `nil`: the
    /// pieces' static types keep those sizes (a piece of size 1 stays broadcastable, as the
    /// gradient of a joined size-1 tensor must).
    public let staticSizes: [Int?]

    package init(axis: Int, staticSizes: [Int?]) {
        self.axis = axis
        self.staticSizes = staticSizes
    }
    /// The number of pieces.
    public var count: Int { staticSizes.count }
    public var description: String { "split{axis=\(axis), \(count)}" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let x = inputs[0]
        guard axis < x.ndim else { throw OpError("axis \(axis) out of range") }
        guard inputs.count == count + 1, inputs.dropFirst().allSatisfy({ $0.ndim == 0 && $0.dtype.isInteger }) else {
            throw OpError("expects one integer size per piece")
        }
        let known = staticSizes.compactMap { $0 }
        if let total = x.shape[axis], known.count == count, known.reduce(0, +) != total {
            throw OpError("sizes \(known) do not add up to \(total), the size of axis \(axis)")
        }
        return staticSizes.map { size in
            var piece = x.shape
            piece[axis] = size
            return TensorType(x.dtype, shape: piece)
        }
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let x = inputs[0]
        let sizes = scalarValues(inputs.dropFirst())
        guard sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == x.shape[axis] else {
            throw OpError("sizes \(sizes) do not add up to \(x.shape[axis]), the size of axis \(axis)")
        }
        guard zip(sizes, staticSizes).allSatisfy({ $1 == nil || $0 == $1 }) else {
            throw OpError("sizes \(sizes) differ from the static sizes \(staticSizes.map { $0.map(String.init) ?? "?" })")
        }
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return x.sliced(axis: axis, start: start, count: size, step: 1)
        }
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard node.inputs[0].dtype.isFloat, outputGradients.contains(where: { $0 != nil }) else { return node.inputs.map { _ in nil } }
        let pieces = try zip(node.outputs, outputGradients).map { output, g in try g ?? zerosLike(output) }
        return [try Join(axis: axis)(pieces, at: node.location)] + node.inputs.dropFirst().map { _ in nil }
    }

    /// The tangent cut into the same pieces.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        try linearPushforward(node, inputTangents: inputTangents, linear: [0])
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        node.inputs.dropFirst().map { size in
            var shape = inputShapes[0]
            shape[axis] = size
            return shape
        }
    }
}

/// The tensors joined along `axis` (NumPy's `concatenate`); dtypes are promoted.
public func concatenate(_ tensors: [Variable], axis: Int = 0, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    guard let first = tensors.first else {
        throw TheanoError.invalidArgument(function: "concatenate", reason: "needs at least one tensor", location: location)
    }
    let resolved = try Axes([axis]).resolved(ndim: first.ndim, function: "concatenate", location: location)[0]
    let dtype = DType.promote(tensors.map(\.dtype))
    return try Join(axis: resolved)(tensors.map { try cast($0, to: dtype, at: location) }, at: location)
}

/// The tensors (all of one shape) stacked along a new axis `axis`.
public func stack(_ tensors: [Variable], axis: Int = 0, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    let rank = (tensors.first?.ndim ?? 0) + 1
    let position = axis < 0 ? axis + rank : axis
    guard (0..<rank).contains(position) else {
        throw TheanoError.invalidArgument(function: "stack", reason: "axis \(axis) out of range for the result's \(rank) dimensions", location: location)
    }
    let expanded = try tensors.map { t in
        var pattern = (0..<t.ndim).map(DimPattern.input)
        pattern.insert(.newAxis, at: Swift.min(position, t.ndim))
        return try DimShuffle(pattern: pattern)([t], at: location)
    }
    return try concatenate(expanded, axis: position, fileID: fileID, line: line)
}

/// `x` cut along `axis` into pieces of `sizes` (which must add up to the axis's size).
public func split(_ x: Variable, sizes: [Int], axis: Int = 0, fileID: String = #fileID, line: Int = #line) throws -> [Variable] {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    let resolved = try Axes([axis]).resolved(ndim: x.ndim, function: "split", location: location)[0]
    if let size = x.staticShape[resolved], sizes.reduce(0, +) != size {
        throw TheanoError.invalidArgument(function: "split", reason: "sizes \(sizes) do not add up to \(size), the size of axis \(axis) of \(x.type)", location: location)
    }
    let sizeInputs = sizes.map { Constant(NDArray(scalar: Int64($0)), location: location) }
    return try split(x, sizes: sizeInputs, axis: resolved, at: location)
}

/// `x` cut along `axis` into pieces of the `int64` scalar `sizes`; the pieces whose size is a
/// constant have that static size.
package func split(_ x: Variable, sizes: [Variable], axis: Int, at location: SourceLocation) throws -> [Variable] {
    try Split(axis: axis, staticSizes: staticSizes(sizes)).apply([x] + sizes, at: location).outputs
}
