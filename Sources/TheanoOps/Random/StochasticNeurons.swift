import TheanoCore

/// How the gradient of a stochastic binary unit is estimated (Bengio, Léonard and Courville,
/// "Estimating or propagating gradients through stochastic neurons", 2013).
public enum StochasticBinaryEstimator: Sendable {
    /// The gradient reaching the unit's output is passed to the pre-activation unchanged, as
    /// if the unit were the identity.
    case straightThrough
    /// The gradient is passed on times `σ′(a)`, as if the unit were its expected value `σ(a)`.
    case straightThroughSigmoid
}

/// Stochastic binary units: `1` with probability `σ(a)`, else `0`, a new draw on every
/// call, whose gradient with respect to the pre-activation `a` is estimated by `estimator`
/// (the sampling itself has none).
public func stochasticBinary(_ a: Variable, streams: RandomStreams, estimator: StochasticBinaryEstimator = .straightThroughSigmoid,
                             fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    guard a.dtype.isFloat else {
        throw TheanoError.invalidArgument(function: "stochasticBinary", reason: "needs float pre-activations, not \(a.type)", location: location)
    }
    return try SourceLocation.attributing(to: location) {
        let p = try sigmoid(a)
        let sample = try streams.bernoulli(shape: .like(a), p: p, dtype: a.dtype, fileID: fileID, line: line)
        // The value is the sample; the gradient flows through the term outside `disconnectedGrad`.
        let smooth = estimator == .straightThrough ? a : p
        return try smooth + disconnectedGrad(sample - smooth)
    }
}
