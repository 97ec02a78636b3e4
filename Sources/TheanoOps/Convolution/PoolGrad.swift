import TheanoCore

/// The gradient of a ``Pool`` with respect to its input (Theano's `MaxPoolGrad` and
/// `AveragePoolGrad`): inputs the pooled tensor's input and the gradient of its output.
/// Each window's gradient goes to the tap it picked (`.max`: the first largest), to each of
/// its taps (`.sum`), or to each divided by the count its mean divided by.
public struct PoolGrad: PoolingOp, CFillKernelOp {
    public let geometry: WindowGeometry
    public let mode: PoolingMode
    public let ignoresBorder: Bool

    package init(geometry: WindowGeometry, mode: PoolingMode, ignoresBorder: Bool) {
        (self.geometry, self.mode, self.ignoresBorder) = (geometry, mode, ignoresBorder)
    }

    public var description: String { "pool\(geometry.rank)d_grad{\(parameterText)}" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (x, g) = (inputs[0], inputs[1])
        let pooled = try pooledType(x)
        guard g.dtype == x.dtype, g.ndim == x.ndim, zip(pooled.shape, g.shape).allSatisfy({ $0 == nil || $1 == nil || $0 == $1 }) else {
            throw OpError("a gradient of type \(g) for a pooled output of type \(pooled)")
        }
        return [x]
    }

    public func validate(_ inputs: [NDArray], node: Apply) throws { try checkShapes(inputs) }

    private func checkShapes(_ inputs: [NDArray]) throws {
        let pooled = try Pool(geometry: geometry, mode: mode, ignoresBorder: ignoresBorder).pooledShape(inputs[0].shape)
        guard inputs[1].shape == pooled else {
            throw OpError("a gradient of shape \(shapeText(inputs[1].shape)) for a pooled output of shape \(shapeText(pooled))")
        }
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        try checkShapes(inputs)
        let (x, g) = (inputs[0].contiguous(), inputs[1].contiguous())
        return [x.dtype.visitFloat(Loop(x: x, g: g, layout: try layout(x.shape), mode: mode))!]
    }

    private struct Loop: FloatVisitor {
        let x: NDArray, g: NDArray, layout: PoolLayout, mode: PoolingMode
        func visit<T: FloatElement & NumericElement>(_: T.Type) -> NDArray {
            let result = NDArray(zeros: x.shape, dtype: x.dtype)
            x.withUnsafePointer(to: T.self) { source in
                g.withUnsafePointer(to: T.self) { gradient in
                    result.withUnsafeMutablePointer(to: T.self) { target in
                        layout.forEachWindow { plane, offset, window in
                            let (p, q) = (source + plane * layout.inputPlane, target + plane * layout.inputPlane)
                            let value = gradient[plane * layout.outputPlane + offset]
                            switch mode {
                            case .max: q[PoolGrad.argmax(p, window.taps)] += value
                            case .sum: for tap in window.taps { q[tap] += value }
                            case .averageIncludingPadding: for tap in window.taps { q[tap] += value / T(window.paddedCount) }
                            case .averageExcludingPadding: for tap in window.taps { q[tap] += value / T(window.taps.count) }
                            }
                        }
                    }
                }
            }
            return result
        }
    }

