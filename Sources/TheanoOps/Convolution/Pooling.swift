import TheanoCore

/// What a pooling window computes from the taps it covers inside the input.
public enum PoolingMode: String, Hashable, Sendable, CaseIterable {
    /// The largest tap (NaN if any is NaN). Its gradient goes to the first largest tap.
    case max
    /// The sum of the taps.
    case sum
    /// The mean, dividing by the taps inside the padded input (Theano's `average_inc_pad`).
    case averageIncludingPadding
    /// The mean of the taps inside the input (Theano's `average_exc_pad`).
    case averageExcludingPadding
}

/// What the pooling ops share: the window (its size, strides and symmetric padding), the
/// mode and the border rule, the checks and the reference loops.
public protocol PoolingOp: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    /// The window over the trailing spatial axes (no dilation, the same padding on both sides).
    var geometry: WindowGeometry { get }
    /// What each window computes.
    var mode: PoolingMode { get }
    /// Whether windows that would cross the end of the input are dropped (Theano's
    /// `ignore_border`); padding needs it.
    var ignoresBorder: Bool { get }
}

extension PoolingOp {
    var parameterText: String { "\(mode.rawValue), \(geometry)" + (ignoresBorder ? "" : ", keeps border") }

    /// The layout over an input of `shape`.
    func layout(_ shape: [Int]) throws -> PoolLayout {
        guard shape.count >= geometry.rank else { throw OpError("expects at least \(geometry.rank) dimensions, got shape \(shapeText(shape))") }
        return PoolLayout(shape: shape, geometry: geometry, ignoresBorder: ignoresBorder)
    }

    /// The output type of pooling an input of type `x`.
    func pooledType(_ x: TensorType) throws -> TensorType {
        guard x.ndim >= geometry.rank, x.dtype.isFloat else {
            throw OpError("expects a float tensor of at least \(geometry.rank) dimensions, got \(x)")
        }
        let g = geometry.threeAxes, offset = 3 - geometry.rank
        let spatial = x.shape.suffix(geometry.rank).enumerated().map { d, size in
            size.map { PoolLayout.pooledSize($0, axis: d + offset, geometry: g, ignoresBorder: ignoresBorder) }
        }
        return TensorType(x.dtype, shape: x.shape.dropLast(geometry.rank) + spatial)
    }

    /// The symbolic output sizes for an input of symbolic `sizes` (ignoring borders, or keeping them).
    func pooledSizes(_ sizes: [Variable]) throws -> [Variable] {
        let lead = sizes.count - geometry.rank
        return try Array(sizes.prefix(lead)) + (0..<geometry.rank).map { d in
            let (k, s, p, n) = (geometry.window[d], geometry.strides[d], geometry.padLow[d], sizes[lead + d])
            let stride = constant(Double(s), dtype: .int64)
            if ignoresBorder { return try maximum(intDiv(n + (2 * p - k), stride) + 1, constant(0, dtype: .int64)) }
            return s >= k ? try intDiv(n - 1, stride) + 1 : try maximum(intDiv(n - (1 + k - s), stride), constant(0, dtype: .int64)) + 1
        }
    }

    /// The running maximum's rule, shared by every kernel and reference loop: a tap replaces
    /// the maximum when it is larger, or NaN where the maximum is not, so the first largest
    /// tap (or the first NaN) wins.
    static func replacesMaximum<T: FloatElement>(_ value: T, _ maximum: T) -> Bool {
        value > maximum || (value.isNaN && !maximum.isNaN)
    }

    /// The offset (within its plane) of the tap a max-pooling window picks.
    static func argmax<T: FloatElement>(_ plane: UnsafePointer<T>, _ taps: [Int]) -> Int {
        var best = taps[0]
        for tap in taps.dropFirst() where replacesMaximum(plane[tap], plane[best]) { best = tap }
        return best
    }

    package var workPerElement: Int { geometry.taps }

