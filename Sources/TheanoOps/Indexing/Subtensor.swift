import TheanoCore

/// Basic indexing: integers and slices over the leading dimensions, as a view of the input.
/// Inputs: the tensor, then one `int64` scalar per symbolic bound.
public struct Subtensor: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    /// What the subscript does to each leading dimension.
    public let entries: [SubtensorEntry]

    package init(entries: [SubtensorEntry]) {
        self.entries = entries
    }
    public var description: String { "subtensor[\(entries.map(\.description).joined(separator: ", "))]" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        try checkIndexInputs(inputs, entries: entries, offset: 1)
        return [TensorType(inputs[0].dtype, shape: staticShape(of: entries, over: inputs[0].shape))]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let resolved = try resolve(entries, scalars: scalarValues(inputs.dropFirst()), shape: inputs[0].shape)
        return [inputs[0].view(resolved)]
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        let x = node.inputs[0]
        guard let g = outputGradients[0], x.dtype.isFloat else { return node.inputs.map { _ in nil } }
        let scatter = try IncSubtensor(entries: entries, set: false)([zerosLike(x), g] + node.inputs.dropFirst(), at: node.location)
        return [scatter] + node.inputs.dropFirst().map { _ in nil }
    }

    /// The same region of the tangent.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        try linearPushforward(node, inputTangents: inputTangents, linear: [0])
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        [try symbolicShape(of: entries, inputShape: inputShapes[0], scalars: Array(node.inputs.dropFirst()))]
    }
}

/// A copy of a tensor with the region a basic subscript selects replaced by (`set`) or
/// incremented by a second tensor, broadcast to the region. Inputs: the tensor, the new
/// values, then the symbolic bounds.
public struct IncSubtensor: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    /// What the subscript selecting the region does to each leading dimension.
    public let entries: [SubtensorEntry]
    /// Whether the values replace the region (`true`) or are added to it.
    public let set: Bool

    package init(entries: [SubtensorEntry], set: Bool) {
        self.entries = entries
        self.set = set
    }
    public var description: String { "\(set ? "set" : "inc")_subtensor[\(entries.map(\.description).joined(separator: ", "))]" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        try checkIndexInputs(inputs, entries: entries, offset: 2)
        let region = staticShape(of: entries, over: inputs[0].shape)
        try checkValuesFit(inputs[1], region: region, dtype: inputs[0].dtype)
        return [inputs[0]]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let out = inputs[0].contiguousCopy()
        let region = out.view(try resolve(entries, scalars: scalarValues(inputs.dropFirst(2)), shape: out.shape))
        try checkBroadcast(inputs[1].shape, to: region.shape)
        set ? region.assign(from: inputs[1]) : region.accumulate(from: inputs[1])
        return [out]
    }

    public func validate(_ inputs: [NDArray], node: Apply) throws {
        let region = inputs[0].view(try resolve(entries, scalars: scalarValues(inputs.dropFirst(2)), shape: inputs[0].shape))
        try checkStaticBroadcasting([inputs[1]], types: [node.inputs[1].type], to: region.shape)
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        let (x, y) = (node.inputs[0], node.inputs[1])
        guard let g = outputGradients[0], x.dtype.isFloat else { return node.inputs.map { _ in nil } }
        let bounds = Array(node.inputs.dropFirst(2))
        let gx = set ? try IncSubtensor(entries: entries, set: true)([g, zerosLike(y)] + bounds, at: node.location) : g
        let gy = try Subtensor(entries: entries)([g] + bounds, at: node.location).reduced(toBroadcastPatternOf: y)
            .specifyingShape(of: y)
        return [gx, gy] + bounds.map { _ in nil }
    }

    /// The tensor's tangent with the region set to (or incremented by) the values' tangent:
    /// the op is linear in the tensor and the values together.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        try linearPushforward(node, inputTangents: inputTangents, linear: 0...1)
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { [inputShapes[0]] }
}

// MARK: - Shared checks

