import TheanoCore

/// How pooling windows cover the trailing spatial axes of a tensor (the leading axes are
/// independent planes), in the three-spatial-axes form the loops and C kernels use. Taps in
/// the padding, or past the end of the input when borders are kept, are left out of every
/// window; ``PoolingMode/averageIncludingPadding`` still counts those in the padding.
package struct PoolLayout {
    /// The geometry over three spatial axes (dilation 1, the same padding on both sides).
    package let geometry: WindowGeometry
    /// Whether windows that would cross the end of the input are dropped (Theano's `ignore_border=True`).
    package let ignoresBorder: Bool
    /// The number of planes (the product of the leading sizes).
    package let planes: Int
    /// Input and output sizes of the three spatial axes.
    package let input: [Int], output: [Int]

    /// The layout over `shape`, whose last `geometry.rank` sizes are spatial.
    package init(shape: [Int], geometry: WindowGeometry, ignoresBorder: Bool) {
        let spatial = [Int](repeating: 1, count: 3 - geometry.rank) + shape.suffix(geometry.rank)
        self.geometry = geometry.threeAxes
        self.ignoresBorder = ignoresBorder
        planes = shape.dropLast(geometry.rank).reduce(1, *)
        input = spatial
        output = (0..<3).map { Self.pooledSize(spatial[$0], axis: $0, geometry: geometry.threeAxes, ignoresBorder: ignoresBorder) }
    }

    /// Theano's output size along an axis of `size`: windows inside the padded input, or,
    /// when borders are kept (and there is no padding), every window that starts inside it.
    package static func pooledSize(_ size: Int, window k: Int, stride s: Int, padding p: Int, ignoresBorder: Bool) -> Int {
        guard size > 0 else { return 0 }
        if ignoresBorder { return size + 2 * p < k ? 0 : (size + 2 * p - k) / s + 1 }
        return s >= k ? (size - 1) / s + 1 : Swift.max(0, (size - 1 - k + s) / s) + 1
    }

    /// ``pooledSize(_:window:stride:padding:ignoresBorder:)`` along axis `d` of `g`.
    package static func pooledSize(_ size: Int, axis d: Int, geometry g: WindowGeometry, ignoresBorder: Bool) -> Int {
        pooledSize(size, window: g.window[d], stride: g.strides[d], padding: g.padLow[d], ignoresBorder: ignoresBorder)
    }

    /// Elements per plane, in and out.
    package var inputPlane: Int { input.reduce(1, *) }
    package var outputPlane: Int { output.reduce(1, *) }

    /// The window at output position `o` (three axes): the input offsets (within a plane) of
    /// its taps inside the input in row-major order, and how many of its taps lie inside the
    /// padded input.
    package func window(_ o: [Int]) -> (taps: [Int], paddedCount: Int) {
        var lower = [Int](), upper = [Int](), padded = 1
        for d in 0..<3 {
            let start = o[d] * geometry.strides[d] - geometry.padLow[d], end = start + geometry.window[d]
            lower.append(Swift.max(start, 0))
            upper.append(Swift.min(end, input[d]))
            padded *= Swift.min(end, input[d] + geometry.padHigh[d]) - start
        }
        var taps: [Int] = []
        for i in lower[0]..<upper[0] { for j in lower[1]..<upper[1] { for k in lower[2]..<upper[2] { taps.append((i * input[1] + j) * input[2] + k) } } }
        return (taps, padded)
    }

    /// Calls `body(plane, outputOffset, window)` for every window, in row-major order.
    package func forEachWindow(_ body: (Int, Int, (taps: [Int], paddedCount: Int)) -> Void) {
        var windows: [(taps: [Int], paddedCount: Int)] = []
        for a in 0..<output[0] { for b in 0..<output[1] { for c in 0..<output[2] { windows.append(window([a, b, c])) } } }
        for plane in 0..<planes {
            for (offset, window) in windows.enumerated() { body(plane, offset, window) }
        }
    }

    /// The numbers a C kernel reads at run time: planes and the three input sizes.
    package var kernelArguments: [Int64] { ([planes] + input).map(Int64.init) }

    /// The C text computing the output sizes (`OD`, `OH`, `OW`) from the input sizes
    /// (`D`, `H`, `W`), as ``pooledSize(_:axis:geometry:ignoresBorder:)`` does.
    package func cOutputSizes() -> String {
        let names = ["D", "H", "W"]
        return (0..<3).map { d in
            let (k, s, p, n) = (geometry.window[d], geometry.strides[d], geometry.padLow[d], names[d])
            let size = ignoresBorder ? "\(n) + \(2 * p) < \(k) ? 0 : (\(n) + \(2 * p - k)) / \(s) + 1"
                : s >= k ? "(\(n) - 1) / \(s) + 1" : "((\(n) - 1 - \(k - s)) / \(s) > 0 ? (\(n) - 1 - \(k - s)) / \(s) : 0) + 1"
            return "const int64_t O\(n) = \(n) == 0 ? 0 : \(size);"
        }.joined(separator: "\n    ")
    }
}