    /// Linear in the output gradient: the gradient of `ġ`'s pooling (for `.max`, the pick
    /// of each window, ``MaxPoolTangent``); zero with respect to the input almost everywhere.
    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let gg = outputGradients[0] else { return [nil, nil] }
        let x = node.inputs[0]
        let pooled = mode == .max ? try MaxPoolTangent(geometry: geometry, ignoresBorder: ignoresBorder)([x, gg], at: node.location)
            : try Pool(geometry: geometry, mode: mode, ignoresBorder: ignoresBorder)([gg], at: node.location)
        return [nil, pooled]
    }

    public func isConnected(toInput index: Int) -> Bool { index == 1 || mode != .max }

    /// Linear in the output gradient.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        [try inputTangents[1].map { try self([node.inputs[0], $0], at: node.location) }]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { [inputShapes[0]] }

    /// Input element by input element: the windows covering it, in order, each adding its
    /// share (the reference's order of additions). Windows that neither overlap nor pad (the
    /// usual 2×2 pooling) take a kernel of their own: each element is in at most one window.
    package func cFillKernel(name: String, node: Apply) -> String? {
        let g = geometry.threeAxes, t = node.outputTypes[0].dtype.cType.rawValue
        if (0..<3).allSatisfy({ g.strides[$0] >= g.window[$0] && g.padLow[$0] == 0 }) { return cDisjointWindowsKernel(name: name, t: t) }
        /// The windows along `axis` (d, h or w) covering input position `i…`: `o…0 ..< o…1`.
        func covering(_ axis: String, _ d: Int) -> String {
            let n = axis.uppercased(), (k, s, p) = (g.window[d], g.strides[d], g.padLow[d])
            return """
                const int64_t o\(axis)0 = i\(axis) + \(p - k + 1) <= 0 ? 0 : (i\(axis) + \(p - k + 1) + \(s - 1)) / \(s);
                const int64_t o\(axis)1 = (i\(axis) + \(p)) / \(s) + 1 < O\(n) ? (i\(axis) + \(p)) / \(s) + 1 : O\(n);
            """
        }
        func bounds(_ axis: String, _ d: Int) -> String {
            let n = axis.uppercased()
            return """
                const int64_t s\(axis) = o\(axis) * \(g.strides[d]) - \(g.padLow[d]);
                const int64_t \(axis)0 = s\(axis) > 0 ? s\(axis) : 0, \(axis)1 = s\(axis) + \(g.window[d]) < \(n) ? s\(axis) + \(g.window[d]) : \(n);
                const int64_t \(axis)p = (s\(axis) + \(g.window[d]) < \(n) + \(g.padHigh[d]) ? s\(axis) + \(g.window[d]) : \(n) + \(g.padHigh[d])) - s\(axis);
            """
        }
        let share = switch mode {
        case .max: "\(cArgmax(t))\ntotal += best == self ? value : 0;"
        case .sum: "total += value;"
        case .averageIncludingPadding: "total += value / (\(t))(dp * hp * wp);"
        case .averageExcludingPadding: "total += value / (\(t))((d1 - d0) * (h1 - h0) * (w1 - w0));"
        }
        return """
            \(cKernelStart(name: name, t: t, inputs: "const \(t) *x = (const \(t) *)in[1], *g = (const \(t) *)in[2];"))
                if (W == 0) return;
                for (int64_t line = begin / W; line * W < end; line++) {
                    const int64_t ih = line % H, id = line / H % D, plane = line / (H * D);
                    const int64_t first = begin > line * W ? begin - line * W : 0, last = end < (line + 1) * W ? end - line * W : W;
                    const \(t) *p = x + plane * D * H * W, *q = g + plane * OD * OH * OW;
            \(covering("d", 0))
            \(covering("h", 1))
                    for (int64_t iw = first; iw < last; iw++) {
                        const int64_t self = (id * H + ih) * W + iw;
            \(covering("w", 2))
                        \(t) total = 0;
                        for (int64_t od = od0; od < od1; od++) for (int64_t oh = oh0; oh < oh1; oh++) for (int64_t ow = ow0; ow < ow1; ow++) {
            \(bounds("d", 0))
            \(bounds("h", 1))
            \(bounds("w", 2))
                            const \(t) value = q[(od * OH + oh) * OW + ow];
                            (void)dp; (void)hp; (void)wp; (void)value;
                            \(share)
                        }
                        out[line * W + iw] = total;
                    }
                }
            }
            """
    }

    /// The kernel for windows that do not overlap and have no padding: each input row is
    /// zeroed, then finds the row of windows covering it and, 64 windows at a time, their
    /// shares — for `.max` the pick of each, every tap read for all of them at once (which
    /// the compiler vectorizes) — and writes its elements of them. `0 + share` keeps the
    /// reference's sign of zero.
    private func cDisjointWindowsKernel(name: String, t: String) -> String {
        let g = geometry.threeAxes
        let (sd, sh, sw) = (g.strides[0], g.strides[1], g.strides[2]), (kd, kh, kw) = (g.window[0], g.window[1], g.window[2])
        let picks = mode != .max ? "" : """
            int pick[64];
                            \(t) peak[64];
                            const \(t) *first0 = p + (d0 * H + h0) * W + c0 * \(sw);
                            for (int64_t j = 0; j < n; j++) { peak[j] = first0[j * \(sw)]; pick[j] = 0; }
                            for (int64_t d = d0; d < d1; d++) for (int64_t h = h0; h < h1; h++) for (int64_t k = 0; k < \(kw); k++) {
                                const int tap = (int)(((d - d0) * \(kh) + (h - h0)) * \(kw) + k);
                                const \(t) *r = p + (d * H + h) * W + c0 * \(sw) + k;
                                /* Windows whose column k is inside the row (the last may be cut short). */
                                const int64_t inside = (W - c0 * \(sw) - k + \(sw - 1)) / \(sw), m = n < inside ? n : inside;
                                for (int64_t j = 0; j < m; j++) {
                                    const \(t) v = r[j * \(sw)], cur = peak[j];
                                    const int take = (v > cur) | ((v != v) & (cur == cur));
                                    peak[j] = theano_select_\(t)(take, v, cur);
                                    pick[j] = (int)theano_select_index(take, tap, pick[j]);
                                }
                            }
            """
        // Max pooling over two axes: a row of windows (with the rows up to the next) wholly
        // in begin ..< end is zeroed at once, then each window's pick set — the pick made
        // once per window rather than once per row of it, 64 windows at a time, those wholly
        // inside the row by constant loops (which the compiler vectorizes).
        let wholeRows = mode != .max || kd != 1 || sd != 1 ? "{" : """
            if (ih % \(sh) == 0 && ih + \(sh) <= H && ih / \(sh) < OH && line * W >= begin && (line + \(sh)) * W <= end) {
                            \(t) *o = out + line * W;
                            for (int64_t i = 0; i < \(sh) * W; i++) o[i] = 0;
                            const \(t) *p = x + plane * D * H * W, *q = g + plane * OD * OH * OW + (id * OH + ih / \(sh)) * OW;
                            const \(t) *base = x + line * W;
                            const int64_t d0 = id, d1 = id + 1, h0 = ih, h1 = ih + \(kh);
                            const int64_t whole = W < \(kw) ? 0 : (W - \(kw)) / \(sw) + 1 < OW ? (W - \(kw)) / \(sw) + 1 : OW;
                            for (int64_t c0 = 0; c0 < OW; c0 += 64) {
                                const int64_t n = OW - c0 < 64 ? OW - c0 : 64, m = whole - c0 < 0 ? 0 : whole - c0 < n ? whole - c0 : n;
                                int64_t pick[64];
                                for (int64_t j = 0; j < m; j++) {
                                    const \(t) *s = base + (c0 + j) * \(sw);
                                    \(cWholeMaximum(t, locating: true))
                                    pick[j] = (c0 + j) * \(sw) + best;
                                }
                                for (int64_t j = m; j < n; j++) {
                                    const int64_t w0 = (c0 + j) * \(sw), w1 = w0 + \(kw) < W ? w0 + \(kw) : W;
                                    \(cArgmax(t))
                                    pick[j] = best - (id * H + ih) * W;
                                }
                                for (int64_t j = 0; j < n; j++) o[pick[j]] = 0 + q[c0 + j];
                            }
                            line += \(sh - 1);
                            ih += \(sh - 1);
                        } else {
            """
        let value = switch mode {
        case .max: "pick[j] == self + k ? share : 0"
        case .sum: "share"
        case .averageIncludingPadding, .averageExcludingPadding:
            "share / (\(t))((d1 - d0) * (h1 - h0) * ((c0 + j) * \(sw) + \(kw) < W ? \(kw) : W - (c0 + j) * \(sw)))"
        }
        return """
            \(cKernelStart(name: name, t: t, inputs: "const \(t) *x = (const \(t) *)in[1], *g = (const \(t) *)in[2];"))
                if (W == 0 || H == 0 || D == 0) return;
                int64_t line = begin / W, ih = line % H, id = line / H % D, plane = line / (H * D);
                for (; line * W < end; line++) {
                    \(wholeRows)
                    const int64_t first = begin > line * W ? begin - line * W : 0, last = end < (line + 1) * W ? end - line * W : W;
                    \(t) *o = out + line * W;
                    for (int64_t iw = first; iw < last; iw++) o[iw] = 0;
                    const int64_t od = id / \(sd), oh = ih / \(sh);
                    if (id - od * \(sd) < \(kd) && od < OD && ih - oh * \(sh) < \(kh) && oh < OH) {
                        const \(t) *p = x + plane * D * H * W, *q = g + plane * OD * OH * OW + (od * OH + oh) * OW;
                        const int64_t d0 = od * \(sd), d1 = d0 + \(kd) < D ? d0 + \(kd) : D;
                        const int64_t h0 = oh * \(sh), h1 = h0 + \(kh) < H ? h0 + \(kh) : H;
                        const int self = (int)(((id - d0) * \(kh) + (ih - h0)) * \(kw));
                        (void)p; (void)self;
                        for (int64_t c0 = first / \(sw); c0 < OW && c0 * \(sw) < last; c0 += 64) {
                            const int64_t n = OW - c0 < 64 ? OW - c0 : 64;
                            \(picks)
                            for (int64_t k = 0; k < \(kw); k++) {
                                \(t) *w = o + c0 * \(sw) + k;
                                /* Windows j whose column k lies in first ..< last (and inside the row). */
                                const int64_t lo = first - k - c0 * \(sw), hi = (last < W ? last : W) - k - c0 * \(sw);
                                const int64_t a = lo <= 0 ? 0 : (lo + \(sw - 1)) / \(sw), b0 = hi <= 0 ? 0 : (hi + \(sw - 1)) / \(sw);
                                const int64_t b = b0 < n ? b0 : n;
                                for (int64_t j = a; j < b; j++) {
                                    const \(t) share = 0 + q[c0 + j];
                                    w[j * \(sw)] = \(value);
                                }
                            }
                        }
                    }
                    }
                    if (++ih == H) { ih = 0; if (++id == D) { id = 0; plane++; } }
                }
            }
            """
    }

    package func fillShape(_ inputs: [NDArray]) throws -> [Int] { inputs[0].shape }
    package func fillKernelArguments(for inputs: [NDArray]) -> [Int64] { (try? layout(inputs[0].shape).kernelArguments) ?? [] }
}

