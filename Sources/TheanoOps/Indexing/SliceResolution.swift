import TheanoCore

/// A bound of a slice or an index: absent, known when the graph is built, or the next
/// scalar input of the node.
public enum IndexBound: Hashable, Sendable {
    /// No bound: the slice's default.
    case none
    /// A bound known when the graph is built.
    case constant(Int)
    /// A bound given by the next scalar input of the node.
    case symbolic
}

/// What a basic subscript does to one dimension.
public enum SubtensorEntry: Hashable, Sendable, CustomStringConvertible {
    /// One position: the dimension disappears.
    case index(IndexBound)
    /// `start:stop:step`: the dimension keeps the positions the slice selects.
    case slice(IndexBound, IndexBound, IndexBound)

    public var description: String {
        func text(_ b: IndexBound) -> String {
            switch b {
            case .none: ""
            case .constant(let v): "\(v)"
            case .symbolic: "?"
            }
        }
        switch self {
        case .index(let b): return text(b)
        case .slice(let a, let b, let c): return "\(text(a)):\(text(b))" + (c == .none ? "" : ":\(text(c))")
        }
    }

    var symbolicCount: Int {
        switch self {
        case .index(let b): b == .symbolic ? 1 : 0
        case .slice(let a, let b, let c): [a, b, c].filter { $0 == .symbolic }.count
        }
    }
}

/// Reads bound values: constants from the bound itself, symbolic ones from the node's
/// scalar inputs in order.
struct BoundReader {
    package let scalars: [Int]
    private var next = 0

    package init(scalars: [Int]) { self.scalars = scalars }

    package mutating func value(_ bound: IndexBound) -> Int? {
        switch bound {
        case .none: return nil
        case .constant(let v): return v
        case .symbolic:
            defer { next += 1 }
            return scalars[next]
        }
    }
}

/// A subscript entry resolved against a concrete dimension.
package enum ResolvedEntry {
    case index(Int)
    case slice(start: Int, count: Int, step: Int)
}

/// Resolves `entries` against `shape`, taking symbolic bounds from `scalars` in order.
/// Throws for out-of-bounds positions and zero steps.
package func resolve(_ entries: [SubtensorEntry], scalars: [Int], shape: [Int]) throws -> [ResolvedEntry] {
    var bounds = BoundReader(scalars: scalars)
    func value(_ bound: IndexBound) -> Int? { bounds.value(bound) }
    return try entries.enumerated().map { axis, entry in
        let size = shape[axis]
        switch entry {
        case .index(let bound):
            let position = value(bound)!
            let wrapped = position < 0 ? position + size : position
            guard (0..<size).contains(wrapped) else {
                throw OpError("index \(position) is out of bounds for axis \(axis) with size \(size)")
            }
            return .index(wrapped)
        case .slice(let startBound, let stopBound, let stepBound):
            let (start, stop, step) = (value(startBound), value(stopBound), value(stepBound) ?? 1)
            guard step != 0 else { throw OpError("slice step cannot be zero") }
            let (first, count) = sliceExtent(start: start, stop: stop, step: step, size: size)
            return .slice(start: first, count: count, step: step)
        }
    }
}

/// NumPy's slice semantics: the first position and the number of elements of
/// `start:stop:step` over a dimension of `size`.
func sliceExtent(start: Int?, stop: Int?, step: Int, size: Int) -> (start: Int, count: Int) {
    func clamp(_ v: Int, _ low: Int, _ high: Int) -> Int { Swift.min(Swift.max(v, low), high) }
    func wrap(_ v: Int) -> Int { v < 0 ? v + size : v }
    if step > 0 {
        let first = clamp(start.map(wrap) ?? 0, 0, size)
        let last = clamp(stop.map(wrap) ?? size, 0, size)
        return (first, Swift.max(0, (last - first + step - 1) / step))
    }
    let first = clamp(start.map(wrap) ?? size - 1, -1, size - 1)
    let last = clamp(stop.map(wrap) ?? -1, -1, size - 1)
    return (first, Swift.max(0, (first - last - step - 1) / -step))
}

extension NDArray {
    /// The view that `resolved` entries select.
    package func view(_ resolved: [ResolvedEntry]) -> NDArray {
        var result = self
        // Work from the last entry so earlier axis numbers stay valid.
        for (axis, entry) in resolved.enumerated().reversed() {
            switch entry {
            case .index(let i): result = result.indexed(axis: axis, at: i)
            case .slice(let start, let count, let step): result = result.sliced(axis: axis, start: start, count: count, step: step)
            }
        }
        return result
    }
}
