import TheanoCore

/// A subscript with integer tensors over the leading dimensions (`probs[arange(n), labels]`)
/// or one boolean mask (`x[gt(x, 0)]`), followed only by full slices. Lowered to an
/// ``AdvancedSubtensor`` whose index inputs are `int64` tensors broadcast together.
struct AdvancedIndexing {
    package let x: Variable
    package let indices: [Variable]
    package let location: SourceLocation

    /// `nil` when the subscript has no integer-tensor or mask entry (basic indexing).
    package init?(_ x: Variable, _ indexList: [TensorIndex], at location: SourceLocation) throws {
        let isAdvanced: (TensorIndex) -> Bool = { if case .tensor(let v) = $0 { v.ndim > 0 || v.dtype == .bool } else { false } }
        guard indexList.contains(where: isAdvanced) else { return nil }
        func fail(_ reason: String) -> TheanoError { .invalidArgument(function: "subscript", reason: reason, location: location) }
        var leading: [Variable] = []
        var sawSlice = false
        for index in indexList {
            switch index {
            case .slice(nil, nil, nil):
                sawSlice = true
            case .tensor(let v) where !sawSlice:
                if v.dtype == .bool {
                    guard leading.isEmpty, indexList.count - 1 + v.ndim <= x.ndim else {
                        throw fail("a boolean mask must be the only array index and fit the tensor's leading dimensions")
                    }
                    if let d = (0..<v.ndim).first(where: { v.staticShape[$0] != nil && x.staticShape[$0] != nil && v.staticShape[$0] != x.staticShape[$0] }) {
                        throw fail("the boolean mask (\(v.type)) does not match dimension \(d) of the tensor (\(x.type))")
                    }
                    // As NumPy, a mask must have the shape of the dimensions it selects from.
                    let checked = try SpecifyShape()([v] + x.dimensionSizes().prefix(v.ndim), at: location)
                    leading = try Nonzero().apply([checked], at: location).outputs
                } else if v.dtype.isInteger {
                    leading.append(try cast(v, to: .int64, at: location))
                } else {
                    throw fail("index arrays must be integers or booleans, not \(v.dtype)")
                }
            case .at(let position) where !sawSlice:
                leading.append(Constant(NDArray(scalar: Int64(position)), location: location))
            default:
                throw fail("integer-array or mask indices must come first, followed only by full slices (.all)")
            }
        }
        guard leading.count <= x.ndim else { throw fail("too many indices for a \(x.ndim)-d tensor of type \(x.type)") }
        let rank = leading.map(\.ndim).max()!
        self.indices = try leading.map { $0.ndim < rank ? try $0.padded(toRank: rank, at: location) : $0 }
        self.x = x
        self.location = location
    }

    func gather() throws -> Variable {
        try AdvancedSubtensor(indexCount: indices.count)([x] + indices, at: location)
    }
}

/// Gathers from the leading `indexCount` dimensions of a tensor at the positions given by
/// `int64` index tensors (broadcast together): NumPy's integer-array indexing. Inputs: the
/// tensor, then the index tensors. Negative positions count from the end.
public struct AdvancedSubtensor: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    /// How many index tensors follow the tensor (the leading dimensions they index).
    public let indexCount: Int

    package init(indexCount: Int) {
        self.indexCount = indexCount
    }
    public var description: String { "advanced_subtensor{\(indexCount)}" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let x = inputs[0]
        return [TensorType(x.dtype, shape: try indexShape(Array(inputs.dropFirst()), tensorRank: x.ndim) + x.shape.dropFirst(indexCount))]
    }

    func indexShape(_ indices: [TensorType], tensorRank: Int) throws -> [Int?] {
        guard indices.count == indexCount, indexCount <= tensorRank else { throw OpError("too many indices") }
        guard indices.allSatisfy({ $0.dtype == .int64 && $0.ndim == indices[0].ndim }) else {
            throw OpError("index tensors must be int64 of one rank")
        }
        return try (0..<indices[0].ndim).map { d in try broadcastDimension(indices.map { $0.shape[d] }, axis: d) }
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let x = inputs[0].contiguous()
        let gather = try IndexGather(x: x, indices: Array(inputs.dropFirst()))
        let out = NDArray(uninitialized: gather.shape + x.shape.dropFirst(indexCount), dtype: x.dtype)
        let bytes = gather.blockSize * x.dtype.byteSize
        out.withUnsafeMutableRawPointer { target in
            x.withUnsafeRawPointer { source in
                for (p, offset) in gather.offsets.enumerated() {
                    (target + p * bytes).copyMemory(from: source + offset * x.dtype.byteSize, byteCount: bytes)
                }
            }
        }
        return [out]
    }

    public func validate(_ inputs: [NDArray], node: Apply) throws {
        try checkIndexBroadcasting(Array(inputs.dropFirst()), types: node.inputs.dropFirst().map(\.type))
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        let x = node.inputs[0]
        guard let g = outputGradients[0], x.dtype.isFloat else { return node.inputs.map { _ in nil } }
        let scatter = try AdvancedIncSubtensor(indexCount: indexCount, set: false)([zerosLike(x), g] + node.inputs.dropFirst(), at: node.location)
        return [scatter] + node.inputs.dropFirst().map { _ in nil }
    }

    /// The tangent gathered at the same positions.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        try linearPushforward(node, inputTangents: inputTangents, linear: [0])
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        // TensorIndex tensors agree where not broadcast; take each size from one that is not 1.
        let indexTypes = node.inputs.dropFirst().map(\.type)
        let broadcastSizes = (0..<indexTypes[0].ndim).map { d in
            inputShapes[1 + (indexTypes.firstIndex { $0.shape[d] != 1 } ?? 0)][d]
        }
        return [broadcastSizes + inputShapes[0].dropFirst(indexCount)]
    }
}

