import Theano

/// A restricted Boltzmann machine with binary visible and hidden units, written the way the
/// Theano tutorial writes it: shared parameters, the free energy, a Gibbs chain built by
/// `scan`, and a training function whose gradient is that of the free energy of the data
/// minus that of the chain's end.
///
/// The energy of a visible vector `v` and a hidden vector `h` is `E(v, h) = −vᵀWh − b·v − c·h`
/// and `p(v, h) = exp(−E(v, h)) / Z`. The parameters are `float32`; ``RBMExactLikelihood``
/// computes the partition function `Z` in `float64`.
///
/// ```swift
/// let rbm = try RestrictedBoltzmannMachine(visible: 64, hidden: 16)
/// let trainer = try RestrictedBoltzmannMachine.Trainer(model: rbm, training: .pcd, learningRate: 0.05)
/// var random = RandomState(seed: 1)
/// for _ in 1...20 { _ = try trainer.trainEpoch(on: images, batchSize: 20, random: &random) }
/// let logLikelihood = try RBMExactLikelihood(model: rbm).meanLogLikelihood(of: testImages)
/// ```
public final class RestrictedBoltzmannMachine {
    /// How the negative phase of the log-likelihood gradient is estimated.
    public enum Training: String, Sendable, CaseIterable {
        /// Contrastive divergence (CD-k): a Gibbs chain of k steps started at the minibatch.
        case cd
        /// Persistent contrastive divergence (Tieleman 2008): chains kept from one minibatch
        /// to the next, each step continuing them by k Gibbs steps.
        case pcd
        /// Fast-weights PCD (Tieleman and Hinton 2009): persistent chains run with the
        /// parameters plus fast weights, which learn with a large rate and decay at every step.
        case fpcd
    }

    /// The number of visible and of hidden units.
    public let visibleUnits: Int, hiddenUnits: Int
    /// `W`, visible × hidden.
    public let weights: SharedVariable
    /// `b`, one per visible unit.
    public let visibleBias: SharedVariable
    /// `c`, one per hidden unit.
    public let hiddenBias: SharedVariable

    /// `W`, `b` and `c`, in that order.
    public var parameters: [SharedVariable] { [weights, visibleBias, hiddenBias] }

    /// The energy the parameters define.
    public var energy: RBMEnergy { RBMEnergy(parameters) }

    /// A machine of `visible` and `hidden` units with weights drawn from a normal
    /// distribution of standard deviation 0.01 (from `seed`) and zero biases.
    public init(visible: Int, hidden: Int, seed: UInt64 = 1234, fileID: String = #fileID, line: Int = #line) throws {
        try requireValidArguments(of: "RestrictedBoltzmannMachine", [
            visible > 0 && hidden > 0 ? nil : "needs at least one visible and one hidden unit, not \(visible) and \(hidden)",
        ], fileID: fileID, line: line)
        var random = RandomState(seed: seed)
        visibleUnits = visible
        hiddenUnits = hidden
        weights = try shared(NDArray.normal([visible, hidden], std: 0.01, dtype: .float32, using: &random), name: "W")
        visibleBias = try shared(NDArray(zeros: [visible], dtype: .float32), name: "b")
        hiddenBias = try shared(NDArray(zeros: [hidden], dtype: .float32), name: "c")
    }

    /// Shared variables of the parameters' dtype holding zeros (`copying: false`) or the
    /// parameters' current values, in the parameters' shapes or, with `copies`, that many of
    /// them stacked along a new first axis: FPCD's fast weights, each sampling chain's own.
    func parameterShapedVariables(named prefix: String, copies: Int? = nil, copying: Bool) throws -> [SharedVariable] {
        try zip(parameters, ["W", "b", "c"]).map { parameter, name in
            let value = parameter.value.elements(as: Double.self).map { copying ? $0 : 0 }
            let stacked = NDArray(Array(repeating: value, count: copies ?? 1).flatMap { $0 }, shape: (copies.map { [$0] } ?? []) + parameter.value.shape)
            return try shared(stacked.cast(to: parameter.dtype), name: "\(prefix)\(name)")
        }
    }
}

/// The weights and biases that define an RBM's energy, `E(v, h) = −vᵀWh − b·v − c·h`, as
/// symbolic variables: a machine's parameters, or those a sampler moves (FPCD's parameters
/// plus fast weights, herding's weights). Visible and hidden vectors are rows of matrices.
///
/// The parameters may also differ from row to row: weights `[rows, visible, hidden]` and
/// biases `[rows, visible]` and `[rows, hidden]` give each row (each of ``RBMChains``'
/// chains) its own energy. Parameters of both kinds add up by broadcasting.
public struct RBMEnergy {
    /// `W`, `b` and `c`.
    public let weights: Variable, visibleBias: Variable, hiddenBias: Variable

