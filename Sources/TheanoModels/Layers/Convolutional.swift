import Theano

/// A convolutional layer, `activation(conv2d(x, W) + b)`, over images `(batch, channels,
/// rows, columns)`: `outputs` filters of `window`, one bias each. Filters are applied
/// without flipping (a cross-correlation, as in Keras; for learned filters the two are the
/// same model).
public struct Conv2D: Layer {
    /// The filters, `(outputs, inputs / groups, rows, columns)`.
    public let filters: SharedVariable
    /// The biases, one per filter.
    public let biases: SharedVariable
    /// The nonlinearity after the convolution.
    public let activation: Activation
    public let padding: ConvolutionPadding, strides: [Int], dilation: [Int], groups: Int

    /// Filters from `initializer` (fan-in: inputs per group × window; fan-out: outputs × window)
    /// and zero biases, in `float32`.
    public init(_ inputs: Int, _ outputs: Int, window: [Int] = [3, 3], padding: ConvolutionPadding = .valid, strides: [Int] = [1, 1],
                dilation: [Int] = [1, 1], groups: Int = 1, activation: Activation = .linear, initializer: Initializer = .glorotUniform,
                name: String, random: inout RandomState) throws {
        let taps = window.reduce(1, *)
        filters = try shared(initializer.array([outputs, inputs / Swift.max(groups, 1)] + window,
                                               fans: (inputs / Swift.max(groups, 1) * taps, outputs * taps), random: &random), name: "W_\(name)")
        biases = try shared(NDArray(zeros: [outputs], dtype: .float32), name: "b_\(name)")
        (self.activation, self.padding, self.strides, self.dilation, self.groups) = (activation, padding, strides, dilation, groups)
    }

    /// The filters and the biases.
    public var parameters: [SharedVariable] { [filters, biases] }

    public func outputShape(_ input: [Int?]) throws -> [Int?] {
        let shape = filters.value.shape
        guard input.count == 4, input[1] == nil || input[1] == shape[1] * groups else {
            throw misfit(input, "is not a batch of images of \(shape[1] * groups) channels")
        }
        let geometry = try WindowGeometry(window: Array(shape[2...]), strides: strides, dilation: dilation, padding: padding,
                                          function: "Conv2D", location: .resolve(fileID: #fileID, line: #line))
        let positions = try input[2...].enumerated().map { d, size in
            try size.map { size in
                guard let positions = geometry.outputSize(size, axis: d) else { throw misfit(input, "is smaller than the window \(shape[2...])") }
                return positions
            }
        }
        return [input[0], shape[0]] + positions
    }

    public func callAsFunction(_ x: Variable, training: Bool, updates: inout [SharedVariable: Variable]) throws -> Variable {
        let convolved = try conv2d(x, filters, padding: padding, strides: strides, dilation: dilation, groups: groups, flipFilters: false)
        return try activation(convolved + biases.dimshuffle(.newAxis, 0, .newAxis, .newAxis))
    }
}

/// A pooling layer over the last two axes (``pool2d(_:window:strides:padding:mode:ignoreBorder:fileID:line:)``).
public struct Pool2D: Layer {
    public let window: [Int], strides: [Int], padding: [Int], mode: PoolingMode, ignoreBorder: Bool

    /// Windows of `window` every `strides` (`nil`: the window).
    public init(window: [Int] = [2, 2], strides: [Int]? = nil, padding: [Int] = [0, 0], mode: PoolingMode = .max, ignoreBorder: Bool = true) {
        (self.window, self.strides, self.padding, self.mode, self.ignoreBorder) = (window, strides ?? window, padding, mode, ignoreBorder)
    }

    public var parameters: [SharedVariable] { [] }

    public func outputShape(_ input: [Int?]) throws -> [Int?] {
        guard input.count >= 2 else { throw misfit(input, "has fewer than 2 axes to pool") }
        let lead = input.count - 2
        return try Array(input.prefix(lead)) + (0..<2).map { d in
            try input[lead + d].map { size in
                guard ignoreBorder ? size + 2 * padding[d] >= window[d] : size > 0 else { throw misfit(input, "is smaller than the window \(window)") }
                return PoolLayout.pooledSize(size, window: window[d], stride: strides[d], padding: padding[d], ignoresBorder: ignoreBorder)
            }
        }
    }

    public func callAsFunction(_ x: Variable, training: Bool, updates: inout [SharedVariable: Variable]) throws -> Variable {
        try pool2d(x, window: window, strides: strides, padding: padding, mode: mode, ignoreBorder: ignoreBorder)
    }
}