    /// The kernel `name` for elements of C type `t`: a loop over the output rows that `begin ..< end`
    /// touch, with each window's bounds (`d0..<d1` and so on inside the input, `count` and
    /// `paddedCount` taps) declared before `body` (statements computing element `e` into
    /// `out[e]`; `plane` and `ow` are in scope). `inputs` declares the input pointers.
    /// `whole`, when given, computes a window wholly inside the input (most of them) into
    /// `target[j]` from `s`, its first tap in `x`: its taps' offsets are then constants of
    /// the loop, which the compiler unrolls.
    func cPoolingKernel(name: String, t: String, inputs: String, body: String, whole: String? = nil) -> String {
        let g = geometry.threeAxes
        func bounds(_ axis: String, _ d: Int) -> String {
            let n = axis.uppercased()
            return """
                        const int64_t s\(axis) = o\(axis) * \(g.strides[d]) - \(g.padLow[d]);
                        const int64_t \(axis)0 = s\(axis) > 0 ? s\(axis) : 0, \(axis)1 = s\(axis) + \(g.window[d]) < \(n) ? s\(axis) + \(g.window[d]) : \(n);
                        const int64_t \(axis)p = (s\(axis) + \(g.window[d]) < \(n) + \(g.padHigh[d]) ? s\(axis) + \(g.window[d]) : \(n) + \(g.padHigh[d])) - s\(axis);
            """
        }
        return """
            \(cKernelStart(name: name, t: t, inputs: inputs))
                if (OW == 0) return;
                int64_t line = begin / OW, oh = line % OH, od = line / OH % OD, plane = line / (OH * OD);
                for (; line * OW < end; line++) {
                    const int64_t first = begin > line * OW ? begin - line * OW : 0, last = end < (line + 1) * OW ? end - line * OW : OW;
            \(bounds("d", 0))
            \(bounds("h", 1))
                    /* Windows wholly inside the input: a ..< b, computed apart where the op has code for it. */
                    int64_t a = first, b = first;
                    \(whole.map { whole in """
                    if (d1 - d0 == \(g.window[0]) && h1 - h0 == \(g.window[1])) {
                            a = \(g.padLow[2] + g.strides[2] - 1) / \(g.strides[2]);
                            b = W + \(g.padLow[2] - g.window[2]) >= 0 ? (W + \(g.padLow[2] - g.window[2])) / \(g.strides[2]) + 1 : 0;
                            if (a < first) a = first;
                            if (b > last) b = last;
                            if (b < a) b = a;
                            const \(t) *base = x + ((plane * D + d0) * H + h0) * W - \(g.padLow[2]);
                            \(t) *target = out + line * OW;
                            for (int64_t j = a; j < b; j++) {
                                const \(t) *s = base + j * \(g.strides[2]);
                                \(whole)
                            }
                        }
            """ } ?? "")
                    for (int64_t ow = first; ow < last; ow++) {
                        if (ow == a && b > a) { ow = b - 1; continue; }
                        const int64_t e = line * OW + ow;
            \(bounds("w", 2))
                        const int64_t count = (d1 - d0) * (h1 - h0) * (w1 - w0), paddedCount = dp * hp * wp;
                        (void)count; (void)paddedCount;
                        \(body)
                    }
                    if (++oh == OH) { oh = 0; if (++od == OD) { od = 0; plane++; } }
                }
            }
            """
    }

    /// The start of every pooling kernel `name` (elements of C type `t`): the sizes from
    /// `in[0]` (`D`, `H`, `W`), the output sizes (`OD`, `OH`, `OW`), the input pointers
    /// `inputs` declares, and `out`.
    func cKernelStart(name: String, t: String, inputs: String) -> String {
        let layout = PoolLayout(shape: [1, 1, 1], geometry: geometry, ignoresBorder: ignoresBorder)
        return """
            void \(name)(int64_t begin, int64_t end, const void *const *in, void *out_) {
                const int64_t *sizes = (const int64_t *)in[0];
                const int64_t D = sizes[1], H = sizes[2], W = sizes[3];
                \(layout.cOutputSizes())
                \(inputs)
                \(t) *restrict out = (\(t) *)out_;
            """
    }

