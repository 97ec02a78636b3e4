import Theano

/// A classifier of images `(channels, rows, columns)` whose network is a stack of layers —
/// a convnet such as ``lenet(channels:size:classes:filters:hidden:random:)`` — trained by an ``Optimizer``
/// on the cross-entropy of its softmax, as the convolutional network of the Theano tutorial.
public final class ConvolutionalClassifier: MinibatchClassifier {
    /// The layers, from images to class scores.
    public let network: Sequential
    /// The shape of one image: channels, rows, columns.
    public let imageShape: [Int]
    /// Weights and biases, layer by layer.
    public var parameters: [SharedVariable] { network.parameters }
    private let trainStep: Function
    private let predictor: Function

    /// Builds and compiles the training step (cost, gradients, `optimizer`'s updates and the
    /// layers' own, such as batch norm's running averages) and the prediction function.
    /// - Parameter l2: weight decay added to the cost, `l2 · Σ‖W‖²` over the filters and weights.
    public init(network: Sequential, imageShape: [Int], optimizer: Optimizer, l2: Double = 0, options: CompileOptions = .default,
                profile: Bool = false) throws {
        (self.network, self.imageShape) = (network, imageShape)
        let outputShape = try network.outputShape([nil] + imageShape.map(Optional.init))
        guard outputShape.count == 2 else {
            throw TheanoError.invalidArgument(function: "ConvolutionalClassifier", reason: "the network must end in class scores (batch, classes), "
                                              + "not \(outputShape.map { $0.map(String.init) ?? "?" })", location: .resolve(fileID: #fileID, line: #line))
        }
        let x = tensor("x", dtype: .float32, shape: [nil] + imageShape.map(Optional.init))
        let y = vector("y", dtype: .int64)
        var updates: [SharedVariable: Variable] = [:]
        var cost = try mean(categoricalCrossentropy(softmax(network(x, training: true, updates: &updates)), y))
        if l2 > 0 {
            let weights = network.parameters.filter { $0.ndim > 1 }
            cost = try weights.map { try sum(sqr($0)) }.reduce(cost) { try $0 + l2 * $1 }
        }
        updates.merge(try optimizer.updates(cost, parameters: network.parameters)) { _, optimizer in optimizer }
        trainStep = try function(inputs: [x, y], outputs: [cost], updates: updates, name: "train", options: options, profile: profile)
        predictor = try function(inputs: [x], outputs: [argmax(network(x), axis: 1)], name: "predict", options: options)
    }

    /// Where the training step spends its time (when built with `profile: true`).
    public var trainingProfile: Profile? { trainStep.profile }

    /// One training step on a minibatch (images as rows of pixels, or already shaped); returns its cost.
    public func step(images: NDArray, labels: NDArray) throws -> Double {
        try trainStep(shaped(images), labels)[0].scalar(as: Double.self)
    }

    /// The predicted class of each image.
    public func predict(_ images: NDArray) throws -> NDArray { try predictor(shaped(images))[0] }

    /// The fraction of `data` classified correctly.
    public func accuracy(on data: Dataset) throws -> Double { data.accuracy(of: try predict(data.images)) }

    /// `images` as `(batch, channels, rows, columns)`.
    private func shaped(_ images: NDArray) -> NDArray { images.reshaped([images.shape[0]] + imageShape) }
}

/// LeNet-5 as the Theano tutorial trains it (LeCun et al., 1998): two convolution and
/// max-pooling stages of 5×5 filters (`filters.0` then `filters.1` of them, rectified), a
/// rectified hidden layer of `hidden` units and a linear layer of class scores.
public func lenet(channels: Int = 1, size: Int = 28, classes: Int = 10, filters: (Int, Int) = (20, 50), hidden: Int = 500,
                  random: inout RandomState) throws -> Sequential {
    let features = Sequential([
        try Conv2D(channels, filters.0, window: [5, 5], activation: .relu, initializer: .heUniform, name: "conv1", random: &random),
        Pool2D(window: [2, 2]),
        try Conv2D(filters.0, filters.1, window: [5, 5], activation: .relu, initializer: .heUniform, name: "conv2", random: &random),
        Pool2D(window: [2, 2]),
        Flatten(),
    ])
    guard let flat = try features.outputShape([nil, channels, size, size])[1] else { preconditionFailure("static sizes give a static width") }
    return Sequential(features.layers + [
        try Dense(flat, hidden, activation: .relu, initializer: .heUniform, name: "hidden", random: &random),
        try Dense(hidden, classes, name: "scores", random: &random),
    ])
}