    /// The energy of weights `W`, visible biases `b` and hidden biases `c`.
    public init(weights: Variable, visibleBias: Variable, hiddenBias: Variable) {
        self.weights = weights
        self.visibleBias = visibleBias
        self.hiddenBias = hiddenBias
    }

    /// The energy of `[W, b, c]`.
    init(_ parameters: [Variable]) {
        precondition(parameters.count == 3, "an RBM has three parameters: W, b and c")
        self.init(weights: parameters[0], visibleBias: parameters[1], hiddenBias: parameters[2])
    }

    /// Whether each row has its own weights.
    private var weightsPerRow: Bool { weights.ndim == 3 }

    /// `c_j + v·W_:j`, the input of each hidden unit, for each row `v` of `visible`.
    public func hiddenInputs(_ visible: Variable) throws -> Variable {
        let products = weightsPerRow ? try sum(visible.dimshuffle(0, 1, .newAxis) * weights, axis: 1) : try dot(visible, weights)
        return try products + hiddenBias
    }

    /// `b_i + W_i:·h`, the input of each visible unit, for each row `h` of `hidden`.
    public func visibleInputs(_ hidden: Variable) throws -> Variable {
        let products = weightsPerRow ? try sum(hidden.dimshuffle(0, .newAxis, 1) * weights, axis: 2) : try dot(hidden, weights.T)
        return try products + visibleBias
    }

    /// `P(h_j = 1 | v) = σ(c_j + v·W_:j)` for each row `v` of `visible`.
    public func hiddenProbabilities(_ visible: Variable) throws -> Variable { try sigmoid(hiddenInputs(visible)) }

    /// `P(v_i = 1 | h) = σ(b_i + W_i:·h)` for each row `h` of `hidden`.
    public func visibleProbabilities(_ hidden: Variable) throws -> Variable { try sigmoid(visibleInputs(hidden)) }

    /// The free energy of each row `v` of `visible`, `F(v) = −b·v − Σ_j softplus(c_j + v·W_:j)`,
    /// so that `p(v) = exp(−F(v)) / Z`.
    public func freeEnergy(_ visible: Variable) throws -> Variable {
        try -sum(visible * visibleBias, axis: 1) - sum(softplus(hiddenInputs(visible)), axis: 1)
    }

    /// One step of block Gibbs sampling from each row of `visible`: hidden units drawn given
    /// the visible ones, then visible units drawn given those. Returns the new visible units
    /// and the probabilities they were drawn with.
    public func gibbsStep(from visible: Variable, streams: RandomStreams) throws -> (sample: Variable, probabilities: Variable) {
        let probabilities = try visibleProbabilities(Self.draw(hiddenProbabilities(visible), streams: streams))
        return (try Self.draw(probabilities, streams: streams), probabilities)
    }

    /// Binary units, each 1 with its probability in `probabilities`.
    static func draw(_ probabilities: Variable, streams: RandomStreams) throws -> Variable {
        try streams.bernoulli(shape: .like(probabilities), p: probabilities)
    }

    /// The energy of the sums of two sets of parameters (FPCD's parameters plus fast weights).
    public static func + (lhs: RBMEnergy, rhs: RBMEnergy) throws -> RBMEnergy {
        RBMEnergy(weights: try lhs.weights + rhs.weights, visibleBias: try lhs.visibleBias + rhs.visibleBias,
                  hiddenBias: try lhs.hiddenBias + rhs.hiddenBias)
    }
}

extension RestrictedBoltzmannMachine {
    /// A compiled SGD step on the log-likelihood of minibatches, for one ``Training`` mode.
    ///
    /// The gradient is that of `mean F(data) − mean F(chain end)` with the chain's end held
    /// constant (the tutorial's estimate): the data's sufficient statistics minus the chain's,
    /// with the hidden units' probabilities in place of samples. The negative chain runs `k`
    /// Gibbs steps inside a `scan`, drawing from a ``RandomStreams`` whose state the loop
    /// returns as an update.
    public final class Trainer {
        /// The machine whose parameters the steps move.
        public let model: RestrictedBoltzmannMachine
        /// The estimate of the negative phase.
        public let training: Training
        /// PCD's and FPCD's persistent chains (one visible vector per row); `nil` for CD.
        public let persistentChains: SharedVariable?
        /// FPCD's fast weights `W_f`, `b_f`, `c_f`; empty for CD and PCD.
        public let fastParameters: [SharedVariable]
        private let trainStep: Function

