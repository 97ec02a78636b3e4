import TheanoCore

/// The adjoint of ``ImagePatches`` (Theano's `col2im`): a matrix of patches
/// `(channels · taps, batch · positions)` summed back into images of the shape its second
/// input gives, each patch element added where the window read it (overlapping windows add
/// up; what fell in the padding is dropped). Inputs: the patches and the image shape as an
/// `int64` vector.
///
/// The input gradient of a convolution is a matrix product followed by it;
/// ``neibs2images(_:window:imageShape:strides:mode:fileID:line:)`` is a transpose followed by it.
public struct PatchSum: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    /// Where the window sat.
    public let geometry: WindowGeometry
    /// What the graph knows of the image shape before it runs (checked when it runs).
    public let imageShape: [Int?]

    package init(geometry: WindowGeometry, imageShape: [Int?]) {
        (self.geometry, self.imageShape) = (geometry, imageShape)
    }

    public var description: String { "patch_sum{\(geometry)}" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (patches, shape) = (inputs[0], inputs[1])
        guard patches.ndim == 2, patches.dtype != .bool else { throw OpError("expects a numeric matrix of patches, got \(patches)") }
        guard shape.dtype == .int64, shape.shape == [geometry.rank + 2], imageShape.count == geometry.rank + 2 else {
            throw OpError("expects the image shape as an int64 vector of \(geometry.rank + 2) sizes")
        }
        let positions = staticProduct(try geometry.outputSizes(Array(imageShape.dropFirst(2))))
        if let rows = patches.shape[0], let channels = imageShape[1], rows != channels * geometry.taps {
            throw OpError("\(rows) patch rows for \(channels) channels of \(geometry.taps) taps")
        }
        if let columns = patches.shape[1], let count = staticProduct([imageShape[0], positions]), columns != count {
            throw OpError("\(columns) patch columns for \(count) window positions")
        }
        return [TensorType(patches.dtype, shape: imageShape)]
    }

    /// The layout for `inputs`, checked against the static image shape and the patches' shape.
    private func layout(_ inputs: [NDArray]) throws -> PatchLayout {
        let shape = inputs[1].elements(as: Int64.self).map(Int.init)
        guard zip(shape, imageShape).allSatisfy({ $1 == nil || $0 == $1 }) else {
            throw OpError("image shape \(shapeText(shape)) differs from the static \(imageShape.map { $0.map(String.init) ?? "?" })")
        }
        let layout = try PatchLayout(imageShape: shape, geometry: geometry)
        guard inputs[0].shape == [layout.rows, layout.columns] else {
            throw OpError("patches of shape \(shapeText(inputs[0].shape)) do not match images of shape \(shapeText(shape)), "
                          + "which have \(shapeText([layout.rows, layout.columns]))")
        }
        return layout
    }

    public func validate(_ inputs: [NDArray], node: Apply) throws { _ = try layout(inputs) }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let layout = try layout(inputs), shape = inputs[1].elements(as: Int64.self).map(Int.init)
        return [inputs[0].dtype.visitNumeric(Scatter(patches: inputs[0].contiguous(), shape: shape, layout: layout))!]
    }

    /// Adds each patch element into its image element, in the order of the patch matrix.
    private struct Scatter: NumericVisitor {
        let patches: NDArray, shape: [Int], layout: PatchLayout
        func visit<T: NumericElement>(_: T.Type) -> NDArray {
            let out = NDArray(zeros: shape, dtype: patches.dtype)
            patches.withUnsafePointer(to: T.self) { source in
                out.withUnsafeMutablePointer(to: T.self) { image in
                    layout.forEachElement { index, position in
                        if let position { image[position] = T.add(image[position], source[index]) }
                    }
                }
            }
            return out
        }
    }

    /// The patches of the gradient, with the static sizes of the patches given (the patches'
    /// type knows sizes the images' may not).
    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return [nil, nil] }
        let patches = try ImagePatches(geometry: geometry)([g], at: node.location)
        return [try reshape(patches, sizes: node.inputs[0].dimensionSizes(), at: node.location), nil]
    }

    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        [try inputTangents[0].map { try self([$0, node.inputs[1]], at: node.location) }]
    }

    public func isConnected(toInput index: Int) -> Bool { index == 0 }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        [try (0..<imageShape.count).map { d in
            try imageShape[d].map { constant(Double($0), dtype: .int64) } ?? node.inputs[1][d]
        }]
    }
}