    /// C statements running `body` for each tap (`tap`: its offset within the plane) of the
    /// window `d0..<d1 × h0..<h1 × w0..<w1`, in row-major order; a window wholly inside the
    /// input (the common case) takes loops of constant trip counts, which the compiler unrolls.
    func cOverWindow(_ body: String) -> String {
        let g = geometry.threeAxes, (kd, kh, kw) = (g.window[0], g.window[1], g.window[2])
        return """
            if (d1 - d0 == \(kd) && h1 - h0 == \(kh) && w1 - w0 == \(kw)) {
                            for (int64_t d = d0; d < d0 + \(kd); d++) for (int64_t h = h0; h < h0 + \(kh); h++) for (int64_t w = w0; w < w0 + \(kw); w++) {
                                const int64_t tap = (d * H + h) * W + w;
                                \(body)
                            }
                        } else {
                            for (int64_t d = d0; d < d1; d++) for (int64_t h = h0; h < h1; h++) for (int64_t w = w0; w < w1; w++) {
                                const int64_t tap = (d * H + h) * W + w;
                                \(body)
                            }
                        }
            """
    }

    /// C statements running `body` for each tap of a window wholly inside the input, in
    /// row-major order: `tap` is its offset from the window's first tap, the trip counts constant.
    func cOverWholeWindow(_ body: String) -> String {
        let g = geometry.threeAxes
        return """
            for (int64_t dd = 0; dd < \(g.window[0]); dd++) for (int64_t hh = 0; hh < \(g.window[1]); hh++) for (int64_t kk = 0; kk < \(g.window[2]); kk++) {
                                    const int64_t tap = (dd * H + hh) * W + kk;
                                    \(body)
                                }
            """
    }

    /// C statements setting `peak` to the largest tap of a window wholly inside the input
    /// (from `s`, its first tap), as ``cArgmax(_:)`` does, and — if `locating` — `best` to
    /// that tap's offset from `s`.
    func cWholeMaximum(_ t: String, locating: Bool) -> String {
        (locating ? "int64_t best = 0;\n" : "") + "\(t) peak = s[0];\n" + cOverWholeWindow("""
            const \(t) v = s[tap];
                                    const int take = (v > peak) | ((v != v) & (peak == peak));
                                    \(locating ? "best = theano_select_index(take, tap, best);" : "")
                                    peak = theano_select_\(t)(take, v, peak);
            """)
    }

    /// C statements setting `best` to the offset (within the plane `p`) of the tap the
    /// window picks, by ``replacesMaximum(_:_:)``, and `peak` to its value: without branches
    /// (the prelude's bitwise selections), as random data makes the comparisons unpredictable.
    func cArgmax(_ t: String) -> String {
        "int64_t best = (d0 * H + h0) * W + w0;\n\(t) peak = p[best];\n" + cOverWindow("""
            const \(t) v = p[tap];
                            const int take = (v > peak) | ((v != v) & (peak == peak));
                            best = theano_select_index(take, tap, best);
                            peak = theano_select_\(t)(take, v, peak);
            """)
    }
}

/// Pooling over the trailing spatial axes (Theano's `Pool`): each window of the input
/// reduced to one element (``PoolingMode``). Leading axes are independent planes.
public struct Pool: PoolingOp, CFillKernelOp {
    public let geometry: WindowGeometry
    public let mode: PoolingMode
    public let ignoresBorder: Bool

    package init(geometry: WindowGeometry, mode: PoolingMode, ignoresBorder: Bool) {
        (self.geometry, self.mode, self.ignoresBorder) = (geometry, mode, ignoresBorder)
    }

