import Theano

/// "Neural networks with few multiplications" (Lin, Courbariaux, Memisevic and Bengio,
/// 2016) on an MLP: in the forward pass each weight is stochastically binarized to `±H`
/// (`+H` with probability `hardσ(W / H)`), so the layer's products become sign changes; in the
/// backward pass the layer inputs are quantized to signed powers of two, so the weight
/// gradient's products become shifts. The real-valued weights accumulate the gradient
/// (straight through the binarization) and are clipped to `[−H, H]`; predictions use them.
/// `H` is each layer's Glorot bound. With ``Mode/float`` it is the same network trained
/// plainly, to compare against.
public final class BinaryConnectClassifier: MinibatchClassifier {
    /// How the network trains.
    public enum Mode: Sendable {
        /// Real-valued weights and exact gradients.
        case float
        /// Binarized weights forward, power-of-two inputs in the weight gradient.
        case fewMultiplications
    }

    private let trainStep: Function
    private let predictor: Function

    /// Builds and compiles an MLP of tanh layers of widths `sizes` (inputs first, classes last).
    public init(sizes: [Int], mode: Mode, learningRate: Double, seed: UInt64 = 1234, options: CompileOptions = .default) throws {
        var random = RandomState(seed: seed)
        let streams = RandomStreams(seed: seed)
        let layers = try zip(sizes, sizes.dropFirst()).enumerated().map { try Dense($1.0, $1.1, name: "\($0)", random: &random) }
        let bounds = zip(sizes, sizes.dropFirst()).map { (6.0 / Double($0 + $1)).squareRoot() }
        let x = matrix("x", shape: (nil, sizes[0])), y = vector("y", dtype: .int64)
        func logits(training: Bool) throws -> Variable {
            var h = x
            for (index, (layer, bound)) in zip(layers, bounds).enumerated() {
                let preActivation = training && mode == .fewMultiplications
                    ? try Self.fewMultiplicationsProduct(h, layer.weights, bound: bound, streams: streams) + layer.biases
                    : try layer(h)
                h = index == layers.count - 1 ? preActivation : try Theano.tanh(preActivation)
            }
            return h
        }
        let cost = try mean(categoricalCrossentropy(softmax(logits(training: true)), y))
        var updates = try Optimizer(.sgd, learningRate: .constant(learningRate)).updates(cost, parameters: layers.flatMap(\.parameters))
        if mode == .fewMultiplications {
            for (layer, bound) in zip(layers, bounds) { updates[layer.weights] = try clip(updates[layer.weights]!, -bound, bound) }
        }
        trainStep = try function(inputs: [x, y], outputs: [cost], updates: updates, name: "train_binaryconnect", options: options)
        predictor = try function(inputs: [x], outputs: [argmax(logits(training: false), axis: 1)], name: "predict", options: options)
    }

    /// `h · W_b` with `W_b` the stochastic binarization of `W` (the gradient reaches `W`
    /// straight through it) and, in the gradient with respect to `W_b` only, `h` quantized
    /// to signed powers of two.
    private static func fewMultiplicationsProduct(_ h: Variable, _ weights: Variable, bound: Double, streams: RandomStreams) throws -> Variable {
        let plus = try clip((weights / bound + 1) / 2, 0, 1)
        let binary = try bound * (2 * streams.bernoulli(shape: .like(weights), p: plus) - 1)
        let binarized = try weights + disconnectedGrad(binary - weights)
        let quantized = try h + disconnectedGrad(quantizedToPowersOfTwo(h) - h)
        // The value is h · W_b; W_b's gradient is quantizedᵀ · δ, h's is δ · W_bᵀ.
        return try dot(quantized, binarized) + disconnectedGrad(dot(h, binarized) - dot(quantized, binarized))
    }

    /// One SGD step on a minibatch; returns its cost.
    public func step(images: NDArray, labels: NDArray) throws -> Double { try trainStep(images, labels)[0].scalar(as: Double.self) }

    /// The fraction of `data` classified correctly, with the real-valued weights.
    public func accuracy(on data: Dataset) throws -> Double { data.accuracy(of: try predictor(data.images)[0]) }
}

/// `x` rounded to signed powers of two, `sign(x) · 2^round(log₂|x|)`, with the exponents
/// clipped to `exponents` (0 stays 0): products by such values are bit shifts.
public func quantizedToPowersOfTwo(_ x: Variable, exponents: ClosedRange<Int> = -8...0) throws -> Variable {
    let exponent = try clip(round(log2(abs(x))), Double(exponents.lowerBound), Double(exponents.upperBound))
    return try `switch`(eq(x, 0), zerosLike(x), sign(x) * pow(constant(2, dtype: x.dtype), exponent))
}