/// The pushforward of max pooling (Theano's `MaxPoolRop`): inputs the pooled input and its
/// tangent; each window's output is the tangent at the tap max pooling picks there.
public struct MaxPoolTangent: PoolingOp, CFillKernelOp {
    public let geometry: WindowGeometry
    public let ignoresBorder: Bool
    public var mode: PoolingMode { .max }

    package init(geometry: WindowGeometry, ignoresBorder: Bool) {
        (self.geometry, self.ignoresBorder) = (geometry, ignoresBorder)
    }

    public var description: String { "max_pool\(geometry.rank)d_tangent{\(parameterText)}" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs[1].dtype == inputs[0].dtype, inputs[1].ndim == inputs[0].ndim else {
            throw OpError("a tangent of type \(inputs[1]) for an input of type \(inputs[0])")
        }
        return [try pooledType(inputs[0])]
    }

    public func validate(_ inputs: [NDArray], node: Apply) throws { try checkShapes(inputs) }

    private func checkShapes(_ inputs: [NDArray]) throws {
        guard inputs[0].shape == inputs[1].shape else {
            throw OpError("a tangent of shape \(shapeText(inputs[1].shape)) for an input of shape \(shapeText(inputs[0].shape))")
        }
    }

    private var pool: Pool { Pool(geometry: geometry, mode: .max, ignoresBorder: ignoresBorder) }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        try checkShapes(inputs)
        let (x, t) = (inputs[0].contiguous(), inputs[1].contiguous())
        return [x.dtype.visitFloat(Loop(x: x, t: t, layout: try layout(x.shape), shape: try pool.pooledShape(x.shape)))!]
    }

    private struct Loop: FloatVisitor {
        let x: NDArray, t: NDArray, layout: PoolLayout, shape: [Int]
        func visit<T: FloatElement & NumericElement>(_: T.Type) -> NDArray {
            let result = NDArray(uninitialized: shape, dtype: x.dtype)
            x.withUnsafePointer(to: T.self) { source in
                t.withUnsafePointer(to: T.self) { tangent in
                    result.withUnsafeMutablePointer(to: T.self) { target in
                        layout.forEachWindow { plane, offset, window in
                            let p = source + plane * layout.inputPlane
                            target[plane * layout.outputPlane + offset] = tangent[plane * layout.inputPlane + MaxPoolTangent.argmax(p, window.taps)]
                        }
                    }
                }
            }
            return result
        }
    }

    /// Linear in the tangent: its pullback is max pooling's gradient.
    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return [nil, nil] }
        return [nil, try PoolGrad(geometry: geometry, mode: .max, ignoresBorder: ignoresBorder)([node.inputs[0], g], at: node.location)]
    }

    public func isConnected(toInput index: Int) -> Bool { index == 1 }

    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        [try inputTangents[1].map { try self([node.inputs[0], $0], at: node.location) }]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { [try pooledSizes(inputShapes[0])] }

    package func cFillKernel(name: String, node: Apply) -> String? {
        let t = node.outputTypes[0].dtype.cType.rawValue
        return cPoolingKernel(name: name, t: t, inputs: "const \(t) *x = (const \(t) *)in[1], *tangent = (const \(t) *)in[2];",
                              body: "const \(t) *p = x + plane * D * H * W;\n                \(cArgmax(t))\n                out[e] = tangent[plane * D * H * W + best];",
                              whole: "\(cWholeMaximum(t, locating: true))\n                            target[j] = tangent[s - x + best];")
    }

    package func fillShape(_ inputs: [NDArray]) throws -> [Int] { try pool.pooledShape(inputs[0].shape) }
    package func fillKernelArguments(for inputs: [NDArray]) -> [Int64] { (try? layout(inputs[0].shape).kernelArguments) ?? [] }
}