    public var description: String { "pool\(geometry.rank)d{\(parameterText)}" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] { [try pooledType(inputs[0])] }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let x = inputs[0].contiguous(), layout = try layout(x.shape)
        return [x.dtype.visitFloat(Loop(x: x, layout: layout, mode: mode, shape: try pooledShape(x.shape)))!]
    }

    private struct Loop: FloatVisitor {
        let x: NDArray, layout: PoolLayout, mode: PoolingMode, shape: [Int]
        func visit<T: FloatElement & NumericElement>(_: T.Type) -> NDArray {
            let result = NDArray(uninitialized: shape, dtype: x.dtype)
            x.withUnsafePointer(to: T.self) { source in
                result.withUnsafeMutablePointer(to: T.self) { target in
                    layout.forEachWindow { plane, offset, window in
                        let p = source + plane * layout.inputPlane
                        let value: T = switch mode {
                        case .max: p[Pool.argmax(p, window.taps)]
                        case .sum: window.taps.reduce(T.zero) { $0 + p[$1] }
                        case .averageIncludingPadding: window.taps.reduce(T.zero) { $0 + p[$1] } / T(window.paddedCount)
                        case .averageExcludingPadding: window.taps.reduce(T.zero) { $0 + p[$1] } / T(window.taps.count)
                        }
                        target[plane * layout.outputPlane + offset] = value
                    }
                }
            }
            return result
        }
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return [nil] }
        return [try PoolGrad(geometry: geometry, mode: mode, ignoresBorder: ignoresBorder)([node.inputs[0], g], at: node.location)]
    }

    /// The tangent at each window's pick for `.max` (``MaxPoolTangent``, Theano's `MaxPoolRop`);
    /// the other modes are linear.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        guard let t = inputTangents[0] else { return [nil] }
        if mode == .max { return [try MaxPoolTangent(geometry: geometry, ignoresBorder: ignoresBorder)([node.inputs[0], t], at: node.location)] }
        return [try self([t], at: node.location)]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { [try pooledSizes(inputShapes[0])] }

    package func cFillKernel(name: String, node: Apply) -> String? {
        let t = node.outputTypes[0].dtype.cType.rawValue
        let reduce = "\(t) total = 0;\n" + cOverWindow("total += p[tap];")
        let body = switch mode {
        case .max: "\(cArgmax(t))\n                out[e] = peak;"
        case .sum: "\(reduce)\n                out[e] = total;"
        case .averageIncludingPadding: "\(reduce)\n                out[e] = total / (\(t))paddedCount;"
        case .averageExcludingPadding: "\(reduce)\n                out[e] = total / (\(t))count;"
        }
        return cPoolingKernel(name: name, t: t, inputs: "const \(t) *x = (const \(t) *)in[1];",
                              body: "const \(t) *p = x + plane * D * H * W;\n                \(body)", whole: cWhole(t))
    }

    /// A window wholly inside the input, from its first tap `s` into `target[j]`, its taps
    /// in the reference's order.
    private func cWhole(_ t: String) -> String {
        let total = "\(t) total = 0;\n" + cOverWholeWindow("total += s[tap];")
        return switch mode {
        case .max: "\(cWholeMaximum(t, locating: false))\n                            target[j] = peak;"
        case .sum: "\(total)\n                            target[j] = total;"
        case .averageIncludingPadding, .averageExcludingPadding: "\(total)\n                            target[j] = total / (\(t))\(geometry.taps);"
        }
    }

    package func fillShape(_ inputs: [NDArray]) throws -> [Int] { try pooledShape(inputs[0].shape) }
    package func fillKernelArguments(for inputs: [NDArray]) -> [Int64] { (try? layout(inputs[0].shape).kernelArguments) ?? [] }

    /// The output shape for an input of `shape`.
    func pooledShape(_ shape: [Int]) throws -> [Int] {
        let layout = try layout(shape)
        return shape.dropLast(geometry.rank) + layout.output.suffix(geometry.rank)
    }
}
