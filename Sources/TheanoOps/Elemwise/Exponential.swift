import RealModule
import TheanoCore

/// eˣ, elementwise.
public struct Exp: UnaryFloatOp, CElementwiseOp {
    package init() {}

    public var description: String { "exp" }
    public func apply<T: FloatElement & NumericElement>(_ x: T) -> T { .exp(x) }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let x = operands[0]
        return .math("exp", x, type: output)
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        [try g * output]
    }
}

/// eˣ, elementwise.
public func exp(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Exp(), [x], at: .resolve(fileID: fileID, line: line))
}

/// eˣ - 1, accurate for small x.
public struct ExpMinusOne: UnaryFloatOp, CElementwiseOp {
    package init() {}

    public var description: String { "expm1" }
    public func apply<T: FloatElement & NumericElement>(_ x: T) -> T { .expMinusOne(x) }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let x = operands[0]
        return .math("expm1", x, type: output)
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        [try g * (output + 1)]
    }
}

/// eˣ - 1, accurate for small x.
public func expm1(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(ExpMinusOne(), [x], at: .resolve(fileID: fileID, line: line))
}

/// The natural logarithm, elementwise.
public struct Log: UnaryFloatOp, CElementwiseOp {
    package init() {}

    public var description: String { "log" }
    public func apply<T: FloatElement & NumericElement>(_ x: T) -> T { .log(x) }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let x = operands[0]
        return .math("log", x, type: output)
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        let x = operands[0]
        return [try g / x]
    }
}

/// The natural logarithm, elementwise.
public func log(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Log(), [x], at: .resolve(fileID: fileID, line: line))
}

/// log(1 + x), accurate for small x.
public struct LogOnePlus: UnaryFloatOp, CElementwiseOp {
    package init() {}

    public var description: String { "log1p" }
    public func apply<T: FloatElement & NumericElement>(_ x: T) -> T { .log(onePlus: x) }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let x = operands[0]
        return .math("log1p", x, type: output)
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        let x = operands[0]
        return [try g / (x + 1)]
    }
}

/// log(1 + x), accurate for small x.
public func log1p(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(LogOnePlus(), [x], at: .resolve(fileID: fileID, line: line))
}

/// The base-2 logarithm, elementwise.
public struct Log2: UnaryFloatOp, CElementwiseOp {
    package init() {}

    public var description: String { "log2" }
    public func apply<T: FloatElement & NumericElement>(_ x: T) -> T { .log2(x) }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let x = operands[0]
        return .math("log2", x, type: output)
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        let x = operands[0]
        return [try g / (x * Double.log(2))]
    }
}

/// The base-2 logarithm, elementwise.
public func log2(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Log2(), [x], at: .resolve(fileID: fileID, line: line))
}

/// The base-10 logarithm, elementwise.
public struct Log10: UnaryFloatOp, CElementwiseOp {
    package init() {}

    public var description: String { "log10" }
    public func apply<T: FloatElement & NumericElement>(_ x: T) -> T { .log10(x) }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let x = operands[0]
        return .math("log10", x, type: output)
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        let x = operands[0]
        return [try g / (x * Double.log(10))]
    }
}

/// The base-10 logarithm, elementwise.
public func log10(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Log10(), [x], at: .resolve(fileID: fileID, line: line))
}

/// The square root, elementwise.
public struct SquareRoot: UnaryFloatOp, CElementwiseOp {
    package init() {}

    public var description: String { "sqrt" }
    public func apply<T: FloatElement & NumericElement>(_ x: T) -> T { .sqrt(x) }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let x = operands[0]
        return .math("sqrt", x, type: output)
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        [try g * 0.5 / output]
    }
}

/// The square root, elementwise.
public func sqrt(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(SquareRoot(), [x], at: .resolve(fileID: fileID, line: line))
}

/// x², elementwise.
public struct Square: UnaryNumericOp, CElementwiseOp {
    package init() {}

    public var description: String { "sqr" }
    public func apply<T: NumericElement>(_ x: T) -> T { .multiply(x, x) }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let x = operands[0]
        return .binary(x, "*", x)
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        let x = operands[0]
        return [try g * x * 2]
    }
}

/// x², elementwise.
public func sqr(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Square(), [x], at: .resolve(fileID: fileID, line: line))
}

/// 1 / x, elementwise.
public struct Reciprocal: UnaryFloatOp, CElementwiseOp {
    package init() {}

    public var description: String { "reciprocal" }
    public func apply<T: FloatElement & NumericElement>(_ x: T) -> T { 1 / x }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let x = operands[0]
        return .binary(.one(output), "/", x)
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        [try -(g * output * output)]
    }
}

/// 1 / x, elementwise.
public func reciprocal(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Reciprocal(), [x], at: .resolve(fileID: fileID, line: line))
}
