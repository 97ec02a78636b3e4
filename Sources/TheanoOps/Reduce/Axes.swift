import TheanoCore

/// Which dimensions a reduction combines: all of them (the default), one (`axis: 1`) or
/// several (`axis: [0, 2]`). Negative axes count from the end.
public struct Axes: Hashable, Sendable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral, ExpressibleByNilLiteral {
    /// `nil` means every dimension.
    package let list: [Int]?

    /// Every dimension (the same as `nil`).
    public static let all = Axes(nilLiteral: ())
    public init(nilLiteral: ()) { list = nil }
    public init(integerLiteral axis: Int) { list = [axis] }
    public init(arrayLiteral axes: Int...) { list = axes }
    /// The dimensions `axes`, given as an array built at run time.
    public init(_ axes: [Int]) { list = axes }

    /// The axes as sorted, non-negative dimension numbers of a tensor of `ndim` dimensions.
    package func resolved(ndim: Int, function: String, location: SourceLocation) throws -> [Int] {
        guard let list else { return Array(0..<ndim) }
        let resolved = list.map { $0 < 0 ? $0 + ndim : $0 }
        guard resolved.allSatisfy({ (0..<ndim).contains($0) }), Set(resolved).count == resolved.count else {
            throw TheanoError.invalidArgument(function: function, reason: "axes \(list) are not distinct dimensions of a \(ndim)-d tensor", location: location)
        }
        return resolved.sorted()
    }
}
