import Theano

/// How the chains of ``RBMChains`` generate samples from a trained
/// ``RestrictedBoltzmannMachine``: the three samplers compared by Breuleux, Bengio and
/// Vincent, "Quickly generating representative samples from an RBM-derived process"
/// (Neural Computation, 2011).
public enum RBMSampler: String, Sendable, CaseIterable {
    /// Block Gibbs sampling, `v → h → v`, with the trained parameters.
    case gibbs
    /// Herding (Welling 2009) with the RBM's energy, started from the trained parameters.
    /// Deterministic: the parameters are the state. At each step the chain moves to the
    /// configuration of highest `−E(v, h)` reached by one sweep of coordinate ascent from
    /// its last visible vector (`h = 1[c + vW > 0]`, then `v = 1[b + Wh > 0]`), and its
    /// parameters move by `η (rates − (v hᵀ, v, h))` of that configuration. The data's term is
    /// the fixed ``RBMRates``, not each example's best hidden state recomputed at every
    /// step as in Welling's herding with hidden units (a pass over the data per step).
    case herding
    /// The paper's rates-FPCD sampler: Gibbs steps with the trained parameters plus fast
    /// weights, which decay at every step: `θ_f ← α θ_f + ε (rates − (v hᵀ, v, h))` with the
    /// chain's visible vector `v` and `h = E[h | v]` under the parameters plus fast weights.
    /// The fast weights push the chain away from the configurations it has just visited.
    case ratesFPCD = "rates-fpcd"
}

/// The training data's average sufficient statistics under a trained machine, which the
/// paper calls the rates: `⟨v hᵀ⟩`, `⟨v⟩` and `⟨h⟩` over the data, with `h = E[h | v]`. They
/// stand for the data in herding's and rates-FPCD's parameter updates, so that sampling
/// needs no training data.
public struct RBMRates {
    /// `⟨v hᵀ⟩`, visible × hidden.
    public let visibleHidden: NDArray
    /// `⟨v⟩`, one per visible unit.
    public let visible: NDArray
    /// `⟨h⟩`, one per hidden unit.
    public let hidden: NDArray

    /// The rates of the rows of `data` (binary visible vectors) under `model`.
    public init(model: RestrictedBoltzmannMachine, data: NDArray, options: CompileOptions = .default) throws {
        let v = matrix("v", dtype: model.weights.dtype, shape: (nil, model.visibleUnits))
        let statistics = try sufficientStatistics(visible: v, hidden: model.energy.hiddenProbabilities(v)).map { try mean($0, axis: 0) }
        let values = try function(inputs: [v], outputs: statistics, name: "rates", options: options)(data.cast(to: model.weights.dtype))
        (visibleHidden, visible, hidden) = (values[0], values[1], values[2])
    }

    /// The rates as constants, in the order of the parameters (`W`, `b`, `c`).
    var constants: [Variable] { [constant(visibleHidden), constant(visible), constant(hidden)] }
}

/// The sufficient statistics `[v hᵀ, v, h]` of each pair of rows of `visible` and `hidden`,
/// stacked along the first axis: the gradient of `log p(v, h)` with respect to `W`, `b` and `c`.
func sufficientStatistics(visible: Variable, hidden: Variable) throws -> [Variable] {
    [try visible.dimshuffle(0, 1, .newAxis) * hidden.dimshuffle(0, .newAxis, 1), visible, hidden]
}

/// Parallel chains of one ``RBMSampler``, run for a fixed number of steps inside one `scan`.
///
/// The sampler's state other than the chains' visible vectors — the random stream's state,
/// herding's parameters, rates-FPCD's fast weights — is in shared variables that the loop
/// updates at every step and returns in its updates, so each call of ``sample(from:)``
/// continues where the last one stopped. Each chain has its own herding parameters or fast
/// weights (stacked along a first axis of size `chains`), so the chains are independent.
public final class RBMChains {
    /// The sampler the chains run.
    public let sampler: RBMSampler
    /// The number of parallel chains and of steps per call.
    public let chains: Int, steps: Int
    /// The loop: its outputs are the chains' visible samples at every step and the
    /// probabilities they were drawn with, each `[steps, chains, visible]`; its updates, the
    /// final state of the stream and of the sampler's parameters.
    public let loop: ScanResult
    /// The parameters the sampler moves at every step, one set per chain: herding's `W`, `b`,
    /// `c`, or rates-FPCD's fast weights (`[chains, visible, hidden]`, `[chains, visible]`,
    /// `[chains, hidden]`); empty for Gibbs sampling.
    public let samplerParameters: [SharedVariable]
    /// The stream of the Gibbs and rates-FPCD draws (herding draws nothing).
    public let streams: RandomStreams
    private let run: Function

