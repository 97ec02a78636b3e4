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
    try binarySample(a, streams: streams, fileID: fileID, line: line).withGradient { sample in
        // The value is the sample; the gradient flows through the term outside `disconnectedGrad`.
        let smooth = estimator == .straightThrough ? a : try sigmoid(a)
        return try smooth + disconnectedGrad(sample - smooth)
    }
}

/// A draw of stochastic binary units, `1` with probability `σ(a)`: the sample, which no
/// gradient crosses, and its pre-activation, from which the score-function estimator
/// (``scoreFunctionSurrogate(loss:samples:baseline:fileID:line:)``) learns.
public struct BinarySample {
    /// The 0/1 values, in `a`'s dtype, a new draw on every call.
    public let value: Variable
    /// The pre-activation `a`.
    public let preActivation: Variable
    let location: SourceLocation

    /// `log p(value | a) = value · a − softplus(a)`, elementwise: the log-probability of the
    /// draw, whose gradient with respect to `a` is `value − σ(a)`.
    public func logProbability() throws -> Variable {
        try SourceLocation.attributing(to: location) { try value * preActivation - softplus(preActivation) }
    }

    /// `body(value)`, built at the sample's source location.
    func withGradient(_ body: (Variable) throws -> Variable) throws -> Variable {
        try SourceLocation.attributing(to: location) { try body(value) }
    }
}

/// Draws stochastic binary units of pre-activation `a`; the sample carries no gradient of
/// its own (use ``stochasticBinary(_:streams:estimator:fileID:line:)`` for straight-through
/// units, or pass the sample to ``scoreFunctionSurrogate(loss:samples:baseline:fileID:line:)``).
public func binarySample(_ a: Variable, streams: RandomStreams, fileID: String = #fileID, line: Int = #line) throws -> BinarySample {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    guard a.dtype.isFloat else {
        throw TheanoError.invalidArgument(function: "binarySample", reason: "needs float pre-activations, not \(a.type)", location: location)
    }
    let value = try SourceLocation.attributing(to: location) {
        try streams.bernoulli(shape: .like(a), p: sigmoid(a), dtype: a.dtype, fileID: fileID, line: line)
    }
    return BinarySample(value: value, preActivation: a, location: location)
}

/// The decomposition estimator's "stochastic times smooth" units: `b · √σ(a)` with `b` drawn
/// 1 with probability `√σ(a)`, so the expected output is `σ(a)`, the expected value of a
/// stochastic binary unit. The gradient reaches `a` exactly through the smooth factor, with
/// the binary factor held as noise; an output is exactly 0 whenever `b` is.
public func stochasticTimesSmooth(_ a: Variable, streams: RandomStreams, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    guard a.dtype.isFloat else {
        throw TheanoError.invalidArgument(function: "stochasticTimesSmooth", reason: "needs float pre-activations, not \(a.type)", location: location)
    }
    return try SourceLocation.attributing(to: location) {
        let smooth = try sqrt(sigmoid(a))
        return try streams.bernoulli(shape: .like(a), p: smooth, dtype: a.dtype, fileID: fileID, line: line) * smooth
    }
}
