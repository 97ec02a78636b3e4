import TheanoCore

/// The rectified linear unit, elementwise: `max(x, 0)`, or with a slope `alpha` for the
/// negative side the leaky ReLU `x > 0 ? x : alpha * x` (PyTensor's `relu(x, alpha)`). A
/// float `alpha` beside an integer `x` makes the result float, as `alpha * x` would.
public func relu(_ x: Variable, alpha: some ScalarLiteral = 0, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    guard alpha.scalarValue != 0 else { return try elementwise(Maximum(), x, 0, at: location) }
    return try leakyRelu(x, slope: literal(alpha, beside: x, at: location), at: location)
}

/// The leaky ReLU `x > 0 ? x : alpha * x`, elementwise, with a tensor of slopes `alpha` that
/// broadcasts against `x` like an operand of `*` (one slope per channel, say). The gradient
/// flows to `alpha` too.
public func relu(_ x: Variable, alpha: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try leakyRelu(x, slope: alpha, at: .resolve(fileID: fileID, line: line))
}

/// `switch(x > 0, x, slope * x)`: elementwise ops only, so the native backend fuses it into
/// one loop, and its pullback and pushforward are theirs.
private func leakyRelu(_ x: Variable, slope: Variable, at location: SourceLocation) throws -> Variable {
    let positive = try elementwise(Greater(), x, 0, at: location)
    return try elementwise(Switch(), [positive, x, elementwise(Multiply(), [slope, x], at: location)], at: location)
}
