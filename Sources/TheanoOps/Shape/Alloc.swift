import TheanoCore

/// A tensor of a given shape filled with a value broadcast to it (Theano's `alloc`): the
/// first input is the value, the others are the sizes of the dimensions (`int64` scalars).
public struct Alloc: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    /// The static shape, as far as the size inputs are constants.
    public let staticShape: [Int?]

    package init(staticShape: [Int?]) {
        self.staticShape = staticShape
    }
    public var description: String { "alloc" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let value = inputs[0]
        guard inputs.count - 1 == staticShape.count else { throw OpError("expects one size per dimension") }
        guard inputs.dropFirst().allSatisfy({ $0.ndim == 0 && $0.dtype.isInteger }) else {
            throw OpError("sizes must be integer scalars")
        }
        guard value.ndim <= staticShape.count else { throw OpError("value has more dimensions than the shape") }
        let lead = staticShape.count - value.ndim
        for (d, size) in value.shape.enumerated() where size != 1 && size != nil && staticShape[lead + d] != nil && size != staticShape[lead + d] {
            throw OpError("value dimension \(d) of size \(size!) cannot be broadcast to \(staticShape[lead + d]!)")
        }
        return [TensorType(value.dtype, shape: staticShape)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let shape = try requestedShape(inputs.dropFirst())
        let value = inputs[0], lead = shape.count - value.ndim
        for (d, size) in value.shape.enumerated() where size != 1 && size != shape[lead + d] {
            throw OpError("value of shape \(shapeText(value.shape)) cannot be broadcast to \(shapeText(shape))")
        }
        // Zeros (the gradients of slices start from them) come from zeroed memory.
        let zeros = value.count == 1 && value.scalar(as: Double.self).bitPattern == 0
        let out = try NDArray.allocate(shape, dtype: value.dtype, zeroed: zeros)
        if !zeros { out.assign(from: value.broadcast(to: shape)) }
        return [out]
    }

    public func validate(_ inputs: [NDArray], node: Apply) throws {
        let shape = inputs.dropFirst().map { Int($0.scalar(as: Int64.self)) }
        try checkStaticBroadcasting([inputs[0]], types: [node.inputs[0].type], to: shape)
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return node.inputs.map { _ in nil } }
        let value = node.inputs[0]
        let lead = staticShape.count - value.ndim
        let axes = (0..<staticShape.count).filter { $0 < lead || (value.staticShape[$0 - lead] == 1 && staticShape[$0] != 1) }
        var gradient = axes.isEmpty ? g : try sum(g, axis: Axes(axes), keepDims: true)
        if lead > 0 { gradient = try DimShuffle(pattern: (lead..<staticShape.count).map(DimPattern.input))([gradient], at: node.location) }
        return [value.dtype.isFloat ? gradient : nil] + node.inputs.dropFirst().map { _ in nil }
    }

    /// The tangent of the value, broadcast the same way.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        try linearPushforward(node, inputTangents: inputTangents, linear: [0])
    }

    /// The sizes asked for, checked against the value's where the value is not broadcast.
    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        let value = node.inputs[0], sizes = Array(node.inputs.dropFirst()), lead = sizes.count - value.ndim
        return [try sizes.indices.map { d in
            guard d >= lead, value.staticShape[d - lead] != 1 else { return sizes[d] }
            return try CheckEqualSizes.combine([sizes[d], inputShapes[0][d - lead]], at: node.location)
        }]
    }
}

/// `value` broadcast to a tensor of `sizes` (symbolic `int64` scalars).
package func alloc(_ value: Variable, sizes: [Variable], at location: SourceLocation) throws -> Variable {
    try Alloc(staticShape: staticSizes(sizes))([value] + sizes, at: location)
}

/// `value` broadcast to the shape of `x` (a gradient reaching a broadcast operand).
package func broadcast(_ value: Variable, like x: Variable) throws -> Variable {
    try alloc(value, sizes: x.dimensionSizes(), at: SourceLocation.attributed ?? x.location)
}

/// A tensor of shape `shape` filled with `value` (a scalar or anything broadcastable).
public func alloc(_ value: Variable, shape: [Int], fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    return try alloc(value, sizes: shape.map { Constant(NDArray(scalar: Int64($0)), location: location) }, at: location)
}

/// A tensor filled with `value` whose dimensions have the symbolic sizes `sizes` (`int64` scalars).
public func alloc(_ value: Variable, sizes: [Variable], fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try alloc(value, sizes: sizes, at: .resolve(fileID: fileID, line: line))
}

/// A tensor of zeros of `shape`.
public func zeros(_ shape: [Int], dtype: DType = .defaultFloat, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try alloc(constant(0, dtype: dtype, fileID: fileID, line: line), shape: shape, fileID: fileID, line: line)
}

/// A tensor of ones of `shape`.
public func ones(_ shape: [Int], dtype: DType = .defaultFloat, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try alloc(constant(1, dtype: dtype, fileID: fileID, line: line), shape: shape, fileID: fileID, line: line)
}

/// Zeros of `x`'s shape and dtype.
public func zerosLike(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try fullLike(x, 0, fileID: fileID, line: line)
}

/// Ones of `x`'s shape and dtype.
public func onesLike(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try fullLike(x, 1, fileID: fileID, line: line)
}

/// `value` broadcast to `x`'s shape, in `x`'s dtype.
public func fullLike(_ x: Variable, _ value: Double, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    return try alloc(Constant(NDArray(scalar: value, dtype: x.dtype), location: location), sizes: x.dimensionSizes(), at: location)
}