/// A copy of a tensor with the positions that integer-array indices select replaced by
/// (`set`) or incremented by values; repeated positions accumulate (NumPy's `add.at`).
/// Inputs: the tensor, the values (broadcast to the gathered shape), the index tensors.
public struct AdvancedIncSubtensor: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    /// How many index tensors follow the values (the leading dimensions they index).
    public let indexCount: Int
    /// Whether the values replace the selected elements (`true`) or are added to them.
    public let set: Bool

    package init(indexCount: Int, set: Bool) {
        self.indexCount = indexCount
        self.set = set
    }
    public var description: String { "advanced_\(set ? "set" : "inc")_subtensor{\(indexCount)}" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (x, values) = (inputs[0], inputs[1])
        let gathered = try AdvancedSubtensor(indexCount: indexCount).outputTypes([x] + inputs.dropFirst(2))[0]
        try checkValuesFit(values, region: gathered.shape, dtype: x.dtype)
        return [x]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let out = inputs[0].contiguousCopy()
        let gather = try IndexGather(x: out, indices: Array(inputs.dropFirst(2)))
        let region = gather.shape + out.shape.dropFirst(indexCount)
        try checkBroadcast(inputs[1].shape, to: region)
        let values = inputs[1].broadcast(to: region).contiguous()
        for (p, offset) in gather.offsets.enumerated() {
            let target = NDArray(dtype: out.dtype, shape: Array(out.shape.dropFirst(indexCount)),
                                 strides: Array(out.strides.dropFirst(indexCount)), offset: offset, storage: out.storage)
            let block = values.reshaped([gather.offsets.count, gather.blockSize]).indexed(axis: 0, at: p)
                .reshaped(target.shape)
            set ? target.assign(from: block) : target.accumulate(from: block)
        }
        return [out]
    }

    public func validate(_ inputs: [NDArray], node: Apply) throws {
        let indices = Array(inputs.dropFirst(2))
        try checkIndexBroadcasting(indices, types: node.inputs.dropFirst(2).map(\.type))
        let region = try broadcastShape(indices.map(\.shape)) + inputs[0].shape.dropFirst(indexCount)
        try checkStaticBroadcasting([inputs[1]], types: [node.inputs[1].type], to: region)
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        let (x, y) = (node.inputs[0], node.inputs[1])
        guard let g = outputGradients[0], x.dtype.isFloat else { return node.inputs.map { _ in nil } }
        let indices = Array(node.inputs.dropFirst(2))
        let gx = set ? try AdvancedIncSubtensor(indexCount: indexCount, set: true)([g, zerosLike(y)] + indices, at: node.location) : g
        let gy = try AdvancedSubtensor(indexCount: indexCount)([g] + indices, at: node.location).reduced(toBroadcastPatternOf: y)
            .specifyingShape(of: y)
        return [gx, gy] + indices.map { _ in nil }
    }

    /// The tensor's tangent with the values' tangent written at the same positions: the op
    /// is linear in the tensor and the values together.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        try linearPushforward(node, inputTangents: inputTangents, linear: 0...1)
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { [inputShapes[0]] }
}

/// Index tensors broadcast among themselves only along dimensions of static size 1.
private func checkIndexBroadcasting(_ indices: [NDArray], types: [TensorType]) throws {
    try checkStaticBroadcasting(indices, types: types, to: broadcastShape(indices.map(\.shape)))
}

/// The element offsets (into a contiguous tensor) that broadcast index tensors select.
private struct IndexGather {
    let shape: [Int]
    let offsets: [Int]
    let blockSize: Int

    init(x: NDArray, indices: [NDArray]) throws {
        shape = try broadcastShape(indices.map(\.shape))
        blockSize = x.shape.dropFirst(indices.count).reduce(1, *)
        let count = shape.reduce(1, *)
        var offsets = [Int](repeating: x.offset, count: count)
        for (axis, index) in indices.enumerated() {
            let size = x.shape[axis], stride = x.strides[axis]
            for (p, position) in index.broadcast(to: shape).elements(as: Int64.self).enumerated() {
                let wrapped = position < 0 ? Int(position) + size : Int(position)
                guard (0..<size).contains(wrapped) else {
                    throw OpError("index \(position) is out of bounds for axis \(axis) with size \(size)")
                }
                offsets[p] += wrapped * stride
            }
        }
        self.offsets = offsets.map { $0 - x.offset }
    }
}

/// The positions of the nonzero elements: one `int64` vector per dimension (NumPy's
/// `nonzero`). Used for boolean-mask indexing.
public struct Nonzero: DifferentiableOp, ForwardDifferentiableOp {
    package init() {}

    public var description: String { "nonzero" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        [TensorType](repeating: TensorType(.int64, shape: [nil]), count: Swift.max(inputs[0].ndim, 1))
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let mask = inputs[0].cast(to: .bool).elements(as: Bool.self)
        let shape = inputs[0].shape.isEmpty ? [1] : inputs[0].shape
        let strides = NDArray.contiguousStrides(shape)
        let hits = mask.indices.filter { mask[$0] }
        return shape.indices.map { d in NDArray(hits.map { Int64($0 / strides[d] % shape[d]) }) }
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] { [nil] }
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] { node.outputs.map { _ in nil } }
}
