import TheanoCore

/// Images `(batch, channels, rows, columns)` enlarged `ratio` times along rows and columns
/// by bilinear interpolation (Theano's `bilinear_upsampling`, with its conventions): each
/// image's border rows and columns repeated once, then a transposed convolution with the
/// fixed triangular kernel `[1, 2, …, ratio, …, 2, 1] / ratio` at stride `ratio`, rows
/// first, then columns. For an even ratio the last row and column are repeated once more
/// than the first, as in Theano. Differentiable: the gradient is a convolution.
public func bilinearUpsampling(_ images: Variable, ratio: Int, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    guard images.ndim == 4, ratio >= 1 else {
        throw TheanoError.invalidArgument(function: "bilinearUpsampling", reason: "expects 4-d images and a ratio of at least 1, "
                                          + "got \(images.ndim) dimensions and ratio \(ratio)", location: location)
    }
    let x = images.dtype.isFloat ? images : try cast(images, to: images.dtype.upgradedToFloat, at: location)
    return try SourceLocation.attributing(to: location) {
        let sizes = try x.dimensionSizes()
        let one = constant(1, dtype: .int64)
        let planes = try reshape(x, sizes: [sizes[0] * sizes[1], one, sizes[2], sizes[3]], at: location)
        let rowsPadded = try concatenate([planes[.all, .all, 0..<1, .all], planes, planes[.all, .all, (-1)..., .all]], axis: 2)
        let padded = try concatenate([rowsPadded[.all, .all, .all, 0..<1], rowsPadded, rowsPadded[.all, .all, .all, (-1)...]], axis: 3)
        let triangle = (1...ratio).map { Double($0) } + (1..<ratio).reversed().map { Double($0) }
        let kernel = NDArray(triangle.map { $0 / Double(ratio) }, shape: [triangle.count]).cast(to: x.dtype)
        let pad = 2 * ratio - (ratio - 1) / 2 - 1, taps = triangle.count
        let (rowsUp, columnsUp) = (try sizes[2] * ratio, try sizes[3] * ratio)
        let (staticRows, staticColumns) = (x.staticShape[2].map { $0 * ratio }, x.staticShape[3])
        func parameters(low: [Int], strides: [Int]) throws -> ConvolutionParameters {
            try ConvolutionParameters(rank: 2, padding: .explicit(low: low, high: low), strides: strides, dilation: [1, 1], groups: 1,
                                      flipsFilters: true, function: "bilinearUpsampling", location: location)
        }
        let rows = try transposedConvolution(padded, constant(kernel.reshaped([1, 1, taps, 1])),
                                             imageSizes: [sizes[0] * sizes[1], one, rowsUp, sizes[3] + 2],
                                             staticShape: [nil, 1, staticRows, staticColumns.map { $0 + 2 }],
                                             parameters: parameters(low: [pad, 0], strides: [ratio, 1]), location: location)
        let both = try transposedConvolution(rows, constant(kernel.reshaped([1, 1, 1, taps])),
                                             imageSizes: [sizes[0] * sizes[1], one, rowsUp, columnsUp],
                                             staticShape: [nil, 1, staticRows, staticColumns.map { $0 * ratio }],
                                             parameters: parameters(low: [0, pad], strides: [1, ratio]), location: location)
        return try reshape(both, sizes: [sizes[0], sizes[1], rowsUp, columnsUp], at: location)
    }
}
