import Foundation
import Theano

/// A variational autoencoder (Kingma and Welling, 2014) for binary data: a Gaussian
/// encoder `q(z | x) = N(μ(x), diag σ²(x))`, a standard normal prior, and a Bernoulli decoder
/// `p(x | z)`, trained by Adam on the evidence lower bound (ELBO) with reparameterized
/// draws `z = μ + σ · ε`.
///
/// With a ``Corruption``, it is the denoising VAE of Im, Ahn, Memisevic and Bengio
/// ("Denoising criterion for variational auto-encoding framework", 2017): the encoder sees
/// a corrupted input (pixels masked, and noise added in its hidden layer) while the decoder
/// reconstructs the clean one, which maximizes their denoising variational lower bound.
/// Evaluation always encodes clean inputs.
public final class VariationalAutoencoder {
    /// The noise of the denoising VAE.
    public struct Corruption: Sendable {
        /// The probability that an input pixel is set to 0.
        public var masking: Double
        /// The standard deviation of the Gaussian noise added to the encoder's hidden units.
        public var hiddenNoise: Double

        /// Noise at the input and in the encoder's hidden layer.
        public init(masking: Double, hiddenNoise: Double) { (self.masking, self.hiddenNoise) = (masking, hiddenNoise) }
    }

    /// The parameters: encoder, mean, log-variance, decoder and output layers.
    public let layers: [Dense]
    private let trainStep: Function
    private let bound: Function
    private let importanceWeighted: Function
    private let sampler: Function

    /// Builds and compiles the model; `importanceSamples` is the `k` of the importance-weighted
    /// log-likelihood estimate.
    public init(visible: Int, hidden: Int, latent: Int, learningRate: Double, corruption: Corruption? = nil,
                importanceSamples: Int = 100, seed: UInt64 = 1234, options: CompileOptions = .default) throws {
        var random = RandomState(seed: seed)
        let streams = RandomStreams(seed: seed)
        let encoderHidden = try Dense(visible, hidden, name: "encoder", random: &random)
        let encoderMean = try Dense(hidden, latent, name: "mean", random: &random)
        let encoderLogVariance = try Dense(hidden, latent, name: "log_variance", scale: 0.1, random: &random)
        let decoderHidden = try Dense(latent, hidden, name: "decoder", random: &random)
        let decoderOutput = try Dense(hidden, visible, name: "output", random: &random)
        layers = [encoderHidden, encoderMean, encoderLogVariance, decoderHidden, decoderOutput]
        // The decoder's logits for codes `z`.
        let decode = { (z: Variable) in try decoderOutput(softplus(decoderHidden(z))) }
        let encode = { (x: Variable, corruption: Corruption?) in
            try Self.encode(x, encoderHidden, encoderMean, encoderLogVariance, corruption: corruption, streams: streams)
        }
        let x = matrix("x", shape: (nil, visible))

        // The mean ELBO of `x` with one reparameterized draw per example, the encoder seeing
        // `x` corrupted as asked: the decoder always scores the clean `x`.
        let meanBound = { (corruption: Corruption?) in
            let (codeMean, logVariance) = try encode(x, corruption)
            let z = try codeMean + exp(0.5 * logVariance) * streams.normal(shape: .like(codeMean))
            return try mean(Self.logLikelihood(x, logits: decode(z)) - Self.klDivergence(codeMean, logVariance))
        }
        let elbo = try meanBound(corruption)
        trainStep = try function(inputs: [x], outputs: [elbo], updates: Optimizer(.adam(), learningRate: .constant(learningRate)).updates(-elbo, parameters: layers.flatMap(\.parameters)),
                                 name: "train_vae", options: options)
        bound = try function(inputs: [x], outputs: [meanBound(nil)], name: "elbo", options: options)

        let (cleanMean, cleanLogVariance) = try encode(x, nil)

        // log p(x) ≥ E[log (1/k) Σ_i p(x, z_i) / q(z_i | x)], z_i ~ q(z | x): k draws per example.
        let k = importanceSamples
        let epsilon = try streams.normal(shape: .like(tile(expandDims(cleanMean, axis: 0), [k, 1, 1])))
        let zs = try expandDims(cleanMean, axis: 0) + expandDims(exp(0.5 * cleanLogVariance), axis: 0) * epsilon
        let logits = try reshape(decode(reshape(zs, [-1, latent])), sizes: [constant(NDArray(scalar: Int64(k))), shape(x)[0], constant(NDArray(scalar: Int64(visible)))])
        let halfLog2Pi = 0.5 * Foundation.log(2 * Double.pi) * Double(latent)
        let logPrior = try -0.5 * sum(sqr(zs), axis: 2) - halfLog2Pi
        let logPosterior = try -0.5 * sum(sqr(epsilon), axis: 2) - 0.5 * sum(cleanLogVariance, axis: 1) - halfLog2Pi
        let logWeights = try Self.logLikelihood(expandDims(x, axis: 0), logits: logits) + logPrior - logPosterior
        importanceWeighted = try function(inputs: [x], outputs: [mean(logsumexp(logWeights, axis: 0) - Foundation.log(Double(k)))],
                                          name: "importance_weighted", options: options)

        let count = scalar("count", dtype: .int64)
        let prior = try streams.normal(shape: .sizes([count, constant(NDArray(scalar: Int64(latent)))]))
        sampler = try function(inputs: [count], outputs: [sigmoid(decode(prior))], name: "sample", options: options)
    }

    /// `μ(x)` and `log σ²(x)`, the encoder's input and hidden layer corrupted as asked.
    private static func encode(_ x: Variable, _ hidden: Dense, _ mean: Dense, _ logVariance: Dense,
                               corruption: Corruption?, streams: RandomStreams) throws -> (Variable, Variable) {
        var input = x
        if let corruption, corruption.masking > 0 { input = try x * streams.bernoulli(shape: .like(x), p: 1 - corruption.masking) }
        var h = try softplus(hidden(input))
        if let corruption { h = try injectNoise(h, .additive(std: corruption.hiddenNoise), streams: streams) }
        return (try mean(h), try logVariance(h))
    }

    /// `log p(x | logits)` of a Bernoulli decoder, `Σ x · l − softplus(l)` over the last axis.
    private static func logLikelihood(_ x: Variable, logits: Variable) throws -> Variable {
        try sum(x * logits - softplus(logits), axis: -1)
    }

    /// `KL(N(μ, σ²) ‖ N(0, 1))`, summed over the latent axis.
    private static func klDivergence(_ mean: Variable, _ logVariance: Variable) throws -> Variable {
        try -0.5 * sum(1 + logVariance - sqr(mean) - exp(logVariance), axis: 1)
    }

    /// One Adam step on a minibatch; returns its (training) lower bound per example.
    public func step(_ images: NDArray) throws -> Double { try trainStep(images)[0].scalar(as: Double.self) }

    /// The mean ELBO of `images` (one draw per example), in nats.
    public func evidenceLowerBound(_ images: NDArray) throws -> Double { try bound(images)[0].scalar(as: Double.self) }

    /// The mean importance-weighted estimate of `log p(x)` over `images`, in nats.
    public func importanceWeightedLogLikelihood(_ images: NDArray) throws -> Double {
        try importanceWeighted(images)[0].scalar(as: Double.self)
    }

    /// `count` pictures decoded from the prior: pixel probabilities.
    public func samples(_ count: Int) throws -> NDArray { try sampler(NDArray(scalar: Int64(count)))[0] }
}