/// The index inputs from `offset` on must be integer scalars, one per symbolic bound.
func checkIndexInputs(_ inputs: [TensorType], entries: [SubtensorEntry], offset: Int) throws {
    guard entries.count <= inputs[0].ndim else { throw OpError("too many indices for a \(inputs[0].ndim)-d tensor") }
    let scalars = inputs.dropFirst(offset)
    guard scalars.count == entries.reduce(0, { $0 + $1.symbolicCount }),
          scalars.allSatisfy({ $0.ndim == 0 && $0.dtype.isInteger })
    else { throw OpError("indices must be integer scalars") }
}

/// The values written into a region must have no more dimensions than the region and
/// broadcast to it; they are cast to the tensor's dtype by the builders.
func checkValuesFit(_ values: TensorType, region: [Int?], dtype: DType) throws {
    guard values.dtype == dtype else { throw OpError("values must have the tensor's dtype \(dtype)") }
    guard values.ndim == region.count else { throw OpError("values must have the region's \(region.count) dimensions") }
    for (v, r) in zip(values.shape, region) where v != 1 && v != nil && r != nil && v != r {
        throw OpError("values of static shape \(values) do not fit a region of shape \(region.map { $0.map(String.init) ?? "?" })")
    }
}

func checkBroadcast(_ shape: [Int], to region: [Int]) throws {
    guard shape.count == region.count, zip(shape, region).allSatisfy({ $0 == 1 || $0 == $1 }) else {
        throw OpError("values of shape \(shapeText(shape)) do not fit a region of shape \(shapeText(region))")
    }
}

func scalarValues(_ arrays: ArraySlice<NDArray>) -> [Int] { arrays.map { Int($0.scalar(as: Int64.self)) } }

/// The static shape of the region `entries` select.
package func staticShape(of entries: [SubtensorEntry], over shape: [Int?]) -> [Int?] {
    var result: [Int?] = []
    for (axis, size) in shape.enumerated() {
        guard axis < entries.count else { result.append(size); continue }
        guard case .slice(let start, let stop, let step) = entries[axis] else { continue }
        func known(_ b: IndexBound) -> Int?? {
            switch b {
            case .none: return .some(nil)
            case .constant(let v): return .some(v)
            case .symbolic: return nil
            }
        }
        if let size, let start = known(start), let stop = known(stop), let step = known(step) {
            result.append(sliceExtent(start: start, stop: stop, step: step ?? 1, size: size).count)
        } else {
            result.append(nil)
        }
    }
    return result
}

/// The region's shape as symbolic sizes: sliced dimensions are measured by running the
/// slice on a placeholder of the input's sizes.
func symbolicShape(of entries: [SubtensorEntry], inputShape: [Variable], scalars: [Variable]) throws -> [Variable] {
    var result: [Variable] = []
    var next = 0
    for (axis, size) in inputShape.enumerated() {
        guard axis < entries.count else { result.append(size); continue }
        switch entries[axis] {
        case .index(let bound):
            if bound == .symbolic { next += 1 }
        case .slice(let start, let stop, let step):
            let operands = [start, stop, step].filter { $0 == .symbolic }.map { _ -> Variable in
                defer { next += 1 }
                return scalars[next]
            }
            let length = SliceLength(start: start, stop: stop, step: step)
            result.append(try length([size] + operands, at: size.location))
        }
    }
    return result
}

/// The number of elements of a slice of a dimension: inputs are the dimension's size and
/// the slice's symbolic bounds.
public struct SliceLength: DifferentiableOp, ForwardDifferentiableOp {
    /// The slice's bounds.
    public let start: IndexBound, stop: IndexBound, step: IndexBound

    package init(start: IndexBound, stop: IndexBound, step: IndexBound) {
        self.start = start
        self.stop = stop
        self.step = step
    }
    public var description: String { "slice_length" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] { [TensorType(.int64, shape: [])] }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let size = Int(inputs[0].scalar(as: Int64.self))
        var bounds = BoundReader(scalars: scalarValues(inputs.dropFirst()))
        let (first, last, by) = (bounds.value(start), bounds.value(stop), bounds.value(step) ?? 1)
        guard by != 0 else { throw OpError("slice step cannot be zero") }
        return [NDArray(scalar: Int64(sliceExtent(start: first, stop: last, step: by, size: size).count))]
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] { node.inputs.map { _ in nil } }
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] { [nil] }
}