extension PatchSum: CFillKernelOp {
    /// Image row by image row: each row zeroed, then every window tap that reads it adds its
    /// stretch of patch elements, in tap order (the order of the reference implementation).
    /// Without padding, an image plane that `begin ..< end` covers is summed tap by tap —
    /// each element still gets its taps in order — which runs two to three times faster.
    package func cFillKernel(name: String, node: Apply) -> String? {
        let g = geometry.threeAxes, t = node.outputTypes[0].dtype.cType.rawValue
        /// The window position `o` reading input position `i` (`t` + axis letter) along
        /// spatial axis `d` through tap `k`, or a `continue` when none does.
        func position(_ d: Int, _ axis: String, _ k: String) -> String {
            """
            const int64_t t\(axis) = i\(axis) + \(g.padLow[d]) - \(k) * \(g.dilation[d]);
                        if (t\(axis) < 0 || t\(axis) % \(g.strides[d]) != 0 || t\(axis) / \(g.strides[d]) >= O\(axis.uppercased())) continue;
                        const int64_t o\(axis) = t\(axis) / \(g.strides[d]);
            """
        }
        return """
            void \(name)(int64_t begin, int64_t end, const void *const *in, void *out_) {
            \(PatchLayout.cSizes(g))
                const \(t) *patches = (const \(t) *)in[1];
                \(t) *restrict out = (\(t) *)out_;
                for (int64_t line = begin / W; line * W < end; line++) {
                    \(g.isUnpadded ? """
                    if (line % (D * H) == 0 && line * W >= begin && (line + D * H) * W <= end) {
                                /* A whole image plane, and no padding: zeroed, then each tap adds its patches. */
                                const int64_t c = line / (D * H) % C, n = line / (D * H * C);
                                \(t) *plane = out + line * W;
                                for (int64_t i = 0; i < D * H * W; i++) plane[i] = 0;
                                for (int64_t kd = 0; kd < \(g.window[0]); kd++) for (int64_t kh = 0; kh < \(g.window[1]); kh++) for (int64_t kw = 0; kw < \(g.window[2]); kw++) {
                                    const \(t) *src = patches + (((c * \(g.window[0]) + kd) * \(g.window[1]) + kh) * \(g.window[2]) + kw) * Q + n * OD * OH * OW;
                                    for (int64_t od = 0; od < OD; od++) for (int64_t oh = 0; oh < OH; oh++, src += OW) {
                                        \(t) *dst = plane + ((od * \(g.strides[0]) + kd * \(g.dilation[0])) * H + oh * \(g.strides[1]) + kh * \(g.dilation[1])) * W + kw * \(g.dilation[2]);
                                        for (int64_t ow = 0; ow < OW; ow++) dst[ow * \(g.strides[2])] += src[ow];
                                    }
                                }
                                line += D * H - 1;
                                continue;
                            }
            """ : "")
                    const int64_t ih = line % H, id = line / H % D, c = line / (H * D) % C, n = line / (H * D * C);
                    const int64_t w0 = begin > line * W ? begin - line * W : 0;
                    const int64_t w1 = end < (line + 1) * W ? end - line * W : W;
                    \(t) *dst = out + line * W;
                    for (int64_t iw = w0; iw < w1; iw++) dst[iw] = 0;
                    for (int64_t kd = 0; kd < \(g.window[0]); kd++) {
                        \(position(0, "d", "kd"))
                        for (int64_t kh = 0; kh < \(g.window[1]); kh++) {
                            \(position(1, "h", "kh"))
                            for (int64_t kw = 0; kw < \(g.window[2]); kw++) {
                                const int64_t row = ((c * \(g.window[0]) + kd) * \(g.window[1]) + kh) * \(g.window[2]) + kw;
                                const \(t) *src = patches + row * Q + ((n * OD + od) * OH + oh) * OW;
                                const int64_t shift = kw * \(g.dilation[2]) - \(g.padLow[2]);
                                /* Window positions whose tap lands in w0 ..< w1: lo <= ow < hi. */
                                int64_t lo = w0 - shift <= 0 ? 0 : (w0 - shift + \(g.strides[2] - 1)) / \(g.strides[2]);
                                int64_t hi = w1 - shift <= 0 ? 0 : (w1 - shift + \(g.strides[2] - 1)) / \(g.strides[2]);
                                if (hi > OW) hi = OW;
                                for (int64_t ow = lo; ow < hi; ow++) dst[ow * \(g.strides[2]) + shift] += src[ow];
                            }
                        }
                    }
                }
            }
            """
    }

    package func fillShape(_ inputs: [NDArray]) throws -> [Int] {
        _ = try layout(inputs)
        return inputs[1].elements(as: Int64.self).map(Int.init)
    }

    package func fillKernelArguments(for inputs: [NDArray]) -> [Int64] {
        (try? layout(inputs).kernelArguments) ?? []
    }

    package var workPerElement: Int { geometry.taps }
}
