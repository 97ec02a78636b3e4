import TheanoCore

/// The convolution of a batch of images `(batch, channels, rows, columns)` with a bank of
/// filters `(filters, channels / groups, rows, columns)`, in NCHW as Theano's `conv2d`:
/// the output is `(batch, filters, output rows, output columns)`.
///
/// - Parameters:
///   - padding: `.valid` (none), `.full`, `.half` (also `.same`), or amounts per axis.
///   - strides: the step between window positions along rows and columns (Theano's `subsample`).
///   - dilation: the step between filter taps (1: adjacent; Theano's `filter_dilation`).
///   - groups: channel groups; `groups` equal to the channels is a depthwise convolution.
///   - flipFilters: `true` (Theano's default) flips the filters, a true convolution;
///     `false` is the cross-correlation most deep-learning libraries call convolution.
///
/// Operands of different float dtypes are converted to the wider. The output's sizes are
/// static where the images' and filters' are, so a mismatch is reported where the graph is
/// built. Compiled with filters of static spatial size (a shared variable's), it runs as
/// patches and a BLAS matrix product per group (``ImagePatches``).
public func conv2d(_ images: Variable, _ filters: Variable, padding: ConvolutionPadding = .valid, strides: [Int] = [1, 1],
                   dilation: [Int] = [1, 1], groups: Int = 1, flipFilters: Bool = true,
                   fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try convolution(images, filters, rank: 2, padding: padding, strides: strides, dilation: dilation, groups: groups,
                    flipFilters: flipFilters, function: "conv2d", location: .resolve(fileID: fileID, line: line))
}

/// The convolution of a batch of volumes `(batch, channels, depth, rows, columns)` with
/// filters `(filters, channels / groups, depth, rows, columns)`: ``conv2d(_:_:padding:strides:dilation:groups:flipFilters:fileID:line:)``
/// with three spatial axes (Theano's `conv3d`).
public func conv3d(_ images: Variable, _ filters: Variable, padding: ConvolutionPadding = .valid, strides: [Int] = [1, 1, 1],
                   dilation: [Int] = [1, 1, 1], groups: Int = 1, flipFilters: Bool = true,
                   fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try convolution(images, filters, rank: 3, padding: padding, strides: strides, dilation: dilation, groups: groups,
                    flipFilters: flipFilters, function: "conv3d", location: .resolve(fileID: fileID, line: line))
}

/// The gradient of `conv2d(images, filters, …)` with respect to its images, given the
/// gradient of its output: the transposed convolution ("deconvolution"), Theano's
/// `conv2d_grad_wrt_inputs`. With strides several image sizes give the same output, so
/// `imageShape` may name them (batch, channels, rows, columns); `nil` entries, or no list,
/// take the batch of the gradient, the channels of the filters and the smallest sizes that fit.
public func conv2dGradInputs(_ outputGradient: Variable, _ filters: Variable, imageShape: [Int?]? = nil,
                             padding: ConvolutionPadding = .valid, strides: [Int] = [1, 1], dilation: [Int] = [1, 1],
                             groups: Int = 1, flipFilters: Bool = true, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line), function = "conv2dGradInputs"
    let parameters = try ConvolutionParameters(rank: 2, padding: padding, strides: strides, dilation: dilation, groups: groups,
                                               flipsFilters: flipFilters, function: function, location: location)
    let given = imageShape ?? [nil, nil, nil, nil]
    let (g, w) = try commonFloat(outputGradient, filters, ndim: 4, function: function, location: location)
    guard given.count == 4 else { throw TheanoError.invalidArgument(function: function, reason: "imageShape \(given) must have 4 sizes", location: location) }
    return try SourceLocation.attributing(to: location) {
        let gradientSizes = try g.dimensionSizes(), filterSizes = try w.dimensionSizes()
        let smallest = try [gradientSizes[0], filterSizes[1] * groups]
            + parameters.symbolicSpan(Array(gradientSizes[2...]), window: Array(filterSizes[2...]))
        let geometry = staticWindow(w, rank: 2).flatMap { try? parameters.geometry(window: $0) }
        let staticSmallest = [g.staticShape[0], w.staticShape[1].map { $0 * groups }] + (0..<2).map { d in
            g.staticShape[d + 2].flatMap { positions in geometry?.smallestInput(forOutput: positions, axis: d) }
        }
        let staticShape = zip(given, staticSmallest).map { $0 ?? $1 }
        let sizes = zip(staticShape, smallest).map { size, fallback in size.map { constant(Double($0), dtype: .int64) } ?? fallback }
        return try transposedConvolution(g, w, imageSizes: sizes, staticShape: staticShape, parameters: parameters, location: location)
    }
}

