import TheanoCore

/// An op applied element by element to inputs of one shape after broadcasting.
///
/// Inputs have the same number of dimensions (the builders pad lower-rank operands with
/// broadcastable leading dimensions); a dimension of static size 1 is stretched to the
/// others' size. The builders also cast operands to the dtypes the op computes in, so
/// `perform` sees uniform dtypes and each op defines only its scalar function, its output
/// dtype and the gradient of its scalar function, which serves both reverse and forward mode.
public protocol ElementwiseOp: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    /// The dtypes the operands are cast to before the op sees them.
    func operandDTypes(_ given: [DType]) -> [DType]
    /// The output dtype for operands already of `operandDTypes`, or an ``OpError``.
    func outputDType(_ operands: [DType]) throws -> DType
    /// Computes the output from operands broadcast to `shape`.
    func evaluate(_ operands: [NDArray], shape: [Int]) -> NDArray
    /// The gradient with respect to each operand at the output's (broadcast) shape;
    /// `nil` where none flows. It must be `gradient` times the operand's partial derivative
    /// (the pushforward relies on it).
    func gradients(_ operands: [Variable], output: Variable, gradient: Variable) throws -> [Variable?]
    /// Whether the operands of a binary op may be swapped (rewrite patterns read this).
    var isCommutative: Bool { get }
}

extension ElementwiseOp {
    public var isCommutative: Bool { false }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let ndim = inputs[0].ndim
        guard inputs.allSatisfy({ $0.ndim == ndim }) else {
            throw OpError("operands have different numbers of dimensions")
        }
        let expected = operandDTypes(inputs.map(\.dtype))
        guard expected == inputs.map(\.dtype) else {
            throw OpError("operands must have dtypes \(expected.map(\.description).joined(separator: ", "))")
        }
        let shape = try (0..<ndim).map { d in try broadcastDimension(inputs.map { $0.shape[d] }, axis: d) }
        return [TensorType(try outputDType(expected), shape: shape)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let shape = try broadcastShape(inputs.map(\.shape))
        try NDArray.checkAllocation(shape, dtype: outputDType(inputs.map(\.dtype)))
        return [evaluate(inputs, shape: shape)]
    }

    public func validate(_ inputs: [NDArray], node: Apply) throws {
        try checkStaticBroadcasting(inputs, types: node.inputs.map(\.type), to: broadcastShape(inputs.map(\.shape)))
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let gradient = outputGradients[0] else { return node.inputs.map { _ in nil } }
        let local = try gradients(node.inputs, output: node.output(0), gradient: gradient)
        return try zip(node.inputs, local).map { input, g in
            guard let g, input.dtype.isFloat else { return nil }
            return try g.reduced(toBroadcastPatternOf: input)
        }
    }

    /// The sum over operands of each tangent times the operand's partial derivative. The
    /// Jacobian of an elementwise op is diagonal, so the partial derivatives that weigh an
    /// output gradient in the pullback weigh a tangent here: `gradients` applied to the
    /// tangent of each operand in turn.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        guard node.outputTypes[0].dtype.isFloat else { return [nil] }
        var total: Variable?
        for (index, tangent) in inputTangents.enumerated() {
            guard let tangent, node.inputs[index].dtype.isFloat,
                  let term = try gradients(node.inputs, output: node.output(0), gradient: tangent)[index] else { continue }
            total = try total.adding(term)
        }
        return [total]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        [try broadcastSizes(of: node, inputShapes: inputShapes)]
    }
}

/// The sizes of an elementwise node's operands broadcast together: each that of the operands
/// not broadcast along the dimension; where several could differ at run time, a size that
/// checks they agree.
func broadcastSizes(of node: Apply, inputShapes: [[Variable]]) throws -> [Variable] {
    try (0..<(node.inputs.first?.ndim ?? 0)).map { d in
        let stretched = node.inputs.indices.filter { node.inputs[$0].type.shape[d] != 1 }
        guard !stretched.isEmpty else { return Constant(NDArray(scalar: Int64(1)), location: node.location) }
        return try CheckEqualSizes.combine(stretched.map { inputShapes[$0][d] }, at: node.location)
    }
}

/// The static size of a broadcast dimension: the operands' sizes must agree where they are
/// not 1.
func broadcastDimension(_ sizes: [Int?], axis: Int) throws -> Int? {
    let stretched = sizes.filter { $0 != 1 }
    if stretched.isEmpty { return 1 }
    let known = Set(stretched.compactMap { $0 })
    guard known.count <= 1 else {
        throw OpError("dimension \(axis) has sizes \(known.sorted().map(String.init).joined(separator: " and ")), which do not broadcast")
    }
    return known.first
}

