import TheanoCore

/// Inverted dropout: each element of `x` is kept with probability `1 - rate` and scaled by
/// `1 / (1 - rate)`, or set to zero, with a new mask on every call — so the expected value
/// is `x` and the test-time graph (`training: false`) is `x` itself.
public func dropout(_ x: Variable, rate: Double, streams: RandomStreams, training: Bool = true,
                    fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    guard (0..<1).contains(rate) else {
        throw TheanoError.invalidArgument(function: "dropout", reason: "rate must be in [0, 1), not \(rate)", location: location)
    }
    guard x.dtype.isFloat else {
        throw TheanoError.invalidArgument(function: "dropout", reason: "needs a float tensor, not \(x.type)", location: location)
    }
    guard training, rate > 0 else { return x }
    return try SourceLocation.attributing(to: location) {
        let keep = try streams.bernoulli(shape: .like(x), p: constant(1 - rate, dtype: x.dtype), fileID: fileID, line: line)
        return try x * keep / (1 - rate)
    }
}