    /// Builds and compiles the chains.
    /// - Parameters:
    ///   - rates: the training data's statistics, toward which herding and rates-FPCD move
    ///     their parameters (Gibbs sampling does not use them).
    ///   - herdingRate: herding's step size `η`.
    ///   - fastLearningRate: rates-FPCD's step size `ε` of the fast weights.
    ///   - fastDecay: rates-FPCD's factor `α` on the fast weights at every step, in `[0, 1)`.
    ///   - seed: the seed of the chains' draws.
    public init(model: RestrictedBoltzmannMachine, sampler: RBMSampler, rates: RBMRates, chains: Int, steps: Int,
                herdingRate: Double = 0.05, fastLearningRate: Double = 0.5, fastDecay: Double = 0.99, seed: UInt64 = 1234,
                options: CompileOptions = .default, fileID: String = #fileID, line: Int = #line) throws {
        try requireValidArguments(of: "RBMChains", [
            chains >= 1 && steps >= 1 ? nil : "needs at least one chain and one step, not \(chains) and \(steps)",
            herdingRate > 0 ? nil : "the herding rate must be positive, not \(herdingRate)",
            fastLearningRate >= 0 ? nil : "the fast learning rate must not be negative, not \(fastLearningRate)",
            (0..<1).contains(fastDecay) ? nil : "the fast weights' decay must be in [0, 1), not \(fastDecay)",
        ], fileID: fileID, line: line)
        self.sampler = sampler
        self.chains = chains
        self.steps = steps
        let streams = RandomStreams(seed: seed, name: "\(sampler.rawValue)_state")
        self.streams = streams
        let samplerParameters: [SharedVariable] = switch sampler {
        case .gibbs: []
        case .herding: try model.parameterShapedVariables(named: "herding_", copies: chains, copying: true)
        case .ratesFPCD: try model.parameterShapedVariables(named: "fast_", copies: chains, copying: false)
        }
        self.samplerParameters = samplerParameters
        let targets = rates.constants

        // Each chain's parameters moved toward the rates by its statistics:
        // `decay · θ + rate · (rates − statistics)`.
        func moved(by statistics: [Variable], rate: Double, decay: Double) throws -> [SharedVariable: Variable] {
            var updates: [SharedVariable: Variable] = [:]
            for (parameter, (target, statistic)) in zip(samplerParameters, zip(targets, statistics)) {
                updates[parameter] = try decay * parameter + rate * (target - statistic)
            }
            return updates
        }

        let start = matrix("start", dtype: model.weights.dtype, shape: (chains, model.visibleUnits))
        loop = try scan(outputsInfo: [.recurrent(start), .notFedBack], nSteps: constant(NDArray(scalar: Int64(steps))),
                        name: sampler.rawValue) { state in
            let visible = state[0]
            switch sampler {
            case .gibbs:
                let (next, probabilities) = try model.energy.gibbsStep(from: visible, streams: streams)
                return [next, probabilities]
            case .herding:
                let energy = RBMEnergy(samplerParameters)
                let hidden = try cast(gt(energy.hiddenInputs(visible), 0), to: visible.dtype)
                let next = try cast(gt(energy.visibleInputs(hidden), 0), to: visible.dtype)
                return ScanStep([next, next], updates: try moved(by: sufficientStatistics(visible: next, hidden: hidden), rate: herdingRate, decay: 1))
            case .ratesFPCD:
                let energy = try model.energy + RBMEnergy(samplerParameters)
                let hiddenProbabilities = try energy.hiddenProbabilities(visible)
                let (next, probabilities) = try energy.gibbsStep(from: visible, streams: streams)
                return ScanStep([next, probabilities], updates: try moved(by: sufficientStatistics(visible: visible, hidden: hiddenProbabilities),
                                                                         rate: fastLearningRate, decay: fastDecay))
            }
        }
        run = try function(inputs: [start], outputs: Array(loop), updates: loop.updates, name: "sample_\(sampler.rawValue)", options: options)
    }

    /// The compiled loop (samples, probabilities and the updates of the sampler's state).
    public var samplingFunction: Function { run }

    /// Runs the chains for ``steps`` steps from the rows of `start` (one binary visible
    /// vector per chain); returns, for every step, the chains' visible samples and the
    /// probabilities they were drawn with (herding's deterministic states are their own
    /// probabilities), each `[steps, chains, visible]`.
    public func sample(from start: NDArray) throws -> (samples: NDArray, probabilities: NDArray) {
        let values = try run(start.cast(to: loop[0].dtype))
        return (values[0], values[1])
    }
}