/// ``broadcastShape(_:)`` of the shapes of `arrays`: specialized in this module, for the
/// runners of other modules that call it on every call.
package func broadcastShape(of arrays: [NDArray]) throws -> [Int] {
    try broadcastShape(arrays.lazy.map(\.shape))
}

/// The run-time broadcast shape: every operand that is not 1 must agree. (Which dimensions
/// may stretch is checked against the static types by ``checkStaticBroadcasting(_:types:to:)``.)
/// Any sequence of shapes, so callers need not build an array of them.
package func broadcastShape<Shapes: Sequence<[Int]>>(_ shapes: Shapes) throws -> [Int] {
    var iterator = shapes.makeIterator()
    guard var result = iterator.next() else { return [] }
    while let shape = iterator.next() {
        for d in result.indices where shape[d] != result[d] {
            if result[d] == 1 {
                result[d] = shape[d]
            } else if shape[d] != 1 {
                throw OpError("shapes \(shapes.map(shapeText).joined(separator: " and ")) do not match in dimension \(d)")
            }
        }
    }
    return result
}

extension Variable {
    /// `self` summed over the dimensions where `target` is broadcastable but `self` is not,
    /// and cast to `target`'s dtype: the gradient of a broadcast operand.
    package func reduced(toBroadcastPatternOf target: Variable) throws -> Variable {
        let axes = (0..<ndim).filter { d in target.staticShape[d] == 1 && staticShape[d] != 1 }
        let summed = axes.isEmpty ? self : try sum(self, axis: Axes(axes), keepDims: true)
        return summed.dtype == target.dtype ? summed : try cast(summed, to: target.dtype)
    }
}

/// Builds `op` over `operands`: pads them to a common number of dimensions, casts them to
/// the op's operand dtypes, and applies the op.
package func elementwise(_ op: some ElementwiseOp, _ operands: [Variable], at location: SourceLocation) throws -> Variable {
    let ndim = operands.map(\.ndim).max() ?? 0
    let dtypes = op.operandDTypes(operands.map(\.dtype))
    let prepared = try zip(operands, dtypes).map { operand, dtype in
        var v = operand
        if v.ndim < ndim { v = try v.padded(toRank: ndim, at: location) }
        if v.dtype != dtype { v = try cast(v, to: dtype, at: location) }
        return v
    }
    do {
        return try op(prepared, at: location)
    } catch TheanoError.typeMismatch(let name, _, let reason, let location) {
        // Report the operands as the user gave them, before padding and casts.
        throw TheanoError.typeMismatch(op: name, inputs: operands.map(\.type), reason: reason, location: location)
    }
}

extension Op {
    package func callAsFunction(_ inputs: [Variable], at location: SourceLocation) throws -> Variable {
        try apply(inputs, at: location).output(0)
    }
}

/// Throws unless every dimension of `values` that stretches to `target` (aligned at the
/// right) had static size 1 in its type: broadcasting is decided when the graph is built.
package func checkStaticBroadcasting(_ values: [NDArray], types: [TensorType], to target: [Int]) throws {
    try checkStaticBroadcasting(shapes: values.map(\.shape), types: types, to: target)
}

/// ``checkStaticBroadcasting(_:types:to:)`` for arrays of `shapes`.
package func checkStaticBroadcasting(shapes: [[Int]], types: [TensorType], to target: [Int]) throws {
    try checkStaticBroadcasting(shapes: shapes, staticShapes: types.map(\.shape), to: target)
}

/// ``checkStaticBroadcasting(_:types:to:)`` for arrays of `shapes` whose static shapes are
/// `staticShapes`.
package func checkStaticBroadcasting(shapes: [[Int]], staticShapes: [[Int?]], to target: [Int]) throws {
    for (position, (shape, staticShape)) in zip(shapes, staticShapes).enumerated() {
        let lead = target.count - shape.count
        for d in shape.indices where shape[d] != target[lead + d] && staticShape[d] != 1 {
            throw OpError("dimension \(d) of operand \(position) has size \(shape[d]) where \(target[lead + d]) is needed; "
                + "only dimensions of static size 1 broadcast (declare the size 1, or use .newAxis)")
        }
    }
}
