import TheanoCore

/// The patches a window sees in a batch of images, as one matrix (Theano's `im2col` step of
/// `CorrMM`): images `(batch, channels, spatial…)` become `(channels · taps, batch · positions)`,
/// one row per channel and window tap, one column per image and window position, zero where
/// the window reads padding.
///
/// Convolutions are lowered to it and a matrix product; ``images2neibs(_:window:strides:mode:fileID:line:)``
/// is a transpose of it. It is linear: its pullback is ``PatchSum``, which adds each patch
/// element back where it came from.
public struct ImagePatches: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    /// Where the window sits.
    public let geometry: WindowGeometry

    package init(geometry: WindowGeometry) { self.geometry = geometry }

    public var description: String { "image_patches{\(geometry)}" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let x = inputs[0]
        guard x.ndim == geometry.rank + 2 else {
            throw OpError("expects images of \(geometry.rank + 2) dimensions (batch, channels, \(geometry.rank) spatial), got \(x.ndim)")
        }
        let positions = staticProduct(try geometry.outputSizes(x.spatialShape))
        return [TensorType(x.dtype, shape: [x.shape[1].map { $0 * geometry.taps }, staticProduct([x.shape[0], positions])])]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let x = inputs[0].contiguous(), layout = try PatchLayout(imageShape: x.shape, geometry: geometry)
        return [x.dtype.visitLayout(Gather(x: x, layout: layout))]
    }

    /// Copies each patch element's image element, bit for bit (zero in the padding).
    private struct Gather: LayoutVisitor {
        let x: NDArray, layout: PatchLayout
        func visit<T>(_: T.Type) -> NDArray {
            let out = NDArray(zeros: [layout.rows, layout.columns], dtype: x.dtype)
            x.withUnsafeRawPointer { raw in
                let source = raw.assumingMemoryBound(to: T.self)
                out.withUnsafeMutableRawPointer { target in
                    let patches = target.assumingMemoryBound(to: T.self)
                    layout.forEachElement { index, image in
                        if let image { patches[index] = source[image] }
                    }
                }
            }
            return out
        }
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return [nil] }
        let x = node.inputs[0]
        return [try PatchSum(geometry: geometry, imageShape: x.type.shape)([g, shape(x)], at: node.location)]
    }

    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        [try inputTangents[0].map { try self([$0], at: node.location) }]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        let sizes = inputShapes[0]
        return [[try sizes[1] * geometry.taps, try geometry.outputSizes(Array(sizes[2...])).reduce(sizes[0]) { try $0 * $1 }]]
    }
}

extension ImagePatches: CFillKernelOp {
    /// Row by row of the patch matrix; each run of window positions along the last axis
    /// copies a stretch of one image row, zero where the window is past its ends (positions
    /// counted forward rather than divided out for each run). Without padding, a row that
    /// `begin ..< end` covers takes plain nested loops, two to three times faster on the
    /// short runs of small images.
    package func cFillKernel(name: String, node: Apply) -> String? {
        let g = geometry.threeAxes, t = node.outputTypes[0].dtype.cType.rawValue
        return """
            void \(name)(int64_t begin, int64_t end, const void *const *in, void *out_) {
            \(PatchLayout.cSizes(g))
                const \(t) *x = (const \(t) *)in[1];
                \(t) *restrict out = (\(t) *)out_;
                for (int64_t row = begin / Q; row * Q < end; row++) {
                    const int64_t kw = row % \(g.window[2]), kh = row / \(g.window[2]) % \(g.window[1]);
                    const int64_t kd = row / \(g.window[2] * g.window[1]) % \(g.window[0]), c = row / \(g.taps);
                    const int64_t shift = kw * \(g.dilation[2]) - \(g.padLow[2]);
                    /* Window positions whose tap reads inside the row: lo <= ow < hi. */
                    const int64_t lo = shift >= 0 ? 0 : (-shift + \(g.strides[2] - 1)) / \(g.strides[2]);
                    const int64_t hi = W - shift <= 0 ? 0 : (W - shift + \(g.strides[2] - 1)) / \(g.strides[2]);
                    \(t) *o = out + row * Q;
                    \(g.isUnpadded ? """
                    if (row * Q >= begin && (row + 1) * Q <= end) {
                                /* A whole row, and no padding: every tap reads inside its image. */
                                for (int64_t n = 0; n < N; n++) for (int64_t od = 0; od < OD; od++) {
                                    const \(t) *image = x + (((n * C + c) * D + od * \(g.strides[0]) + kd * \(g.dilation[0])) * H + kh * \(g.dilation[1])) * W + shift;
                                    for (int64_t oh = 0; oh < OH; oh++, o += OW) {
                                        const \(t) *src = image + oh * \(g.strides[1]) * W;
                                        for (int64_t ow = 0; ow < OW; ow++) o[ow] = src[ow * \(g.strides[2])];
                                    }
                                }
                                continue;
                            }
            """ : "")
                    int64_t q = begin > row * Q ? begin - row * Q : 0;
                    const int64_t last = end < (row + 1) * Q ? end - row * Q : Q;
                    /* The position of column q, decoded once, then counted forward. */
                    int64_t ow0 = q % OW, oh = q / OW % OH, od = q / (OW * OH) % OD, n = q / (OW * OH * OD);
                    while (q < last) {
                        const int64_t count = OW - ow0 < last - q ? OW - ow0 : last - q;
                        const int64_t id = od * \(g.strides[0]) - \(g.padLow[0]) + kd * \(g.dilation[0]);
                        const int64_t ih = oh * \(g.strides[1]) - \(g.padLow[1]) + kh * \(g.dilation[1]);
                        \(t) *dst = o + q - ow0;
                        if (id < 0 || id >= D || ih < 0 || ih >= H) {
                            for (int64_t ow = ow0; ow < ow0 + count; ow++) dst[ow] = 0;
                        } else {
                            const \(t) *src = x + (((n * C + c) * D + id) * H + ih) * W + shift;
                            const int64_t a = lo > ow0 ? (lo < ow0 + count ? lo : ow0 + count) : ow0;
                            const int64_t b = hi < ow0 + count ? (hi > a ? hi : a) : ow0 + count;
                            for (int64_t ow = ow0; ow < a; ow++) dst[ow] = 0;
                            for (int64_t ow = a; ow < b; ow++) dst[ow] = src[ow * \(g.strides[2])];
                            for (int64_t ow = b; ow < ow0 + count; ow++) dst[ow] = 0;
                        }
                        q += count;
                        ow0 = 0;
                        if (++oh == OH) { oh = 0; if (++od == OD) { od = 0; n++; } }
                    }
                }
            }
            """
    }

    package func fillShape(_ inputs: [NDArray]) throws -> [Int] {
        let layout = try PatchLayout(imageShape: inputs[0].shape, geometry: geometry)
        return [layout.rows, layout.columns]
    }

    package func fillKernelArguments(for inputs: [NDArray]) -> [Int64] {
        (try? PatchLayout(imageShape: inputs[0].shape, geometry: geometry).kernelArguments) ?? []
    }

    package var workPerElement: Int { 1 }
}
