import TheanoCore

/// A subscript of integers, slices, symbolic integer scalars and new axes, lowered to a
/// ``Subtensor`` (plus a ``DimShuffle`` for new axes).
struct BasicIndexing {
    package let x: Variable
    package let entries: [SubtensorEntry]
    package let scalars: [Variable]
    /// For each output dimension: a dimension of the subtensor, or `nil` for a new axis.
    package let layout: [Int?]
    package let location: SourceLocation

    package init(_ x: Variable, _ indices: [TensorIndex], at location: SourceLocation) throws {
        self.x = x
        self.location = location
        func fail(_ reason: String) -> TheanoError {
            .invalidArgument(function: "subscript", reason: reason, location: location)
        }
        var entries: [SubtensorEntry] = [], scalars: [Variable] = [], layout: [Int?] = []
        var produced = 0
        for index in indices {
            let axis = entries.count
            if case .expand = index {
                layout.append(nil)
                continue
            }
            guard axis < x.ndim else { throw fail("too many indices (\(indices.count)) for a \(x.ndim)-d tensor of type \(x.type)") }
            switch index {
            case .at(let position):
                if let size = x.staticShape[axis], position >= size || position < -size {
                    throw fail("index \(position) is out of bounds for axis \(axis) with size \(size)")
                }
                entries.append(.index(.constant(position)))
            case .slice(let start, let stop, let step):
                if step == 0 { throw fail("slice step cannot be zero") }
                let bound: (Int?) -> IndexBound = { $0.map(IndexBound.constant) ?? .none }
                entries.append(.slice(bound(start), bound(stop), bound(step)))
                layout.append(produced)
                produced += 1
            case .tensor(let v):
                guard v.ndim == 0, v.dtype.isInteger else { throw fail("a symbolic index must be an integer scalar here") }
                entries.append(.index(.symbolic))
                scalars.append(try cast(v, to: .int64, at: location))
            case .expand:
                break
            }
        }
        for _ in entries.count..<x.ndim {
            layout.append(produced)
            produced += 1
        }
        self.entries = entries
        self.scalars = scalars
        self.layout = layout
    }

    func select() throws -> Variable {
        var result = try Subtensor(entries: entries)([x] + scalars, at: location)
        if layout.contains(nil) {
            result = try DimShuffle(pattern: layout.map { $0.map(DimPattern.input) ?? .newAxis })([result], at: location)
        }
        return result
    }
}

/// A copy of the tensor that `target` (the direct result of a subscript of it) was taken
/// from, with that region replaced by `values` (broadcast to it): Theano's `set_subtensor`.
///
/// ```swift
/// let cleared = try setSubtensor(x[0..<2], zeros([2, 3]))
/// ```
public func setSubtensor(_ target: Variable, _ values: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try writeSubtensor(target, values, set: true, at: .resolve(fileID: fileID, line: line))
}

/// A copy of the tensor that `target` was taken from, with `values` added to that region:
/// Theano's `inc_subtensor`. With integer-array indices, repeated positions accumulate.
public func incSubtensor(_ target: Variable, _ values: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try writeSubtensor(target, values, set: false, at: .resolve(fileID: fileID, line: line))
}

private func writeSubtensor(_ target: Variable, _ values: Variable, set: Bool, at location: SourceLocation) throws -> Variable {
    let function = set ? "setSubtensor" : "incSubtensor"
    guard let node = target.owner, node.op is Subtensor || node.op is AdvancedSubtensor else {
        throw TheanoError.invalidArgument(function: function, reason: "the target must be the direct result of a subscript, like x[1..<3]", location: location)
    }
    let x = node.inputs[0]
    guard values.ndim <= target.ndim else {
        throw TheanoError.typeMismatch(op: function, inputs: [target.type, values.type], reason: "values have more dimensions than the region", location: location)
    }
    var prepared = try cast(values, to: x.dtype, at: location)
    if prepared.ndim < target.ndim { prepared = try prepared.padded(toRank: target.ndim, at: location) }
    let rest = Array(node.inputs.dropFirst())
    if let op = node.op as? Subtensor {
        return try IncSubtensor(entries: op.entries, set: set)([x, prepared] + rest, at: location)
    }
    let op = node.op as! AdvancedSubtensor
    return try AdvancedIncSubtensor(indexCount: op.indexCount, set: set)([x, prepared] + rest, at: location)
}
