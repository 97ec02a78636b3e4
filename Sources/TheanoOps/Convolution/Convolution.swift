import TheanoCore

/// What the three convolution ops share: their ``ConvolutionParameters``, what the graph
/// knows of the filters' spatial size, and the reference arithmetic, which is Theano's
/// `CorrMM`: the images' patches (``ImagePatches``) times the filters as a matrix, one
/// product per group.
///
/// Images are `(batch, channels, spatial…)`, filters `(filters, channels / groups, window…)`,
/// outputs `(batch, filters, positions…)`. Group `g` of `groups` convolves input channels
/// `g·C/G ..< (g+1)·C/G` with filters `g·F/G ..< (g+1)·F/G`.
public protocol ConvolutionOp: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    /// Padding, strides, dilation, groups and flipping.
    var parameters: ConvolutionParameters { get }
    /// The filters' spatial size when the graph knows it (then the op is compiled as
    /// patches and matrix products; else it runs its reference implementation).
    var window: [Int]? { get }
}

extension ConvolutionOp {
    var groups: Int { parameters.groups }
    var rank: Int { parameters.rank }

    var parameterText: String {
        let text = "\(parameters)"
        return text.isEmpty ? "" : "{\(text)}"
    }

    /// The geometry for filters of spatial size `window`, checked against the static one.
    func geometry(window actual: [Int]) throws -> WindowGeometry {
        if let window, window != actual { throw OpError("filters of spatial shape \(actual) where the graph has \(window)") }
        return try parameters.geometry(window: actual)
    }

    /// The filters, flipped if the op flips them, as a contiguous `(filters, channels / groups · taps)` matrix.
    func filterMatrix(_ w: NDArray) -> NDArray {
        flippedFilters(w).contiguous().reshaped([w.shape[0], w.count / Swift.max(w.shape[0], 1)])
    }

    /// `w` flipped along its spatial axes when the op flips filters (a view).
    func flippedFilters(_ w: NDArray) -> NDArray {
        guard parameters.flipsFilters else { return w }
        return (2..<w.ndim).reduce(w) { w, d in w.shape[d] == 0 ? w : w.sliced(axis: d, start: w.shape[d] - 1, count: w.shape[d], step: -1) }
    }

    /// The matrix products of matching row blocks of `a` and `b`, one per group, the results'
    /// rows stacked: block `g` is `op(a_g) · op(b_g)` with `op` a transpose where asked.
    func groupedProduct(_ a: NDArray, _ b: NDArray, transposingA: Bool = false, transposingB: Bool = false) -> NDArray {
        let blocks = (0..<groups).map { g in
            let (ra, rb) = (a.shape[0] / groups, b.shape[0] / groups)
            let left = a.sliced(axis: 0, start: g * ra, count: ra), right = b.sliced(axis: 0, start: g * rb, count: rb)
            return (transposingA ? left.transposed() : left).matrixProduct(transposingB ? right.transposed() : right)
        }
        guard groups > 1 else { return blocks[0] }
        return try! NDArray(stacking: blocks).reshaped([blocks[0].shape[0] * groups, blocks[0].shape[1]])
    }

    /// The geometry and patch layout of images of `image` shape convolved with filters of
    /// `filters` shape, after checking that they fit (channels divisible by the groups).
    func checkedLayout(image: [Int], filters: [Int]) throws -> (geometry: WindowGeometry, layout: PatchLayout) {
        guard image.count == rank + 2, filters.count == rank + 2 else {
            throw OpError("expects images and filters of \(rank + 2) dimensions, got shapes \(shapeText(image)) and \(shapeText(filters))")
        }
        guard image[1] % groups == 0, filters[0] % groups == 0, filters[1] * groups == image[1] else {
            throw OpError("images of shape \(shapeText(image)) and filters of shape \(shapeText(filters)) do not fit: filters must be "
                          + "(F, C / \(groups), …) with C = \(image[1]) and F divisible by \(groups)")
        }
        let geometry = try geometry(window: Array(filters[2...]))
        return (geometry, try PatchLayout(imageShape: image, geometry: geometry))
    }

    /// A gradient (batch × filters × positions) as the `(filters, batch · positions)` matrix.
    func gradientMatrix(_ g: NDArray) -> NDArray {
        let order = [1, 0] + Array(2..<g.ndim)
        return g.transposed(order).contiguous().reshaped([g.shape[1], g.count / Swift.max(g.shape[1], 1)])
    }

    /// Checks that the gradient `g` has the shape of the output of images of shape `image`
    /// convolved with filters `filters` under `layout`.
    func checkGradient(_ g: [Int], image: [Int], filters: [Int], layout: PatchLayout) throws {
        let expected = [image[0], filters[0]] + layout.output.suffix(rank)
        guard g == expected else { throw OpError("a gradient of shape \(shapeText(g)) for an output of shape \(shapeText(expected))") }
    }

