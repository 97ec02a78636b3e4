import TheanoCore

/// How much a convolution pads each spatial axis of its input (Theano's `border_mode`).
public enum ConvolutionPadding: Hashable, Sendable {
    /// No padding: the window stays inside the input.
    case valid
    /// `(window − 1)·dilation` on each side: every position where the window touches the input.
    case full
    /// Half the dilated window on each side (`⌊((window − 1)·dilation + 1) / 2⌋`): an odd window
    /// at stride 1 keeps the input's size. Also spelled ``same``.
    case half
    /// The same amount on both sides of each spatial axis (one amount per axis).
    case symmetric([Int])
    /// Amounts of their own before and after each spatial axis.
    case explicit(low: [Int], high: [Int])

    /// The padding that keeps the size of the input for an odd window at stride 1: ``half``.
    public static var same: Self { .half }
}

/// Where a window sits over the spatial axes of a batch of images laid out as
/// `(batch, channels, spatial…)` (NCHW for two spatial axes, NCDHW for three): its size,
/// the step between its positions (strides), the gaps between its taps (dilation) and the
/// padding before and after each axis. The ops of convolution, patch extraction and pooling
/// all read their inputs through one.
///
/// Output position `o` along an axis reads input position `o·stride − padLow + k·dilation`
/// for tap `k` of the window; positions outside the input read zero (or, for pooling, are
/// left out).
public struct WindowGeometry: Hashable, Sendable, CustomStringConvertible {
    /// The window's size along each spatial axis (before dilation).
    public let window: [Int]
    /// The step between neighbouring window positions along each axis.
    public let strides: [Int]
    /// The step between neighbouring taps of the window along each axis (1: adjacent).
    public let dilation: [Int]
    /// The padding before each axis.
    public let padLow: [Int]
    /// The padding after each axis.
    public let padHigh: [Int]

    /// Whether no axis is padded, so that every tap of every window reads inside the input.
    package var isUnpadded: Bool { (padLow + padHigh).allSatisfy { $0 == 0 } }

    /// Checks that the lists agree in length and hold sizes ≥ 1 (padding ≥ 0); the error
    /// names `function`.
    package init(window: [Int], strides: [Int], dilation: [Int], padLow: [Int], padHigh: [Int],
                 function: String, location: SourceLocation) throws {
        func fail(_ reason: String) -> TheanoError { .invalidArgument(function: function, reason: reason, location: location) }
        let rank = window.count
        guard rank >= 1 else { throw fail("needs at least one spatial axis") }
        for (name, list) in [("strides", strides), ("dilation", dilation), ("padding", padLow), ("padding", padHigh)] where list.count != rank {
            throw fail("\(name) \(list) has \(list.count) entries for \(rank) spatial axes")
        }
        guard window.allSatisfy({ $0 >= 1 }) else { throw fail("window sizes \(window) must be at least 1") }
        guard strides.allSatisfy({ $0 >= 1 }) else { throw fail("strides \(strides) must be at least 1") }
        guard dilation.allSatisfy({ $0 >= 1 }) else { throw fail("dilation \(dilation) must be at least 1") }
        guard (padLow + padHigh).allSatisfy({ $0 >= 0 }) else { throw fail("padding \(padLow), \(padHigh) must not be negative") }
        (self.window, self.strides, self.dilation, self.padLow, self.padHigh) = (window, strides, dilation, padLow, padHigh)
    }

    /// The geometry of a convolution with `window`, resolving `padding` for it.
    package init(window: [Int], strides: [Int], dilation: [Int], padding: ConvolutionPadding,
                 function: String, location: SourceLocation) throws {
        let dilated = zip(window, dilation).map { ($0 - 1) * $1 + 1 }
        let (low, high): ([Int], [Int]) = switch padding {
        case .valid: (dilated.map { _ in 0 }, dilated.map { _ in 0 })
        case .full: (dilated.map { $0 - 1 }, dilated.map { $0 - 1 })
        case .half: (dilated.map { $0 / 2 }, dilated.map { $0 / 2 })
        case .symmetric(let amounts): (amounts, amounts)
        case .explicit(let low, let high): (low, high)
        }
        try self.init(window: window, strides: strides, dilation: dilation, padLow: low, padHigh: high, function: function, location: location)
    }

    /// The number of spatial axes.
    public var rank: Int { window.count }

    /// The extent of the dilated window along axis `d`.
    public func dilatedWindow(_ d: Int) -> Int { (window[d] - 1) * dilation[d] + 1 }

    /// The number of window positions along axis `d` for an input of `size` there:
    /// `⌊(size + padding − dilated window) / stride⌋ + 1`, or `nil` when the window does not fit.
    public func outputSize(_ size: Int, axis d: Int) -> Int? {
        let room = size + padLow[d] + padHigh[d] - dilatedWindow(d)
        return room < 0 ? nil : room / strides[d] + 1
    }

    /// The smallest input size along axis `d` that gives `positions` window positions there.
    public func smallestInput(forOutput positions: Int, axis d: Int) -> Int {
        (positions - 1) * strides[d] + dilatedWindow(d) - padLow[d] - padHigh[d]
    }

    /// The number of window taps (the product of the window's sizes).
    public var taps: Int { window.reduce(1, *) }

    public var description: String {
        var parts = ["window=\(window)"]
        if strides.contains(where: { $0 != 1 }) { parts.append("strides=\(strides)") }
        if dilation.contains(where: { $0 != 1 }) { parts.append("dilation=\(dilation)") }
        if (padLow + padHigh).contains(where: { $0 != 0 }) { parts.append(padLow == padHigh ? "pad=\(padLow)" : "pad=\(padLow)/\(padHigh)") }
        return parts.joined(separator: ", ")
    }

    /// The spatial output sizes for spatial input `sizes`; throws naming the axis where the
    /// window does not fit.
    package func outputSizes(_ sizes: [Int]) throws -> [Int] {
        try sizes.indices.map { try checkedOutputSize(sizes[$0], axis: $0) }
    }

    /// The spatial output sizes for statically known input `sizes` (`nil` where unknown);
    /// throws where the window cannot fit a known size.
    package func outputSizes(_ sizes: [Int?]) throws -> [Int?] {
        try sizes.indices.map { d in try sizes[d].map { try checkedOutputSize($0, axis: d) } }
    }

    private func checkedOutputSize(_ size: Int, axis d: Int) throws -> Int {
        guard let output = outputSize(size, axis: d) else {
            throw OpError("the window of \(dilatedWindow(d)) along spatial axis \(d) does not fit an input of \(size) padded by \(padLow[d] + padHigh[d])")
        }
        return output
    }

    /// The number of window positions along each axis for symbolic spatial input `sizes`.
    package func outputSizes(_ sizes: [Variable]) throws -> [Variable] {
        try (0..<rank).map { d in
            let room = try sizes[d] + (padLow[d] + padHigh[d] - dilatedWindow(d))
            return try intDiv(room, constant(Double(strides[d]), dtype: .int64)) + 1
        }
    }

    /// The geometry as three spatial axes (a leading axis of one added for two), the form the
    /// loops and C kernels work in.
    package var threeAxes: WindowGeometry {
        let pad = 3 - rank
        func padded(_ list: [Int], _ value: Int) -> [Int] { [Int](repeating: value, count: pad) + list }
        return try! WindowGeometry(window: padded(window, 1), strides: padded(strides, 1), dilation: padded(dilation, 1),
                                   padLow: padded(padLow, 0), padHigh: padded(padHigh, 0), function: "", location: .unknown)
    }
}
