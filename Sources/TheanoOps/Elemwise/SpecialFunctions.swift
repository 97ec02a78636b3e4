import RealModule
import TheanoCore

/// The error function, elementwise.
public struct Erf: UnaryFloatOp, CElementwiseOp {
    package init() {}

    public var description: String { "erf" }
    public func apply<T: FloatElement & NumericElement>(_ x: T) -> T { .erf(x) }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let x = operands[0]
        return .math("erf", x, type: output)
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        let x = operands[0]
        return [try g * (2 / Double.sqrt(.pi)) * exp(-(x * x))]
    }
}

/// The error function, elementwise.
public func erf(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Erf(), [x], at: .resolve(fileID: fileID, line: line))
}

/// The complementary error function 1 - erf(x), accurate where erf(x) is near 1.
public struct Erfc: UnaryFloatOp, CElementwiseOp {
    package init() {}

    public var description: String { "erfc" }
    public func apply<T: FloatElement & NumericElement>(_ x: T) -> T { .erfc(x) }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let x = operands[0]
        return .math("erfc", x, type: output)
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        let x = operands[0]
        return [try -(g * (2 / Double.sqrt(.pi)) * exp(-(x * x)))]
    }
}

/// The complementary error function 1 - erf(x), accurate where erf(x) is near 1.
public func erfc(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Erfc(), [x], at: .resolve(fileID: fileID, line: line))
}

/// The logistic function 1 / (1 + e⁻ˣ), computed without overflow.
public struct Sigmoid: UnaryFloatOp, CElementwiseOp {
    package init() {}

    public var description: String { "sigmoid" }
    public func apply<T: FloatElement & NumericElement>(_ x: T) -> T { x >= 0 ? 1 / (1 + .exp(-x)) : .exp(x) / (1 + .exp(x)) }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let x = operands[0]
        return .helper(output == .float ? "theano_sigmoidf" : "theano_sigmoid", [x], type: output)
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        [try g * output * (1 - output)]
    }
}

/// The logistic function 1 / (1 + e⁻ˣ), computed without overflow.
public func sigmoid(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Sigmoid(), [x], at: .resolve(fileID: fileID, line: line))
}

/// log(1 + eˣ), computed without overflow.
public struct Softplus: UnaryFloatOp, CElementwiseOp {
    package init() {}

    public var description: String { "softplus" }
    public func apply<T: FloatElement & NumericElement>(_ x: T) -> T { x > 0 ? x + .log(onePlus: .exp(-x)) : .log(onePlus: .exp(x)) }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let x = operands[0]
        return .helper(output == .float ? "theano_softplusf" : "theano_softplus", [x], type: output)
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        let x = operands[0]
        return [try g * sigmoid(x)]
    }
}

/// log(1 + eˣ), computed without overflow.
public func softplus(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Softplus(), [x], at: .resolve(fileID: fileID, line: line))
}

/// log(1 - eˣ), accurate for every x ≤ 0 (Mächler's `log1mexp`): `log(-expm1(x))` above
/// -ln 2, where eˣ is near 1 and `1 - eˣ` would cancel, and `log1p(-eˣ)` from -ln 2 down,
/// where eˣ is small and `log` of a number near 1 would lose it. NaN for x > 0, -∞ at 0.
public struct LogOneMinusExp: UnaryFloatOp, CElementwiseOp {
    package init() {}

    public var description: String { "log1mexp" }
    /// -ln 2 as a `Double`; each float type rounds it the same way in Swift and in C.
    private static let threshold = -Double.log(2)
    public func apply<T: FloatElement & NumericElement>(_ x: T) -> T {
        x > T(Self.threshold) ? .log(-.expMinusOne(x)) : .log(onePlus: -.exp(x))
    }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let x = operands[0]
        return .select(.binary(x, ">", .literal(Self.threshold, output), type: .bool),
                       .math("log", .prefix("-", .math("expm1", x, type: output)), type: output),
                       .math("log1p", .prefix("-", .math("exp", x, type: output)), type: output))
    }
    /// d/dx log(1 - eˣ) = -eˣ / (1 - eˣ) = -1 / expm1(-x): exact where the derivative is
    /// tiny (x ≪ 0: -0 at -1000) and where it grows like 1/x (x near 0: -∞ at -0, and +∞
    /// at +0, the limit from the right).
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        let x = operands[0]
        return [try -(g / expm1(-x))]
    }
}

/// log(1 - eˣ), accurate for every x ≤ 0: the stable form of `log(1 - exp(x))` and
/// `log1p(-exp(x))`, which lose everything near 0 and below -37 respectively.
public func log1mexp(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(LogOneMinusExp(), [x], at: .resolve(fileID: fileID, line: line))
}