        /// Compiles the training step.
        /// - Parameters:
        ///   - learningRate: the SGD step size of the parameters.
        ///   - cdSteps: `k`, the Gibbs steps of the negative chain per SGD step (at least 1).
        ///   - chains: the number of persistent chains (PCD and FPCD).
        ///   - fastLearningRate: FPCD's step size of the fast weights.
        ///   - fastDecay: the factor that multiplies the fast weights at every step, in `[0, 1)`
        ///     (19/20 in Tieleman and Hinton 2009).
        ///   - seed: the seed of the negative chain's draws.
        public init(model: RestrictedBoltzmannMachine, training: Training, learningRate: Double, cdSteps: Int = 1, chains: Int = 20,
                    fastLearningRate: Double = 0.05, fastDecay: Double = 0.95, seed: UInt64 = 1234, options: CompileOptions = .default,
                    fileID: String = #fileID, line: Int = #line) throws {
            try requireValidArguments(of: "RestrictedBoltzmannMachine.Trainer", [
                learningRate > 0 ? nil : "the learning rate must be positive, not \(learningRate)",
                cdSteps >= 1 ? nil : "needs at least one Gibbs step per update (k ≥ 1), not \(cdSteps)",
                chains >= 1 ? nil : "needs at least one persistent chain, not \(chains)",
                fastLearningRate >= 0 ? nil : "the fast learning rate must not be negative, not \(fastLearningRate)",
                (0..<1).contains(fastDecay) ? nil : "the fast weights' decay must be in [0, 1), not \(fastDecay)",
            ], fileID: fileID, line: line)
            self.model = model
            self.training = training
            let data = matrix("v", dtype: model.weights.dtype, shape: (nil, model.visibleUnits))
            persistentChains = training == .cd ? nil
                : try shared(NDArray(zeros: [chains, model.visibleUnits], dtype: model.weights.dtype), name: "chains")
            fastParameters = training == .fpcd ? try model.parameterShapedVariables(named: "fast_", copying: false) : []

            let negativeEnergy = fastParameters.isEmpty ? model.energy : try model.energy + RBMEnergy(fastParameters)
            let streams = RandomStreams(seed: seed, name: "negative_chain_state")
            let chain = try scan(outputsInfo: [.recurrent(persistentChains ?? data)], nSteps: constant(NDArray(scalar: Int64(cdSteps))),
                                 name: "gibbs") { state in
                [try negativeEnergy.gibbsStep(from: state[0], streams: streams).sample]
            }
            let chainEnd = try chain[0][-1]
            let cost = try mean(model.energy.freeEnergy(data)) - mean(model.energy.freeEnergy(chainEnd))
            let gradients = try grad(cost, wrt: model.parameters, considerConstant: [chainEnd])

            var updates = chain.updates
            for (parameter, gradient) in zip(model.parameters, gradients) { updates[parameter] = try parameter - learningRate * gradient }
            for (fast, gradient) in zip(fastParameters, gradients) { updates[fast] = try fastDecay * fast - fastLearningRate * gradient }
            if let persistentChains { updates[persistentChains] = chainEnd }
            // Monitoring: the squared error of the mean-field reconstruction of the minibatch.
            let reconstruction = try model.energy.visibleProbabilities(model.energy.hiddenProbabilities(data))
            trainStep = try function(inputs: [data], outputs: [mean(sqr(data - reconstruction))], updates: updates,
                                     name: "train_\(training.rawValue)", options: options)
        }

        /// The compiled training step (reconstruction error, parameter and chain updates).
        public var trainingFunction: Function { trainStep }

        /// One SGD step on `batch` (binary rows); returns its mean squared reconstruction error.
        public func step(_ batch: NDArray) throws -> Double {
            try trainStep(batch.cast(to: model.weights.dtype))[0].scalar(as: Double.self)
        }

        /// One pass over the rows of `data` in shuffled minibatches of `batchSize` rows;
        /// returns the mean of the minibatches' reconstruction errors.
        public func trainEpoch(on data: NDArray, batchSize: Int, random: inout RandomState,
                               fileID: String = #fileID, line: Int = #line) throws -> Double {
            try requireValidArguments(of: "RestrictedBoltzmannMachine.Trainer.trainEpoch", [
                batchSize >= 1 ? nil : "minibatches need at least one row, not \(batchSize)",
            ], fileID: fileID, line: line)
            return try meanOverMinibatches(count: data.shape.first ?? 0, batchSize: batchSize, random: &random) { try step(data.rows($0)) }
        }
    }
}

/// Throws `TheanoError.invalidArgument` for `function` with the first of `problems` (each
/// `nil` when its argument is fine), at the caller's `fileID` and `line`.
func requireValidArguments(of function: String, _ problems: [String?], fileID: String, line: Int) throws {
    if let problem = problems.lazy.compactMap({ $0 }).first {
        throw TheanoError.invalidArgument(function: function, reason: problem, location: SourceLocation(fileID: fileID, line: line))
    }
}
