import TheanoCore

/// The convolutions as graphs of patches and matrix products — the form the specialize
/// phase gives them when the filters' spatial size is known, so that they run as
/// ``ImagePatches`` or ``PatchSum`` kernels around BLAS `gemm` calls (one per group), the
/// bias and activation that follow fused into the loop that transposes the product into
/// `(batch, filters, positions…)`. The forward convolution and its filter gradient read the
/// same patches, which merging then computes once.
extension ConvolutionOp {
    /// The geometry of the static window, or `nil` when the graph does not know it.
    var staticGeometry: WindowGeometry? { window.flatMap { try? parameters.geometry(window: $0) } }

    /// The filters `w` (flipped if the op flips them) as a `(filters, channels / groups · taps)` matrix.
    func filterMatrix(_ w: Variable, at location: SourceLocation) throws -> Variable {
        try reshape(flipped(w), sizes: [w.dimensionSizes()[0], constant(-1, dtype: .int64)], at: location)
    }

    /// `w` reversed along its spatial axes if the op flips filters.
    func flipped(_ w: Variable) throws -> Variable {
        guard parameters.flipsFilters else { return w }
        return try w[indices: [TensorIndex.all, .all] + (0..<rank).map { _ in TensorIndex.stride(by: -1) }]
    }

    /// The gradient `g` `(batch, filters, positions…)` as a `(filters, batch · positions)` matrix.
    func gradientMatrix(_ g: Variable, at location: SourceLocation) throws -> Variable {
        try reshape(g.transpose([1, 0] + Array(2..<g.ndim)), sizes: [g.dimensionSizes()[1], constant(-1, dtype: .int64)], at: location)
    }

    /// `op(a_g) · op(b_g)` for the row blocks of `a` and `b`, one `dot` per group, the results' rows joined.
    func groupedProduct(_ a: Variable, _ b: Variable, transposingA: Bool = false, transposingB: Bool = false,
                        at location: SourceLocation) throws -> Variable {
        func blocks(_ x: Variable) throws -> [Variable] {
            guard groups > 1 else { return [x] }
            let rows = try intDiv(x.dimensionSizes()[0], constant(Double(groups), dtype: .int64))
            return try split(x, sizes: Array(repeating: rows, count: groups), axis: 0, at: location)
        }
        let products = try zip(blocks(a), blocks(b)).map { left, right in
            try dot(transposingA ? left.T : left, transposingB ? right.T : right)
        }
        return groups == 1 ? products[0] : try concatenate(products, axis: 0)
    }
}

extension Convolution {
    /// `filters · patches(x)`, reshaped to `(filters, batch, positions…)` and transposed;
    /// `nil` when the window is not static.
    package func lowered(_ node: Apply) throws -> Variable? {
        guard let geometry = staticGeometry else { return nil }
        let (x, w) = (node.inputs[0], node.inputs[1]), location = node.location
        return try SourceLocation.attributing(to: location) {
            let patches = try ImagePatches(geometry: geometry)([x], at: location)
            let product = try groupedProduct(filterMatrix(w, at: location), patches, at: location)
            let sizes = try x.dimensionSizes(), known = node.outputTypes[0].shape
            let symbolic = try [w.dimensionSizes()[0], sizes[0]] + geometry.outputSizes(Array(sizes[2...]))
            let shape = zip([known[1], known[0]] + known.dropFirst(2), symbolic).map { size, fallback in
                size.map { constant(Double($0), dtype: .int64) } ?? fallback
            }
            return try reshape(product, sizes: shape, at: location).transpose([1, 0] + Array(2..<x.ndim))
        }
    }
}

extension ConvolutionGradInputs {
    /// `patchSum(filtersᵀ · gradient)`; `nil` when the window is not static.
    package func lowered(_ node: Apply) throws -> Variable? {
        guard let geometry = staticGeometry else { return nil }
        let (g, w) = (node.inputs[0], node.inputs[1]), location = node.location
        return try SourceLocation.attributing(to: location) {
            let patches = try groupedProduct(filterMatrix(w, at: location), gradientMatrix(g, at: location), transposingA: true, at: location)
            return try PatchSum(geometry: geometry, imageShape: node.outputTypes[0].shape)([patches, node.inputs[2]], at: location)
        }
    }
}

extension ConvolutionGradFilters {
    /// `gradient · patches(x)ᵀ`, reshaped to the filters' shape (and flipped back if the op
    /// flips); `nil` when the window is not static.
    package func lowered(_ node: Apply) throws -> Variable? {
        guard let geometry = staticGeometry else { return nil }
        let (x, g) = (node.inputs[0], node.inputs[1]), location = node.location
        return try SourceLocation.attributing(to: location) {
            let patches = try ImagePatches(geometry: geometry)([x], at: location)
            let product = try groupedProduct(gradientMatrix(g, at: location), patches, transposingB: true, at: location)
            return try flipped(reshape(product, sizes: sizes(of: node.inputs[2], known: filterShape), at: location))
        }
    }
}