/// The gradient of `conv2d(images, filters, …)` with respect to its filters, given the
/// images and the gradient of its output (Theano's `conv2d_grad_wrt_weights`); `filterShape`
/// is `(filters, channels / groups, rows, columns)`.
public func conv2dGradFilters(_ images: Variable, _ outputGradient: Variable, filterShape: [Int],
                              padding: ConvolutionPadding = .valid, strides: [Int] = [1, 1], dilation: [Int] = [1, 1],
                              groups: Int = 1, flipFilters: Bool = true, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line), function = "conv2dGradFilters"
    let parameters = try ConvolutionParameters(rank: 2, padding: padding, strides: strides, dilation: dilation, groups: groups,
                                               flipsFilters: flipFilters, function: function, location: location)
    guard filterShape.count == 4, filterShape.allSatisfy({ $0 >= 0 }) else {
        throw TheanoError.invalidArgument(function: function, reason: "filterShape \(filterShape) must be 4 sizes", location: location)
    }
    let (x, g) = try commonFloat(images, outputGradient, ndim: 4, function: function, location: location)
    let op = ConvolutionGradFilters(parameters: parameters, filterShape: filterShape.map(Optional.init))
    return try op([x, g, constant(NDArray(filterShape.map(Int64.init)))], at: location)
}

/// A depthwise convolution (each channel with `multiplier` filters of its own, `depthwiseFilters`
/// of shape `(channels · multiplier, 1, rows, columns)`) followed by a pointwise one
/// (`pointwiseFilters` of shape `(filters, channels · multiplier, 1, 1)`), as in Xception and MobileNet.
public func separableConv2d(_ images: Variable, depthwiseFilters: Variable, pointwiseFilters: Variable,
                            padding: ConvolutionPadding = .valid, strides: [Int] = [1, 1], dilation: [Int] = [1, 1],
                            flipFilters: Bool = true, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    guard images.ndim == 4, let channels = images.staticShape[1] else {
        throw TheanoError.invalidArgument(function: "separableConv2d", reason: "needs 4-d images whose channel count is known when the graph is built",
                                          location: location)
    }
    let depthwise = try conv2d(images, depthwiseFilters, padding: padding, strides: strides, dilation: dilation, groups: channels,
                               flipFilters: flipFilters, fileID: fileID, line: line)
    return try conv2d(depthwise, pointwiseFilters, flipFilters: flipFilters, fileID: fileID, line: line)
}

/// ``ConvolutionGradInputs`` for images of symbolic `imageSizes` (of which the graph knows `staticShape`).
package func transposedConvolution(_ g: Variable, _ w: Variable, imageSizes: [Variable], staticShape: [Int?],
                                   parameters: ConvolutionParameters, location: SourceLocation) throws -> Variable {
    let op = ConvolutionGradInputs(parameters: parameters, window: staticWindow(w, rank: parameters.rank), imageShape: staticShape)
    return try op([g, w, stack(imageSizes)], at: location)
}

/// `images` convolved with `filters` (``Convolution``), after checking the ranks and
/// bringing both to one float dtype.
private func convolution(_ images: Variable, _ filters: Variable, rank: Int, padding: ConvolutionPadding, strides: [Int], dilation: [Int],
                         groups: Int, flipFilters: Bool, function: String, location: SourceLocation) throws -> Variable {
    let parameters = try ConvolutionParameters(rank: rank, padding: padding, strides: strides, dilation: dilation, groups: groups,
                                               flipsFilters: flipFilters, function: function, location: location)
    let (x, w) = try commonFloat(images, filters, ndim: rank + 2, function: function, location: location)
    return try Convolution(parameters: parameters, window: staticWindow(w, rank: rank))([x, w], at: location)
}

/// The filters' spatial size when the graph knows all of it.
private func staticWindow(_ filters: Variable, rank: Int) -> [Int]? {
    let window = filters.staticShape.dropFirst(2).compactMap { $0 }
    return window.count == rank && filters.ndim == rank + 2 ? window : nil
}

/// `a` and `b` in their common float dtype, after checking that both have `ndim` dimensions.
private func commonFloat(_ a: Variable, _ b: Variable, ndim: Int, function: String, location: SourceLocation) throws -> (Variable, Variable) {
    guard a.ndim == ndim, b.ndim == ndim else {
        throw TheanoError.typeMismatch(op: function, inputs: [a.type, b.type], reason: "expects two tensors of \(ndim) dimensions "
                                       + "(batch or filters, channels, \(ndim - 2) spatial)", location: location)
    }
    let dtype = DType.promote(a.dtype, b.dtype).upgradedToFloat
    return (try cast(a, to: dtype, at: location), try cast(b, to: dtype, at: location))
}
