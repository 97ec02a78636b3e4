import TheanoCore

/// Which axes a batch normalization averages over.
public enum NormalizationAxes: Sendable {
    /// The batch axis only: statistics per activation (Theano's `'per-activation'`).
    case perActivation
    /// The batch axis and every axis after the second: statistics per channel of images
    /// (Theano's `'spatial'`).
    case spatial
    /// These axes.
    case axes([Int])

    func resolved(ndim: Int) -> [Int] {
        switch self {
        case .perActivation: [0]
        case .spatial: [0] + Array(2..<Swift.max(ndim, 2))
        case .axes(let axes): axes.map { $0 < 0 ? $0 + ndim : $0 }
        }
    }
}

/// What ``batchNormalizationTrain(_:gamma:beta:axes:epsilon:runningAverageFactor:runningMean:runningVariance:fileID:line:)``
/// builds.
public struct BatchNormalizationResult {
    /// `(x − mean) · invStd · gamma + beta`.
    public let output: Variable
    /// The batch mean and `1 / √(var + ε)`, with the averaged axes kept as size 1.
    public let mean: Variable, inverseStd: Variable
    /// The running averages' updates, `r ← (1 − f) · r + f · batch statistic` (the variance
    /// unbiased, `· m / (m − 1)`), for the running averages given.
    public let updates: [SharedVariable: Variable]
}

/// Batch normalization while training (Ioffe and Szegedy, 2015; Theano's
/// `batch_normalization_train`): normalizes `x` by the mean and variance of the batch over
/// `axes`, then scales by `gamma` and shifts by `beta` (which broadcast against the
/// statistics, whose averaged axes are kept as size 1: `[1, C, 1, 1]` for images).
/// Gradients flow through the statistics.
public func batchNormalizationTrain(_ x: Variable, gamma: Variable, beta: Variable, axes: NormalizationAxes = .perActivation,
                                    epsilon: Double = 1e-4, runningAverageFactor: Double = 0.1,
                                    runningMean: SharedVariable? = nil, runningVariance: SharedVariable? = nil,
                                    fileID: String = #fileID, line: Int = #line) throws -> BatchNormalizationResult {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    let resolved = try checkedAxes(axes, of: x, function: "batchNormalizationTrain", location: location)
    return try SourceLocation.attributing(to: location) {
        let mean = try TheanoOps.mean(x, axis: Axes(resolved), keepDims: true)
        let variance = try `var`(x, axis: Axes(resolved), keepDims: true)
        let inverseStd = try 1 / sqrt(variance + epsilon)
        let output = try (x - mean) * inverseStd * gamma + beta
        var updates: [SharedVariable: Variable] = [:]
        let factor = runningAverageFactor
        // A running average may have the statistics' shape or drop their size-1 axes.
        func fitted(_ value: Variable, to running: SharedVariable) throws -> Variable { try reshape(value, running.value.shape) }
        if let runningMean { updates[runningMean] = try (1 - factor) * runningMean + factor * fitted(mean, to: runningMean) }
        if let runningVariance {
            let sizes = try x.dimensionSizes()
            let count = try cast(resolved.map { sizes[$0] }.dropFirst().reduce(sizes[resolved[0]], *), to: x.dtype)
            let unbiased = try variance * count / maximum(count - 1, constant(1, dtype: x.dtype))
            updates[runningVariance] = try (1 - factor) * runningVariance + factor * fitted(unbiased, to: runningVariance)
        }
        return BatchNormalizationResult(output: output, mean: mean, inverseStd: inverseStd, updates: updates)
    }
}

/// Batch normalization at test time (Theano's `batch_normalization_test`): `x` normalized by
/// given statistics (the running averages), `(x − mean) / √(variance + ε) · gamma + beta`.
public func batchNormalizationTest(_ x: Variable, gamma: Variable, beta: Variable, mean: Variable, variance: Variable,
                                   epsilon: Double = 1e-4, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try SourceLocation.attributing(to: .resolve(fileID: fileID, line: line)) {
        try (x - mean) / sqrt(variance + epsilon) * gamma + beta
    }
}

/// Layer normalization (Ba, Kiros and Hinton, 2016): each example normalized by its own mean
/// and variance over `axes` (the last by default), then scaled by `gain` and shifted by
/// `bias`, which broadcast against `x`.
public func layerNormalization(_ x: Variable, gain: Variable, bias: Variable, axes: [Int] = [-1], epsilon: Double = 1e-5,
                               fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    let resolved = try checkedAxes(.axes(axes), of: x, function: "layerNormalization", location: location)
    return try SourceLocation.attributing(to: location) {
        let mean = try TheanoOps.mean(x, axis: Axes(resolved), keepDims: true)
        return try (x - mean) / sqrt(`var`(x, axis: Axes(resolved), keepDims: true) + epsilon) * gain + bias
    }
}

/// The axes, checked to be distinct dimensions of a float `x`.
private func checkedAxes(_ axes: NormalizationAxes, of x: Variable, function: String, location: SourceLocation) throws -> [Int] {
    guard x.dtype.isFloat else {
        throw TheanoError.invalidArgument(function: function, reason: "needs a float tensor, not \(x.type)", location: location)
    }
    let resolved = axes.resolved(ndim: x.ndim)
    guard !resolved.isEmpty, resolved.allSatisfy({ (0..<x.ndim).contains($0) }), Set(resolved).count == resolved.count else {
        throw TheanoError.invalidArgument(function: function, reason: "axes \(resolved) are not distinct dimensions of \(x.type)", location: location)
    }
    return resolved.sorted()
}
