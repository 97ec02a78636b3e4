import Theano

/// A denoising autoencoder with tied weights (Vincent et al., 2008): the input is corrupted,
/// encoded `h = σ(x̃ · W + b)`, and decoded linearly, `r = h · Wᵀ + c`; training lowers the
/// squared error between `r` and the clean input.
///
/// With tied weights and a linear decoder the reconstruction field is conservative
/// (Kamyshanska and Memisevic, "The potential energy of an autoencoder"): `r(x) − x` is the
/// gradient of the energy
/// `F(x) = Σ_j softplus(x · W + b)_j + c · x − ½‖x‖²`,
/// which ``energy(_:)`` computes and ``conservativenessCheck(_:)`` verifies numerically.
public final class DenoisingAutoencoder {
    /// How the input is corrupted while training.
    public enum Corruption: Sendable {
        /// Each input is set to 0 with this probability.
        case masking(Double)
        /// Gaussian noise of this standard deviation is added to each input.
        case gaussian(Double)
    }

    /// The autoencoder's parameters and graphs.
    public let autoencoder: TiedAutoencoder
    private let trainStep: Function
    private let reconstructionError: Function
    private let energyFunction: Function
    private let fieldFunction: Function

    /// Builds and compiles the model for `visible` inputs and `hidden` units.
    public init(visible: Int, hidden: Int, corruption: Corruption, learningRate: Double, seed: UInt64 = 1234,
                options: CompileOptions = .default) throws {
        var random = RandomState(seed: seed)
        let streams = RandomStreams(seed: seed)
        let autoencoder = try TiedAutoencoder(visible: visible, hidden: hidden, random: &random)
        self.autoencoder = autoencoder
        let x = matrix("x", shape: (nil, visible))
        let corrupted: Variable = switch corruption {
        case .masking(let rate): try x * streams.bernoulli(shape: .like(x), p: 1 - rate)
        case .gaussian(let std): try injectNoise(x, .additive(std: std), streams: streams)
        }
        let error = { (input: Variable) in try mean(sum(sqr(autoencoder.reconstruct(input) - x), axis: 1)) }
        let cost = try error(corrupted)
        let updates = try Optimizer(.sgd, learningRate: .constant(learningRate)).updates(cost, parameters: autoencoder.parameters)
        trainStep = try function(inputs: [x], outputs: [cost], updates: updates, name: "train_dae", options: options)
        reconstructionError = try function(inputs: [x], outputs: [error(x)], name: "reconstruction_error", options: options)
        let x64 = matrix("x", dtype: .float64, shape: (nil, visible))
        energyFunction = try function(inputs: [x64], outputs: [autoencoder.energy(x64)], name: "energy", options: options)
        fieldFunction = try function(inputs: [x], outputs: [autoencoder.reconstruct(x) - x], name: "reconstruction_field", options: options)
    }

    /// One SGD step on a minibatch; returns its (corrupted-input) reconstruction error.
    public func step(_ images: NDArray) throws -> Double { try trainStep(images)[0].scalar(as: Double.self) }

    /// The mean squared reconstruction error of clean `images`, summed over pixels.
    public func reconstructionError(_ images: NDArray) throws -> Double {
        try reconstructionError(images)[0].scalar(as: Double.self)
    }

    /// The energy of each row of `images`, in `float64`.
    public func energy(_ images: NDArray) throws -> [Double] {
        try energyFunction(images.cast(to: .float64))[0].elements(as: Double.self)
    }

    /// How far the reconstruction field is from the gradient of the energy at the rows of
    /// `images`, judged without automatic differentiation: along `directions` random unit
    /// directions `d` per row, the central difference `(F(x + εd) − F(x − εd)) / 2ε` is
    /// compared with `(r(x) − x) · d`. Returns the largest difference relative to the
    /// field's largest norm.
    public func conservativenessCheck(_ images: NDArray, directions: Int = 8, seed: UInt64 = 99) throws -> Double {
        let (rows, width) = (images.shape[0], images.shape[1])
        let field = try fieldFunction(images)[0].elements(as: Double.self), points = images.elements(as: Double.self)
        var random = RandomState(seed: seed)
        let epsilon = 1e-4
        var largestError = 0.0, largestNorm = Double.leastNormalMagnitude
        for _ in 0..<directions {
            let d = (0..<(rows * width)).map { _ in random.nextNormal() }
            var shifted: [[Double]] = [[], []]
            var projected = [Double](repeating: 0, count: rows)
            for row in 0..<rows {
                let range = (row * width)..<((row + 1) * width)
                let norm = range.map { d[$0] * d[$0] }.reduce(0, +).squareRoot()
                for i in range {
                    shifted[0].append(points[i] + epsilon * d[i] / norm)
                    shifted[1].append(points[i] - epsilon * d[i] / norm)
                    projected[row] += field[i] * d[i] / norm
                }
                largestNorm = Swift.max(largestNorm, range.map { field[$0] * field[$0] }.reduce(0, +).squareRoot())
            }
            let (plus, minus) = try (energy(NDArray(shifted[0], shape: [rows, width])), energy(NDArray(shifted[1], shape: [rows, width])))
            for row in 0..<rows {
                largestError = Swift.max(largestError, Swift.abs((plus[row] - minus[row]) / (2 * epsilon) - projected[row]))
            }
        }
        return largestError / largestNorm
    }
}

/// An autoencoder with tied weights and a linear decoder, as graph builders over shared
/// parameters: the encoder `W`, `b` and the decoder's biases `c`.
public struct TiedAutoencoder {
    /// The encoder (`W`, `b`); the decoder uses `Wᵀ` and ``decoderBiases``.
    public let encoder: Dense
    /// The decoder's biases `c`.
    public let decoderBiases: SharedVariable

    /// Random Glorot-uniform weights and zero biases.
    public init(visible: Int, hidden: Int, random: inout RandomState) throws {
        encoder = try Dense(visible, hidden, name: "autoencoder", random: &random)
        decoderBiases = try shared(NDArray(zeros: [visible], dtype: .float32), name: "c_autoencoder")
    }

    /// `W`, `b` and `c`.
    public var parameters: [SharedVariable] { encoder.parameters + [decoderBiases] }

    /// The hidden code of `x`, `σ(x · W + b)`.
    public func encode(_ x: Variable) throws -> Variable { try sigmoid(encoder(x)) }

    /// The reconstruction of `x`, `σ(x · W + b) · Wᵀ + c`.
    public func reconstruct(_ x: Variable) throws -> Variable { try decode(encode(x)) }

    /// The linear decoding of a code `h`, `h · Wᵀ + c`.
    public func decode(_ code: Variable) throws -> Variable { try dot(code, encoder.weights.T) + decoderBiases }

    /// The energy whose gradient is the reconstruction field, one value per row of `x`,
    /// computed in `x`'s dtype.
    public func energy(_ x: Variable) throws -> Variable {
        let (W, b, c) = try (cast(encoder.weights, to: x.dtype), cast(encoder.biases, to: x.dtype), cast(decoderBiases, to: x.dtype))
        return try sum(softplus(dot(x, W) + b), axis: 1) + dot(x, c) - 0.5 * sum(sqr(x), axis: 1)
    }
}
