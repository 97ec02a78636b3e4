import Foundation
import Theano

/// The exact log-likelihood of data under a ``RestrictedBoltzmannMachine`` with few hidden
/// units, in nats, computed in `float64`.
///
/// `log p(v) = b·v + Σ_j softplus(c_j + v·W_:j) − log Z`, and the partition function sums
/// over all `2^H` hidden configurations: `log Z = logsumexp_h [c·h + Σ_i softplus(b_i + W_i:·h)]`
/// (the free energy of `h` in the machine with the roles of the layers swapped). The
/// configurations are enumerated in blocks, so memory stays small up to
/// ``maximumHiddenUnits``. The functions read the machine's shared parameters, so the
/// values follow its training.
public struct RBMExactLikelihood {
    /// The most hidden units whose configurations the partition function enumerates.
    public static let maximumHiddenUnits = 20
    /// Hidden configurations per call of the partition function's block.
    private static let blockSize = 1 << 14

    /// The machine evaluated.
    public let model: RestrictedBoltzmannMachine
    /// `−F(v)` of each row of its input.
    private let unnormalizedLogProbabilities: Function
    /// `logsumexp` of `−F'(h)` over the rows of its input, hidden configurations.
    private let blockLogPartition: Function

    /// Compiles the evaluation of `model`; throws when it has more than
    /// ``maximumHiddenUnits`` hidden units.
    public init(model: RestrictedBoltzmannMachine, options: CompileOptions = .default, fileID: String = #fileID, line: Int = #line) throws {
        try requireValidArguments(of: "RBMExactLikelihood", [
            model.hiddenUnits <= Self.maximumHiddenUnits ? nil
                : "the partition function enumerates 2^\(model.hiddenUnits) hidden configurations; at most \(Self.maximumHiddenUnits) hidden units are allowed",
        ], fileID: fileID, line: line)
        self.model = model
        let energy = RBMEnergy(try model.parameters.map { try cast($0, to: .float64) })
        let swapped = RBMEnergy(weights: try energy.weights.T, visibleBias: energy.hiddenBias, hiddenBias: energy.visibleBias)
        let visible = matrix("v", dtype: .float64, shape: (nil, model.visibleUnits))
        let hidden = matrix("h", dtype: .float64, shape: (nil, model.hiddenUnits))
        unnormalizedLogProbabilities = try function(inputs: [visible], outputs: [-energy.freeEnergy(visible)], name: "log_p_unnormalized",
                                                    options: options)
        blockLogPartition = try function(inputs: [hidden], outputs: [logsumexp(-swapped.freeEnergy(hidden))], name: "log_z_block",
                                         options: options)
    }

    /// `log Z`, summed over all hidden configurations.
    public func logPartitionFunction() throws -> Double {
        let hidden = model.hiddenUnits, configurations = 1 << hidden
        let blocks = try stride(from: 0, to: configurations, by: Self.blockSize).map { first in
            let count = Swift.min(Self.blockSize, configurations - first)
            var bits = [Double](repeating: 0, count: count * hidden)
            for row in 0..<count {
                for unit in 0..<hidden where (first + row) >> unit & 1 == 1 { bits[row * hidden + unit] = 1 }
            }
            return try blockLogPartition(NDArray(bits, shape: [count, hidden]))[0].scalar(as: Double.self)
        }
        return logSumExp(blocks)
    }

    /// The mean of `log p(v)` over the rows `v` of `data` (binary visible vectors), in nats.
    public func meanLogLikelihood(of data: NDArray) throws -> Double {
        let values = try unnormalizedLogProbabilities(data.cast(to: .float64))[0].elements(as: Double.self)
        return values.reduce(0, +) / Double(Swift.max(values.count, 1)) - (try logPartitionFunction())
    }
}

/// `log Σ exp(values)`, with the largest value taken out so that nothing overflows.
func logSumExp(_ values: [Double]) -> Double {
    guard let largest = values.max(), largest.isFinite else { return values.max() ?? -.infinity }
    return largest + log(values.reduce(0) { $0 + exp($1 - largest) })
}

