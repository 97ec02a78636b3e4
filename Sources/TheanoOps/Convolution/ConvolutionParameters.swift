import TheanoCore

/// What defines a convolution apart from its filters: padding, strides, dilation, channel
/// groups and whether the filters are flipped. With the filters' spatial size it gives the
/// ``WindowGeometry``; the graph may learn that size only when the function runs.
public struct ConvolutionParameters: Hashable, Sendable, CustomStringConvertible {
    /// The padding of the images.
    public let padding: ConvolutionPadding
    /// The step between window positions along each spatial axis.
    public let strides: [Int]
    /// The step between filter taps along each spatial axis (1: adjacent).
    public let dilation: [Int]
    /// The number of channel groups (1: every filter sees every channel).
    public let groups: Int
    /// Whether the filters are flipped along their spatial axes (a true convolution, Theano's
    /// default `filter_flip=True`) or not (a cross-correlation).
    public let flipsFilters: Bool

    /// Checks the lists against `rank` spatial axes; errors name `function` and `location`.
    package init(rank: Int, padding: ConvolutionPadding, strides: [Int], dilation: [Int], groups: Int, flipsFilters: Bool,
                 function: String, location: SourceLocation) throws {
        func fail(_ reason: String) -> TheanoError { .invalidArgument(function: function, reason: reason, location: location) }
        guard strides.count == rank, strides.allSatisfy({ $0 >= 1 }) else { throw fail("strides \(strides) must be \(rank) sizes of at least 1") }
        guard dilation.count == rank, dilation.allSatisfy({ $0 >= 1 }) else { throw fail("dilation \(dilation) must be \(rank) sizes of at least 1") }
        guard groups >= 1 else { throw fail("groups must be at least 1, not \(groups)") }
        switch padding {
        case .valid, .full, .half: break
        case .symmetric(let amounts):
            guard amounts.count == rank, amounts.allSatisfy({ $0 >= 0 }) else { throw fail("padding \(amounts) must be \(rank) amounts of at least 0") }
        case .explicit(let low, let high):
            guard low.count == rank, high.count == rank, (low + high).allSatisfy({ $0 >= 0 }) else {
                throw fail("padding \(low), \(high) must be \(rank) amounts of at least 0 on each side")
            }
        }
        (self.padding, self.strides, self.dilation, self.groups, self.flipsFilters) = (padding, strides, dilation, groups, flipsFilters)
    }

    /// The number of spatial axes.
    public var rank: Int { strides.count }

    /// The geometry for filters of spatial size `window`.
    package func geometry(window: [Int]) throws -> WindowGeometry {
        guard window.count == rank, window.allSatisfy({ $0 >= 1 }) else { throw OpError("filters of spatial shape \(window) (need \(rank) sizes of at least 1)") }
        return try WindowGeometry(window: window, strides: strides, dilation: dilation, padding: padding, function: "convolution", location: .unknown)
    }

    public var description: String {
        var parts: [String] = []
        switch padding {
        case .valid: break
        case .full: parts.append("full")
        case .half: parts.append("half")
        case .symmetric(let amounts): parts.append("pad=\(amounts)")
        case .explicit(let low, let high): parts.append("pad=\(low)/\(high)")
        }
        if strides.contains(where: { $0 != 1 }) { parts.append("strides=\(strides)") }
        if dilation.contains(where: { $0 != 1 }) { parts.append("dilation=\(dilation)") }
        if groups != 1 { parts.append("groups=\(groups)") }
        if !flipsFilters { parts.append("correlation") }
        return parts.joined(separator: ", ")
    }

    /// The padding before and after spatial axis `d` for a dilated window of `extent` (symbolic).
    func symbolicPadding(_ d: Int, extent: Variable) throws -> (low: Variable, high: Variable) {
        func size(_ n: Int) -> Variable { constant(Double(n), dtype: .int64) }
        switch padding {
        case .valid: return (size(0), size(0))
        case .full: return (try extent - 1, try extent - 1)
        case .half: let half = try intDiv(extent, size(2)); return (half, half)
        case .symmetric(let amounts): return (size(amounts[d]), size(amounts[d]))
        case .explicit(let low, let high): return (size(low[d]), size(high[d]))
        }
    }

    /// The dilated window's extent along axis `d` for a window of `size` (symbolic).
    func symbolicExtent(_ d: Int, size: Variable) throws -> Variable { try (size - 1) * dilation[d] + 1 }

    /// The window positions along each spatial axis for images of spatial `sizes` and filters
    /// of spatial size `window` (symbolic).
    func symbolicPositions(_ sizes: [Variable], window: [Variable]) throws -> [Variable] {
        try (0..<rank).map { d in
            let extent = try symbolicExtent(d, size: window[d]), (low, high) = try symbolicPadding(d, extent: extent)
            return try intDiv(sizes[d] + low + high - extent, constant(Double(strides[d]), dtype: .int64)) + 1
        }
    }

    /// The smallest image sizes along each spatial axis that give `positions` window
    /// positions for filters of spatial size `window` (symbolic).
    func symbolicSpan(_ positions: [Variable], window: [Variable]) throws -> [Variable] {
        try (0..<rank).map { d in
            let extent = try symbolicExtent(d, size: window[d]), (low, high) = try symbolicPadding(d, extent: extent)
            return try (positions[d] - 1) * strides[d] + extent - low - high
        }
    }
}