    /// Checks the static types (images, filters, output gradient; each known up to `nil`
    /// sizes) and returns the output's static spatial sizes.
    func checkTypes(images: TensorType, filters: TensorType, gradient: TensorType? = nil) throws -> [Int?] {
        guard images.ndim == rank + 2, filters.ndim == rank + 2, gradient.map({ $0.ndim == rank + 2 }) ?? true else {
            throw OpError("expects tensors of \(rank + 2) dimensions (batch, channels, \(rank) spatial)")
        }
        guard [images, filters, gradient].compactMap({ $0 }).allSatisfy({ $0.dtype.isFloat && $0.dtype == images.dtype }) else {
            throw OpError("expects float tensors of one dtype")
        }
        if let channels = images.shape[1], channels % groups != 0 { throw OpError("\(channels) channels do not split into \(groups) groups") }
        if let count = filters.shape[0], count % groups != 0 { throw OpError("\(count) filters do not split into \(groups) groups") }
        if let channels = images.shape[1], let perGroup = filters.shape[1], perGroup * groups != channels {
            throw OpError("filters of \(perGroup) channels for images of \(channels) channels in \(groups) group(s)")
        }
        if let window, Array(filters.shape[2...]) != window.map(Optional.init) {
            throw OpError("filters of spatial shape \(filters.shape[2...].map { $0.map(String.init) ?? "?" }) for a window of \(window)")
        }
        let positions = try window.map { try parameters.geometry(window: $0).outputSizes(images.spatialShape) } ?? Array(repeating: nil, count: rank)
        if let gradient {
            if let count = filters.shape[0], let given = gradient.shape[1], count != given { throw OpError("a gradient of \(given) channels for \(count) filters") }
            if let a = images.shape[0], let b = gradient.shape[0], a != b { throw OpError("a gradient for \(b) images, not \(a)") }
            for (d, (a, b)) in zip(positions, gradient.spatialShape).enumerated() {
                if let a, let b, a != b { throw OpError("a gradient of \(b) positions along spatial axis \(d) where the output has \(a)") }
            }
        }
        return positions
    }

    /// The sizes a shape vector input holds, checked against what the graph knows of them.
    func shapeInput(_ vector: NDArray, known: [Int?], named name: String) throws -> [Int] {
        let sizes = vector.elements(as: Int64.self).map(Int.init)
        guard zip(sizes, known).allSatisfy({ $1 == nil || $0 == $1 }) else {
            throw OpError("\(name) shape \(shapeText(sizes)) differs from the graph's \(known.map { $0.map(String.init) ?? "?" })")
        }
        return sizes
    }

    /// The spatial sizes a shape vector input holds, known or not (its static knowledge `known`).
    func sizes(of vector: Variable, known: [Int?]) throws -> [Variable] {
        try known.indices.map { d in try known[d].map { constant(Double($0), dtype: .int64) } ?? vector[d] }
    }
}

/// A convolution of a batch of images with a bank of filters (``ConvolutionOp``): inputs
/// images `(N, C, spatial…)` and filters `(F, C / groups, window…)`, output `(N, F, positions…)`.
public struct Convolution: ConvolutionOp {
    public let parameters: ConvolutionParameters
    public let window: [Int]?

    package init(parameters: ConvolutionParameters, window: [Int]?) { (self.parameters, self.window) = (parameters, window) }

    public var description: String { "conv\(rank)d\(parameterText)" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (x, w) = (inputs[0], inputs[1])
        return [TensorType(x.dtype, shape: [x.shape[0], w.shape[0]] + (try checkTypes(images: x, filters: w)))]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let (x, w) = (inputs[0], inputs[1])
        let (geometry, layout) = try checkedLayout(image: x.shape, filters: w.shape)
        let patches = try ImagePatches(geometry: geometry).perform([x])[0]
        let product = groupedProduct(filterMatrix(w), patches)  // (F, N · positions)
        let shape = [w.shape[0], x.shape[0]] + layout.output.suffix(rank)
        return [product.reshaped(shape).transposed([1, 0] + Array(2..<x.ndim)).contiguous()]
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return [nil, nil] }
        let (x, w) = (node.inputs[0], node.inputs[1])
        let inputs = ConvolutionGradInputs(parameters: parameters, window: window, imageShape: x.type.shape)
        let filters = ConvolutionGradFilters(parameters: parameters, filterShape: w.type.shape)
        return [try inputs([g, w, shape(x)], at: node.location), try filters([x, g, shape(w)], at: node.location)]
    }

    /// Bilinear: `conv(ẋ, w) + conv(x, ẇ)`.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        [try productRule(node.inputs, tangents: inputTangents) { try self($0, at: node.location) }]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        let (x, w) = (inputShapes[0], inputShapes[1])
        return [[x[0], w[0]] + (try parameters.symbolicPositions(Array(x[2...]), window: Array(w[2...])))]
    }
}

/// The gradient of a ``Convolution`` with respect to its images, given the gradient of its
/// output — the transposed convolution (Theano's `conv2d_grad_wrt_inputs`). Inputs: the
/// output gradient `(N, F, positions…)`, the filters, and the image shape as an `int64`
/// vector (strided windows leave it ambiguous).
public struct ConvolutionGradInputs: ConvolutionOp {
    public let parameters: ConvolutionParameters
    public let window: [Int]?
    /// What the graph knows of the image shape before it runs (checked when it runs).
    public let imageShape: [Int?]

