import Theano

/// The conditional-computation experiment of Bengio, Léonard and Courville ("Estimating or
/// propagating gradients through stochastic neurons", 2013) at small scale: a digits
/// classifier whose rectified hidden units are each multiplied by a stochastic gater
/// computed from the input, `h = relu(x · W + b) ⊙ g(x · U + d)`, so a gate that is exactly 0
/// turns its unit's computation off. A sparsity penalty on the gates' expected values asks
/// for many zeros; the gaters learn by one of the estimators of the paper.
public final class GatedClassifier: MinibatchClassifier {
    /// How the gaters are made and how their gradient is estimated.
    public enum Estimator: String, Sendable, CaseIterable {
        /// Binary gaters, gradient passed through unchanged.
        case straightThrough = "straight-through"
        /// Binary gaters, gradient times `σ′`.
        case straightThroughSigmoid = "straight-through-sigmoid"
        /// Binary gaters learning by the score-function estimator with a moving-average baseline.
        case reinforce
        /// Stochastic-times-smooth gaters (the decomposition estimator).
        case stochasticTimesSmooth = "stochastic-times-smooth"
        /// Noisy rectifier gaters, `relu(a + ε)`: noise injection, exact gradients.
        case noisyRectifier = "noisy-rectifier"
    }

    private let trainStep: Function
    private let evaluation: Function

    /// Builds and compiles the model; `sparsity` weighs the penalty `mean(E[g])`.
    public init(inputs: Int, hidden: Int, classes: Int, estimator: Estimator, learningRate: Double, sparsity: Double,
                seed: UInt64 = 1234, options: CompileOptions = .default) throws {
        var random = RandomState(seed: seed)
        let streams = RandomStreams(seed: seed)
        let units = try Dense(inputs, hidden, name: "units", random: &random)
        let gaters = try Dense(inputs, hidden, name: "gaters", random: &random)
        let output = try Dense(hidden, classes, name: "output", random: &random)
        let x = matrix("x", shape: (nil, inputs)), y = vector("y", dtype: .int64)
        let a = try gaters(x)
        let (gates, expectedGates, sample) = try Self.gates(a, estimator: estimator, streams: streams)
        let probabilities = try softmax(output(relu(units(x)) * gates))
        let losses = try categoricalCrossentropy(probabilities, y)
        var cost = try mean(losses) + sparsity * mean(expectedGates)
        var updates: [SharedVariable: Variable] = [:]
        if let sample {
            let surrogate = try scoreFunctionSurrogate(loss: losses, samples: [sample], baseline: .movingAverage(decay: 0.9))
            cost = try cost + surrogate.cost
            updates = surrogate.updates
        }
        updates.merge(try Optimizer(.sgd, learningRate: .constant(learningRate)).updates(cost, parameters: units.parameters + gaters.parameters + output.parameters)) { $1 }
        trainStep = try function(inputs: [x, y], outputs: [mean(losses)], updates: updates, name: "train_gated", options: options)
        evaluation = try function(inputs: [x], outputs: [argmax(probabilities, axis: 1), mean(cast(eq(gates, 0), to: .float64))],
                                  name: "evaluate_gated", options: options)
    }

    /// The gates for pre-activations `a`, their expected values (what the sparsity penalty
    /// lowers), and the binary sample the score-function estimator learns from.
    private static func gates(_ a: Variable, estimator: Estimator, streams: RandomStreams) throws -> (Variable, Variable, BinarySample?) {
        switch estimator {
        case .straightThrough: return (try stochasticBinary(a, streams: streams, estimator: .straightThrough), try sigmoid(a), nil)
        case .straightThroughSigmoid: return (try stochasticBinary(a, streams: streams, estimator: .straightThroughSigmoid), try sigmoid(a), nil)
        case .reinforce:
            let sample = try binarySample(a, streams: streams)
            return (sample.value, try sigmoid(a), sample)
        case .stochasticTimesSmooth: return (try stochasticTimesSmooth(a, streams: streams), try sigmoid(a), nil)
        case .noisyRectifier:
            let gates = try relu(injectNoise(a, .additive(std: 1), streams: streams))
            return (gates, gates, nil)
        }
    }

    /// One SGD step on a minibatch; returns its mean cross-entropy.
    public func step(images: NDArray, labels: NDArray) throws -> Double { try trainStep(images, labels)[0].scalar(as: Double.self) }

    /// The accuracy on `data` with gates drawn as in training, and the fraction of the
    /// gates that were exactly 0.
    public func evaluate(on data: Dataset) throws -> (accuracy: Double, zeroGates: Double) {
        let results = try evaluation(data.images)
        return (data.accuracy(of: results[0]), results[1].scalar(as: Double.self))
    }
}
