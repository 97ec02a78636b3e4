import TheanoCore

/// What the score-function (REINFORCE) estimator subtracts from the loss to reduce its
/// variance; any baseline that does not depend on the sample keeps it unbiased.
public enum ScoreFunctionBaseline {
    /// No baseline: the plain estimator.
    case none
    /// A running average of the minibatch's mean loss, `b ← decay · b + (1 − decay) · mean(L)`
    /// after every call (an update the surrogate returns).
    case movingAverage(decay: Double)
    /// A per-example prediction of the loss (for example a linear function of the input),
    /// trained with the model by the squared error `(L − b)²` the surrogate adds.
    case learned(Variable)
}

/// The surrogate a model adds to its cost so that `grad` returns the score-function
/// (REINFORCE) estimate for its stochastic units, and the updates its baseline needs.
public struct ScoreFunctionSurrogate {
    /// `mean_i[(L_i − b_i) · Σ_j log p(h_ij | a_ij)]` with `L − b` held constant, plus the
    /// learned baseline's squared error: its value is meaningless, its gradient with respect
    /// to a pre-activation `a` is `(L − b) · (h − σ(a)) / batch`, an unbiased estimate of the
    /// gradient of `mean(L)`'s expectation.
    public let cost: Variable
    /// The moving-average baseline's update (empty for the other baselines): pass it to
    /// `function(…, updates:)`.
    public let updates: [SharedVariable: Variable]
    /// The baseline's state, for a moving average.
    public let baselineState: SharedVariable?
}

/// The score-function (REINFORCE) estimator of the gradient of `mean(loss)` with respect to
/// the pre-activations of the stochastic binary `samples` ("Estimating or propagating
/// gradients through stochastic neurons", section 3): add `cost` to the model's cost before
/// `grad`. `loss` holds one value per example (its first axis is the batch, as is every
/// sample's); gradients reaching the loss through other paths are unaffected.
public func scoreFunctionSurrogate(loss: Variable, samples: [BinarySample], baseline: ScoreFunctionBaseline = .none,
                                   fileID: String = #fileID, line: Int = #line) throws -> ScoreFunctionSurrogate {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    func invalid(_ reason: String) -> TheanoError {
        .invalidArgument(function: "scoreFunctionSurrogate", reason: reason, location: location)
    }
    guard loss.ndim == 1, loss.dtype.isFloat else { throw invalid("needs one float loss per example, not \(loss.type)") }
    guard !samples.isEmpty else { throw invalid("needs at least one stochastic sample") }
    if let bad = samples.first(where: { $0.value.ndim < 1 }) { throw invalid("needs samples with a batch axis, not \(bad.value.type)") }
    return try SourceLocation.attributing(to: location) {
        let perExample = try samples.map { sample in try sum(flatten(sample.logProbability(), ndim: 2), axis: 1) }
        let logProbability = try perExample.dropFirst().reduce(perExample[0], +)
        let observed = try disconnectedGrad(loss)
        var updates: [SharedVariable: Variable] = [:], state: SharedVariable?
        var cost: Variable
        switch baseline {
        case .none:
            cost = try mean(observed * logProbability)
        case .movingAverage(let decay):
            guard (0..<1).contains(decay) else { throw invalid("the moving average's decay must be in [0, 1), not \(decay)") }
            let average = SharedVariable(NDArray(scalar: 0.0).cast(to: loss.dtype), type: TensorType(loss.dtype, shape: []),
                                         name: "reinforce_baseline", location: location)
            updates[average] = try decay * average + (1 - decay) * mean(observed)
            state = average
            cost = try mean((observed - average) * logProbability)
        case .learned(let prediction):
            guard prediction.dtype == loss.dtype, prediction.ndim <= 1 else {
                throw invalid("the learned baseline must be one \(loss.dtype) value per example, not \(prediction.type)")
            }
            cost = try mean((observed - disconnectedGrad(prediction)) * logProbability) + mean(sqr(observed - prediction))
        }
        return ScoreFunctionSurrogate(cost: cost, updates: updates, baselineState: state)
    }
}
