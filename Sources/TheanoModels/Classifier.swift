import Theano

/// A feed-forward classifier trained by minibatch SGD, written the way a Theano tutorial
/// writes it: symbolic inputs, shared parameters, a cost, its gradient, and a compiled
/// training function whose updates move the parameters.
///
/// With no hidden layers it is multinomial logistic regression; with hidden layers, a
/// multilayer perceptron, optionally trained with (inverted) dropout on its hidden units,
/// and optionally with a linear bottleneck layer between consecutive hidden layers (Lin,
/// Memisevic and Konda, "How far can we go without convolution", 2015): `W` factored as
/// `U · V` through a narrow linear layer.
public final class Classifier: MinibatchClassifier {
    /// The layers and their nonlinearity, as graph builders.
    public struct Network {
        /// The layers, inputs first.
        public let layers: [Dense]
        /// The hidden layers' nonlinearity.
        public let activation: Activation
        /// The positions of the linear bottleneck layers (no nonlinearity, no noise).
        public let bottlenecks: Set<Int>

        /// The output layer's pre-activations (the logits) for `x`, each hidden layer's
        /// output passed through `noise` first (the identity when predicting).
        public func logits(_ x: Variable, noise: (Variable) throws -> Variable = { $0 }) throws -> Variable {
            var h = x
            for (index, layer) in layers.enumerated() {
                h = try layer(h)
                if index < layers.count - 1, !bottlenecks.contains(index) { h = try noise(activation(h)) }
            }
            return h
        }

        /// The first hidden layer's output for `x` (`x` itself for logistic regression).
        public func firstHiddenLayer(_ x: Variable) throws -> Variable {
            guard let first = layers.indices.dropLast().first(where: { !bottlenecks.contains($0) }) else { return x }
            return try activation(layers[...first].reduce(x) { try $1($0) })
        }
    }

    /// The network the classifier trains.
    public let network: Network
    /// Weights and biases, layer by layer.
    public var parameters: [SharedVariable] { network.layers.flatMap(\.parameters) }
    private let trainStep: Function
    private let predictor: Function

    /// Builds and compiles the model.
    /// - Parameters:
    ///   - sizes: the layer widths, inputs first and classes last (`[64, 10]` is logistic
    ///     regression, `[64, 32, 10]` an MLP with one hidden layer of 32 units).
    ///   - l2: weight decay added to the cost, `l2 · Σ‖W‖²`.
    ///   - dropout: the rate at which hidden units are dropped while training (0: none);
    ///     predictions use the whole network.
    ///   - bottleneck: the width of a linear layer put between each two consecutive hidden
    ///     layers (0: none).
    ///   - initialLayers: parameters to start from instead of random ones (pretrained
    ///     features), one per layer, of the sizes `sizes` asks for (without bottlenecks).
    public init(sizes: [Int], activation: Activation = .tanh, learningRate: Double, l2: Double = 0, dropout: Double = 0,
                bottleneck: Int = 0, initialLayers: [Dense]? = nil, seed: UInt64 = 1234, options: CompileOptions = .default,
                profile: Bool = false) throws {
        var random = RandomState(seed: seed)
        var layers: [Dense] = [], bottlenecks: Set<Int> = []
        if let initialLayers { layers = initialLayers }
        for (index, (fanIn, fanOut)) in zip(sizes, sizes.dropFirst()).enumerated() where initialLayers == nil {
            var inputs = fanIn
            if bottleneck > 0, index > 0, index < sizes.count - 2 {
                bottlenecks.insert(layers.count)
                layers.append(try Dense(fanIn, bottleneck, name: "\(index)_bottleneck", random: &random))
                inputs = bottleneck
            }
            // Glorot-uniform weights for hidden layers; zeros for a lone logistic regression.
            layers.append(try Dense(inputs, fanOut, name: "\(index)", scale: sizes.count == 2 ? 0 : 1, random: &random))
        }
        let network = Network(layers: layers, activation: activation, bottlenecks: bottlenecks)
        self.network = network
        let x = matrix("x", shape: (nil, sizes[0]))
        let y = vector("y", dtype: .int64)
        let streams = RandomStreams(seed: seed)
        let probabilities = try softmax(network.logits(x) { h in try Theano.dropout(h, rate: dropout, streams: streams) })
        var cost = try mean(categoricalCrossentropy(probabilities, y))
        if l2 > 0 {
            cost = try layers.map { try sum(sqr($0.weights)) }.reduce(cost) { try $0 + l2 * $1 }
        }
        let updates = try Optimizer(.sgd, learningRate: .constant(learningRate)).updates(cost, parameters: layers.flatMap(\.parameters))
        trainStep = try function(inputs: [x, y], outputs: [cost], updates: updates, name: "train", options: options, profile: profile)
        predictor = try function(inputs: [x], outputs: [argmax(network.logits(x), axis: 1)], name: "predict", options: options)
    }

    /// Where the training step spends its time (when built with `profile: true`).
    public var trainingProfile: Profile? { trainStep.profile }

    /// The compiled training step (cost and parameter updates).
    public var trainingFunction: Function { trainStep }

    /// The compiled prediction (the class of each row).
    public var predictionFunction: Function { predictor }

    /// One SGD step on a minibatch; returns its cost.
    public func step(images: NDArray, labels: NDArray) throws -> Double {
        try trainStep(images, labels)[0].scalar(as: Double.self)
    }

    /// The predicted class of each row of `images`.
    public func predict(_ images: NDArray) throws -> NDArray { try predictor(images)[0] }

    /// The fraction of `data` classified correctly.
    public func accuracy(on data: Dataset) throws -> Double { data.accuracy(of: try predict(data.images)) }
}
