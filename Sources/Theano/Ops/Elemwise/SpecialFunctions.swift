import RealModule

/// The error function, elementwise.
public struct Erf: UnaryFloatOp, CElementwiseOp {
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
