import Theano

/// A feed-forward classifier trained by minibatch SGD, written the way a Theano tutorial
/// writes it: symbolic inputs, shared parameters, a cost, its gradient, and a compiled
/// training function whose updates move the parameters.
///
/// With no hidden layers it is multinomial logistic regression; with hidden layers, a
/// multilayer perceptron.
public final class Classifier {
    /// The nonlinearity of the hidden layers.
    public enum Activation: String, Sendable, CaseIterable {
        /// The hyperbolic tangent, the rectifier (`max(x, 0)`) or the logistic sigmoid.
        case tanh, relu, sigmoid
    }

    /// Weights and biases, layer by layer.
    public let parameters: [SharedVariable]
    private let trainStep: Function
    private let predictor: Function

    /// Builds and compiles the model.
    /// - Parameters:
    ///   - sizes: the layer widths, inputs first and classes last (`[64, 10]` is logistic
    ///     regression, `[64, 32, 10]` an MLP with one hidden layer of 32 units).
    ///   - l2: weight decay added to the cost, `l2 · Σ‖W‖²`.
    public init(sizes: [Int], activation: Activation = .tanh, learningRate: Double, l2: Double = 0,
                seed: UInt64 = 1234, options: CompileOptions = .default, profile: Bool = false) throws {
        var random = RandomState(seed: seed)
        let x = matrix("x", shape: (nil, sizes[0]))
        let y = vector("y", dtype: .int64)
        var parameters: [SharedVariable] = []
        var hidden = x
        for (layer, (fanIn, fanOut)) in zip(sizes, sizes.dropFirst()).enumerated() {
            let isOutput = layer == sizes.count - 2
            // Glorot-uniform weights for hidden layers; zeros for a lone logistic regression.
            let bound = (6.0 / Double(fanIn + fanOut)).squareRoot()
            let weights = sizes.count == 2 ? NDArray(zeros: [fanIn, fanOut], dtype: .float32)
                : NDArray.uniform([fanIn, fanOut], low: -bound, high: bound, using: &random)
            let W = try shared(weights, name: "W\(layer)")
            let b = try shared(NDArray(zeros: [fanOut], dtype: .float32), name: "b\(layer)")
            parameters += [W, b]
            let preActivation = try dot(hidden, W) + b
            hidden = isOutput ? try softmax(preActivation) : try Self.apply(activation, preActivation)
        }
        let probabilities = hidden
        let weights = parameters.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
        var cost = try mean(categoricalCrossentropy(probabilities, y))
        if l2 > 0 {
            cost = try cost + l2 * weights.dropFirst().reduce(sum(sqr(weights[0]))) { try $0 + sum(sqr($1)) }
        }
        let gradients = try grad(cost, wrt: parameters)
        var updates: [SharedVariable: Variable] = [:]
        for (parameter, gradient) in zip(parameters, gradients) {
            updates[parameter] = try parameter - learningRate * gradient
        }
        self.parameters = parameters
        trainStep = try function(inputs: [x, y], outputs: [cost], updates: updates, name: "train", options: options, profile: profile)
        predictor = try function(inputs: [x], outputs: [argmax(probabilities, axis: 1)], name: "predict", options: options)
    }

    private static func apply(_ activation: Activation, _ x: Variable) throws -> Variable {
        switch activation {
        case .tanh: try Theano.tanh(x)
        case .relu: try relu(x)
        case .sigmoid: try sigmoid(x)
        }
    }

    /// Where the training step spends its time (when built with `profile: true`).
    public var trainingProfile: Profile? { trainStep.profile }

    /// The compiled training step (cost and parameter updates).
    public var trainingFunction: Function { trainStep }

    /// One SGD step on a minibatch; returns its cost.
    public func step(images: NDArray, labels: NDArray) throws -> Double {
        try trainStep(images, labels)[0].scalar(as: Double.self)
    }

    /// One pass over `data` in shuffled minibatches; returns the mean minibatch cost.
    public func trainEpoch(on data: Dataset, batchSize: Int, random: inout RandomState) throws -> Double {
        let order = Array(0..<data.count).shuffled(using: &random)
        var total = 0.0, batches = 0
        for start in stride(from: 0, to: data.count, by: batchSize) {
            let rows = Array(order[start..<Swift.min(start + batchSize, data.count)])
            total += try step(images: data.images.rows(rows), labels: data.labels.rows(rows))
            batches += 1
        }
        return total / Double(Swift.max(batches, 1))
    }

    /// The predicted class of each row of `images`.
    public func predict(_ images: NDArray) throws -> NDArray { try predictor(images)[0] }

    /// The fraction of `data` classified correctly.
    public func accuracy(on data: Dataset) throws -> Double {
        let predicted = try predict(data.images).elements(as: Int64.self)
        let truth = data.labels.elements(as: Int64.self)
        return Double(zip(predicted, truth).filter { $0 == $1 }.count) / Double(Swift.max(data.count, 1))
    }
}
