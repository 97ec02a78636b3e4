import TheanoCore

/// One entry of a subscript: `x[2]`, `x[1..<5]`, `x[.all, 0]`, `x[labels]`, `x[mask]`.
public enum TensorIndex {
    /// One position; the dimension disappears. Negative positions count from the end.
    case at(Int)
    /// NumPy's `start:stop:step` (`nil` bounds take the defaults; `step` may be negative).
    case slice(start: Int?, stop: Int?, step: Int?)
    /// A symbolic index: an integer scalar picks one position, an integer tensor picks many
    /// (advanced indexing), a boolean tensor is a mask.
    case tensor(Variable)
    /// A new broadcastable dimension (written `.newAxis`).
    case expand

}

/// Anything that can stand in a subscript of a ``Variable``: integers, Swift ranges,
/// variables and ``TensorIndex`` values.
public protocol IndexConvertible {
    /// The subscript entry this value stands for.
    var tensorIndex: TensorIndex { get }
}

/// A ``TensorIndex`` stands for itself in a subscript.
extension TensorIndex: IndexConvertible { public var tensorIndex: TensorIndex { self } }
/// An integer in a subscript picks one position (``TensorIndex/at(_:)``).
extension Int: IndexConvertible { public var tensorIndex: TensorIndex { .at(self) } }
/// A variable in a subscript is a symbolic index (``TensorIndex/tensor(_:)``).
extension Variable: IndexConvertible { public var tensorIndex: TensorIndex { .tensor(self) } }
/// `a..<b` in a subscript is the slice `a:b`.
extension Range<Int>: IndexConvertible { public var tensorIndex: TensorIndex { .slice(start: lowerBound, stop: upperBound, step: nil) } }
/// `a...b` in a subscript is the slice from `a` through `b` (`b` may be -1, the last).
extension ClosedRange<Int>: IndexConvertible {
    /// The slice from the lower bound through the upper bound.
    public var tensorIndex: TensorIndex { .slice(start: lowerBound, stop: upperBound == -1 ? nil : upperBound + 1, step: nil) }
}
/// `a...` in a subscript is the slice `a:`.
extension PartialRangeFrom<Int>: IndexConvertible { public var tensorIndex: TensorIndex { .slice(start: lowerBound, stop: nil, step: nil) } }
/// `..<b` in a subscript is the slice `:b`.
extension PartialRangeUpTo<Int>: IndexConvertible { public var tensorIndex: TensorIndex { .slice(start: nil, stop: upperBound, step: nil) } }
/// `...b` in a subscript is the slice through `b` (`b` may be -1, the last).
extension PartialRangeThrough<Int>: IndexConvertible {
    /// The slice from the start through the upper bound.
    public var tensorIndex: TensorIndex { .slice(start: nil, stop: upperBound == -1 ? nil : upperBound + 1, step: nil) }
}

extension IndexConvertible where Self == TensorIndex {
    /// Every element along the dimension (`:`).
    public static var all: TensorIndex { .slice(start: nil, stop: nil, step: nil) }
    /// A new broadcastable dimension.
    public static var newAxis: TensorIndex { .expand }
    /// `start:stop:step` with optional bounds, e.g. `.stride(by: -1)` reverses.
    public static func stride(from start: Int? = nil, to stop: Int? = nil, by step: Int) -> TensorIndex {
        .slice(start: start, stop: stop, step: step)
    }
}

extension Variable {
    /// NumPy indexing: integers, ranges, `.all`, `.newAxis`, symbolic integer scalars,
    /// integer tensors (`probs[arange(n), labels]`) and boolean masks (`x[gt(x, 0)]`).
    public subscript(_ indices: any IndexConvertible...) -> Variable {
        get throws { try subtensor(self, indices.map(\.tensorIndex), at: .operatorCaller()) }
    }

    /// The same subscript with the entries in an array built at run time.
    public subscript(indices indices: [any IndexConvertible]) -> Variable {
        get throws { try subtensor(self, indices.map(\.tensorIndex), at: .operatorCaller()) }
    }
}

/// Routes a subscript to basic indexing (a view), advanced indexing (a gather) or a sparse
/// matrix's selection.
package func subtensor(_ x: Variable, _ indices: [TensorIndex], at location: SourceLocation) throws -> Variable {
    if x.isSparse { return try sparseSubscript(x, indices, at: location) }
    if let advanced = try AdvancedIndexing(x, indices, at: location) {
        return try advanced.gather()
    }
    let basic = try BasicIndexing(x, indices, at: location)
    return try basic.select()
}