    package init(parameters: ConvolutionParameters, window: [Int]?, imageShape: [Int?]) {
        (self.parameters, self.window, self.imageShape) = (parameters, window, imageShape)
    }

    public var description: String { "conv\(rank)d_grad_inputs\(parameterText)" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (g, w) = (inputs[0], inputs[1])
        guard inputs[2].dtype == .int64, inputs[2].shape == [rank + 2], imageShape.count == rank + 2 else {
            throw OpError("expects the image shape as an int64 vector of \(rank + 2) sizes")
        }
        let images = TensorType(g.dtype, shape: [imageShape[0] ?? g.shape[0], imageShape[1] ?? w.shape[1].map { $0 * groups }] + imageShape.dropFirst(2))
        _ = try checkTypes(images: images, filters: w, gradient: g)
        return [images]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let (g, w) = (inputs[0], inputs[1]), image = try shapeInput(inputs[2], known: imageShape, named: "image")
        let (geometry, layout) = try checkedLayout(image: image, filters: w.shape)
        try checkGradient(g.shape, image: image, filters: w.shape, layout: layout)
        let patches = groupedProduct(filterMatrix(w), gradientMatrix(g), transposingA: true)  // (C · taps, N · positions)
        return try PatchSum(geometry: geometry, imageShape: image.map(Optional.init)).perform([patches, inputs[2]])
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let gg = outputGradients[0] else { return [nil, nil, nil] }
        let (g, w) = (node.inputs[0], node.inputs[1])
        let forward = Convolution(parameters: parameters, window: window)
        let filters = ConvolutionGradFilters(parameters: parameters, filterShape: w.type.shape)
        return [try forward([gg, w], at: node.location), try filters([gg, g, shape(w)], at: node.location), nil]
    }

    public func isConnected(toInput index: Int) -> Bool { index < 2 }

    /// Bilinear in the gradient and the filters.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        [try productRule(node.inputs, tangents: Array(inputTangents.prefix(2)) + [nil]) { try self($0, at: node.location) }]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        [try sizes(of: node.inputs[2], known: imageShape)]
    }
}

/// The gradient of a ``Convolution`` with respect to its filters, given its images and the
/// gradient of its output (Theano's `conv2d_grad_wrt_weights`). Inputs: the images
/// `(N, C, spatial…)`, the output gradient `(N, F, positions…)` and the filter shape as an
/// `int64` vector; output `(F, C / groups, window…)`.
public struct ConvolutionGradFilters: ConvolutionOp {
    public let parameters: ConvolutionParameters
    /// What the graph knows of the filter shape before it runs (checked when it runs).
    public let filterShape: [Int?]

    package init(parameters: ConvolutionParameters, filterShape: [Int?]) { (self.parameters, self.filterShape) = (parameters, filterShape) }

    public var window: [Int]? {
        let spatial = filterShape.dropFirst(2).compactMap { $0 }
        return spatial.count == rank ? spatial : nil
    }

    public var description: String { "conv\(rank)d_grad_filters\(parameterText)" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (x, g) = (inputs[0], inputs[1])
        guard inputs[2].dtype == .int64, inputs[2].shape == [rank + 2], filterShape.count == rank + 2 else {
            throw OpError("expects the filter shape as an int64 vector of \(rank + 2) sizes")
        }
        let filters = TensorType(x.dtype, shape: [filterShape[0] ?? g.shape[1], filterShape[1] ?? x.shape[1].map { $0 / groups }] + filterShape.dropFirst(2))
        _ = try checkTypes(images: x, filters: filters, gradient: g)
        return [filters]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let (x, g) = (inputs[0], inputs[1]), filters = try shapeInput(inputs[2], known: filterShape, named: "filter")
        let (geometry, layout) = try checkedLayout(image: x.shape, filters: filters)
        try checkGradient(g.shape, image: x.shape, filters: filters, layout: layout)
        let patches = try ImagePatches(geometry: geometry).perform([x])[0]
        let product = groupedProduct(gradientMatrix(g), patches, transposingB: true)  // (F, C / groups · taps)
        return [flippedFilters(product.reshaped(filters)).contiguous()]
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let gg = outputGradients[0] else { return [nil, nil, nil] }
        let (x, g) = (node.inputs[0], node.inputs[1])
        let inputs = ConvolutionGradInputs(parameters: parameters, window: window, imageShape: x.type.shape)
        let forward = Convolution(parameters: parameters, window: window)
        return [try inputs([g, gg, shape(x)], at: node.location), try forward([x, gg], at: node.location), nil]
    }

    public func isConnected(toInput index: Int) -> Bool { index < 2 }

    /// Bilinear in the images and the gradient.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        [try productRule(node.inputs, tangents: Array(inputTangents.prefix(2)) + [nil]) { try self($0, at: node.location) }]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        [try sizes(of: node.inputs[2], known: filterShape)]
    }
}
