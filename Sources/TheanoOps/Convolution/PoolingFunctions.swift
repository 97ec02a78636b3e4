import TheanoCore

/// Pooling over the last two axes of `x` (Theano's `pool_2d`): each `window` of the input
/// reduced by `mode` to one element; leading axes (batch, channels, …) are independent.
///
/// - Parameters:
///   - strides: the step between windows (`nil`: the window, so windows do not overlap).
///   - padding: zeros added on both sides of each axis, left out of every window's max and
///     sum (smaller than the window; needs `ignoreBorder`).
///   - ignoreBorder: `true` drops windows that would cross the end of the input (a 5×5
///     input pooled 2×2 gives 2×2); `false` keeps them, shortened (3×3).
///
/// Its gradient routes each window's gradient to its first largest tap (`.max`) or spreads
/// it over its taps; its pushforward for `.max` is Theano's `MaxPoolRop`.
public func pool2d(_ x: Variable, window: [Int], strides: [Int]? = nil, padding: [Int] = [0, 0], mode: PoolingMode = .max,
                   ignoreBorder: Bool = true, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try pool(x, rank: 2, window: window, strides: strides, padding: padding, mode: mode, ignoreBorder: ignoreBorder,
             function: "pool2d", location: .resolve(fileID: fileID, line: line))
}

/// Pooling over the last three axes of `x` (Theano's `pool_3d`): ``pool2d(_:window:strides:padding:mode:ignoreBorder:fileID:line:)``
/// for volumes.
public func pool3d(_ x: Variable, window: [Int], strides: [Int]? = nil, padding: [Int] = [0, 0, 0], mode: PoolingMode = .max,
                   ignoreBorder: Bool = true, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try pool(x, rank: 3, window: window, strides: strides, padding: padding, mode: mode, ignoreBorder: ignoreBorder,
             function: "pool3d", location: .resolve(fileID: fileID, line: line))
}

private func pool(_ x: Variable, rank: Int, window: [Int], strides: [Int]?, padding: [Int], mode: PoolingMode, ignoreBorder: Bool,
                  function: String, location: SourceLocation) throws -> Variable {
    func fail(_ reason: String) -> TheanoError { .invalidArgument(function: function, reason: reason, location: location) }
    guard window.count == rank else { throw fail("window \(window) must have \(rank) sizes") }
    guard x.ndim >= rank else { throw fail("expects at least \(rank) dimensions, got a \(x.ndim)-d tensor") }
    let geometry = try WindowGeometry(window: window, strides: strides ?? window, dilation: window.map { _ in 1 },
                                      padLow: padding, padHigh: padding, function: function, location: location)
    if padding.contains(where: { $0 > 0 }) {
        guard ignoreBorder else { throw fail("padding needs ignoreBorder: true") }
        guard zip(padding, window).allSatisfy({ $0 < $1 }) else { throw fail("padding \(padding) must be smaller than the window \(window)") }
    }
    let input = x.dtype.isFloat ? x : try cast(x, to: x.dtype.upgradedToFloat, at: location)
    return try Pool(geometry: geometry, mode: mode, ignoresBorder: ignoreBorder)([input], at: location)
}
