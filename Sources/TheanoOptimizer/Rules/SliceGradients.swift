import TheanoCore
import TheanoOps

/// Sums of increments of disjoint slices of zeros — the gradient of a tensor read through
/// slices, such as an LSTM's gates `z[:, 0..<H]`, `z[:, H..<2H]`, … — become one join of the
/// slices' gradients (zeros filling what no slice reads): one copy of each gradient instead
/// of zeroing, incrementing and adding the whole tensor once per slice. A single increment
/// (the gradient of a loop's history read without its initial rows, `h[1...]`) too.
let joinSliceGradients = Rewrite.node("join_slice_gradients", on: [Add.self, IncSubtensor.self]) { node, context in
    // A term of a larger sum is the larger sum's to rewrite.
    let readers = context.graph.readers(of: node.output(0))
    if readers.count == 1, readers[0].node.op is Add, !context.graph.isOutput(node.output(0)) { return nil }
    var terms: [Variable] = []
    func collect(_ v: Variable, root: Bool) {
        if let owner = v.owner, owner.op is Add, root || context.readerCount(of: v) == 1 {
            owner.inputs.forEach { collect($0, root: false) }
        } else {
            terms.append(v)
        }
    }
    collect(node.output(0), root: true)
    let increments = terms.compactMap(SliceIncrement.init)
    guard increments.count == terms.count, let first = increments.first,
          increments.allSatisfy({ $0.zeros === first.zeros && $0.axis == first.axis }) else { return nil }
    let zeros = first.zeros, axis = first.axis
    guard let extent = zeros.staticShape[axis], let allocation = zeros.owner, allocation.op is Alloc else { return nil }
    let sorted = increments.sorted { $0.start(extent) < $1.start(extent) }
    var pieces: [Variable] = [], position = 0
    func zerosPiece(_ width: Int) throws -> Variable {
        var sizes = Array(allocation.inputs.dropFirst())
        sizes[axis] = Constant(NDArray(scalar: Int64(width)), location: node.location)
        return try alloc(allocation.inputs[0], sizes: sizes, at: node.location)
    }
    for increment in sorted {
        let (start, end) = (increment.start(extent), increment.end(extent))
        guard start >= position, end > start, increment.gradient.staticShape[axis] == end - start else { return nil }
        if start > position { pieces.append(try zerosPiece(start - position)) }
        pieces.append(increment.gradient)
        position = end
    }
    if position < extent { pieces.append(try zerosPiece(extent - position)) }
    return [try Join(axis: axis)(pieces, at: node.location)]
}

/// `inc_subtensor(zeros, gradient, [:, …, start..<end])`: an increment of one constant
/// slice along one axis of zeros made by `alloc`.
private struct SliceIncrement {
    let zeros: Variable
    let gradient: Variable
    let axis: Int
    let bounds: (start: Int?, end: Int?)

    init?(_ v: Variable) {
        guard let node = v.owner, let op = node.op as? IncSubtensor, !op.set, node.inputs.count == 2,
              let allocation = node.inputs[0].owner, allocation.op is Alloc, allocation.inputs[0].constantScalar == 0,
              node.inputs[1].ndim == v.ndim, node.inputs[1].dtype == v.dtype else { return nil }
        let whole = SubtensorEntry.slice(.none, .none, .none)
        guard let axis = op.entries.firstIndex(where: { $0 != whole }), op.entries[(axis + 1)...].allSatisfy({ $0 == whole }),
              case .slice(let start, let end, let step) = op.entries[axis], step == .none || step == .constant(1) else { return nil }
        func bound(_ b: IndexBound) -> Int?? {
            switch b {
            case .none: return .some(nil)
            case .constant(let value): return .some(value)
            case .symbolic: return nil
            }
        }
        guard let start = bound(start), let end = bound(end) else { return nil }
        zeros = node.inputs[0]
        gradient = node.inputs[1]
        self.axis = axis
        bounds = (start, end)
    }

    func start(_ extent: Int) -> Int { Self.resolve(bounds.start ?? 0, extent) }
    func end(_ extent: Int) -> Int { Self.resolve(bounds.end ?? extent, extent) }

    private static func resolve(_ index: Int, _ extent: Int) -> Int { Swift.min(Swift.max(index < 0 ? index + extent : index, 0), extent) }
}
