import TheanoCore

/// Noise injected into a differentiable graph: the gradient flows through the clean value
/// as if the noise were a constant.
public enum InjectedNoise: Sendable {
    /// `x + ε`, `ε ~ N(0, std²)`.
    case additive(std: Double)
    /// `x · ε`, `ε ~ N(1, std²)`.
    case multiplicative(std: Double)
}

/// `x` with fresh noise on every call (the noisy rectifier is `relu(injectNoise(a, .additive(std: 1), …))`),
/// or `x` itself when not training.
public func injectNoise(_ x: Variable, _ noise: InjectedNoise, streams: RandomStreams, training: Bool = true,
                        fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    let std: Double
    switch noise { case .additive(let s), .multiplicative(let s): std = s }
    guard std >= 0, std.isFinite else {
        throw TheanoError.invalidArgument(function: "injectNoise", reason: "the standard deviation must be finite and not negative, not \(std)", location: location)
    }
    guard x.dtype.isFloat else {
        throw TheanoError.invalidArgument(function: "injectNoise", reason: "needs a float tensor, not \(x.type)", location: location)
    }
    guard training, std > 0 else { return x }
    return try SourceLocation.attributing(to: location) {
        switch noise {
        case .additive: try x + streams.normal(shape: .like(x), std: std, dtype: x.dtype, fileID: fileID, line: line)
        case .multiplicative: try x * streams.normal(shape: .like(x), mean: 1, std: std, dtype: x.dtype, fileID: fileID, line: line)
        }
    }
}