/// A Parzen-window estimate of a density from samples: a Gaussian of standard deviation
/// `σ` on each sample, `p(x) = (1/N) Σ_i N(x; s_i, σ²I)`, so that
/// `log p(x) = logsumexp_i(−‖x − s_i‖² / 2σ²) − log N − (d/2) log(2πσ²)`. How a sampler's
/// samples are scored against held-out data, in nats. The distances are computed by a
/// compiled function, as `‖x‖² + ‖s‖² − 2 x·s`, in `float64`.
public struct ParzenWindow {
    /// The samples, one per row, as `float64`.
    public let samples: NDArray
    private let meanLogDensity: Function

    /// The estimate whose kernels sit on the rows of `samples`.
    public init(samples: NDArray, options: CompileOptions = .default, fileID: String = #fileID, line: Int = #line) throws {
        try requireValidArguments(of: "ParzenWindow", [
            samples.ndim == 2 && samples.shape[0] > 0 ? nil : "needs a matrix of at least one sample, not shape \(samples.shape)",
        ], fileID: fileID, line: line)
        self.samples = samples.cast(to: .float64)
        let dimensions = samples.shape[1]
        let x = matrix("x", dtype: .float64, shape: (nil, dimensions)), s = matrix("s", dtype: .float64, shape: (nil, dimensions))
        let sigma = scalar("sigma", dtype: .float64)
        let squaredDistances = try sum(sqr(x), axis: 1, keepDims: true) + sum(sqr(s), axis: 1) - 2 * dot(x, s.T)
        let count = try cast(s.shape[0], to: .float64)
        let logDensities = try logsumexp(-squaredDistances / (2 * sqr(sigma)), axis: 1) - log(count)
            - Double(dimensions) / 2 * log(2 * Double.pi * sqr(sigma))
        meanLogDensity = try function(inputs: [x, s, sigma], outputs: [mean(logDensities)], name: "parzen", options: options)
    }

    /// The mean log density of the rows of `data` under the estimate with kernel width `sigma`.
    public func meanLogLikelihood(of data: NDArray, sigma: Double, fileID: String = #fileID, line: Int = #line) throws -> Double {
        try requireValidArguments(of: "ParzenWindow.meanLogLikelihood", [sigma > 0 ? nil : "σ must be positive, not \(sigma)"], fileID: fileID, line: line)
        return try meanLogDensity(data.cast(to: .float64), samples, NDArray(scalar: sigma))[0].scalar(as: Double.self)
    }

    /// The width among `candidates` under which `validation` is most likely.
    public func bestSigma(for validation: NDArray, among candidates: [Double] = [0.1, 0.2, 0.3, 0.5],
                          fileID: String = #fileID, line: Int = #line) throws -> Double {
        let scored = try candidates.map { (sigma: $0, logLikelihood: try meanLogLikelihood(of: validation, sigma: $0, fileID: fileID, line: line)) }
        guard let best = scored.max(by: { $0.logLikelihood < $1.logLikelihood }) else {
            throw TheanoError.invalidArgument(function: "ParzenWindow.bestSigma", reason: "needs at least one candidate σ",
                                              location: SourceLocation(fileID: fileID, line: line))
        }
        return best.sigma
    }
}

/// How often a chain's samples change class: the fraction of pairs of consecutive steps, over
/// all chains, whose predicted classes differ. `classes` holds a predicted class per step and
/// chain, `[steps, chains]`. The paper's measure of how well a sampler mixes between modes.
public func classChangeRate(_ classes: NDArray, fileID: String = #fileID, line: Int = #line) throws -> Double {
    try requireValidArguments(of: "classChangeRate", [
        classes.ndim == 2 && classes.shape[0] >= 2 ? nil : "needs classes of shape [steps ≥ 2, chains], not \(classes.shape)",
    ], fileID: fileID, line: line)
    let chains = classes.shape[1], values = classes.elements(as: Int64.self)
    let changes = zip(values, values.dropFirst(chains)).filter { $0 != $1 }.count
    return Double(changes) / Double(Swift.max((classes.shape[0] - 1) * chains, 1))
}
