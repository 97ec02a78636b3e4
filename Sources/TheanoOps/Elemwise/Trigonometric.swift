import RealModule
import TheanoCore

/// The sine, elementwise (radians).
public struct Sin: UnaryFloatOp, CElementwiseOp {
    package init() {}

    public var description: String { "sin" }
    public func apply<T: FloatElement & NumericElement>(_ x: T) -> T { .sin(x) }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let x = operands[0]
        return .math("sin", x, type: output)
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        let x = operands[0]
        return [try g * cos(x)]
    }
}

/// The sine, elementwise (radians).
public func sin(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Sin(), [x], at: .resolve(fileID: fileID, line: line))
}

/// The cosine, elementwise (radians).
public struct Cos: UnaryFloatOp, CElementwiseOp {
    package init() {}

    public var description: String { "cos" }
    public func apply<T: FloatElement & NumericElement>(_ x: T) -> T { .cos(x) }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let x = operands[0]
        return .math("cos", x, type: output)
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        let x = operands[0]
        return [try -(g * sin(x))]
    }
}

/// The cosine, elementwise (radians).
public func cos(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Cos(), [x], at: .resolve(fileID: fileID, line: line))
}

/// The tangent, elementwise (radians).
public struct Tan: UnaryFloatOp, CElementwiseOp {
    package init() {}

    public var description: String { "tan" }
    public func apply<T: FloatElement & NumericElement>(_ x: T) -> T { .tan(x) }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let x = operands[0]
        return .math("tan", x, type: output)
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        [try g * (output * output + 1)]
    }
}

/// The tangent, elementwise (radians).
public func tan(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Tan(), [x], at: .resolve(fileID: fileID, line: line))
}

/// The inverse sine, elementwise.
public struct ArcSin: UnaryFloatOp, CElementwiseOp {
    package init() {}

    public var description: String { "arcsin" }
    public func apply<T: FloatElement & NumericElement>(_ x: T) -> T { .asin(x) }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let x = operands[0]
        return .math("asin", x, type: output)
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        let x = operands[0]
        return [try g / sqrt(1 - x * x)]
    }
}

/// The inverse sine, elementwise.
public func arcsin(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(ArcSin(), [x], at: .resolve(fileID: fileID, line: line))
}

/// The inverse cosine, elementwise.
public struct ArcCos: UnaryFloatOp, CElementwiseOp {
    package init() {}

    public var description: String { "arccos" }
    public func apply<T: FloatElement & NumericElement>(_ x: T) -> T { .acos(x) }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let x = operands[0]
        return .math("acos", x, type: output)
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        let x = operands[0]
        return [try -(g / sqrt(1 - x * x))]
    }
}

/// The inverse cosine, elementwise.
public func arccos(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(ArcCos(), [x], at: .resolve(fileID: fileID, line: line))
}

/// The inverse tangent, elementwise.
public struct ArcTan: UnaryFloatOp, CElementwiseOp {
    package init() {}

    public var description: String { "arctan" }
    public func apply<T: FloatElement & NumericElement>(_ x: T) -> T { .atan(x) }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let x = operands[0]
        return .math("atan", x, type: output)
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        let x = operands[0]
        return [try g / (x * x + 1)]
    }
}

/// The inverse tangent, elementwise.
public func arctan(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(ArcTan(), [x], at: .resolve(fileID: fileID, line: line))
}

/// The hyperbolic sine, elementwise.
public struct Sinh: UnaryFloatOp, CElementwiseOp {
    package init() {}

    public var description: String { "sinh" }
    public func apply<T: FloatElement & NumericElement>(_ x: T) -> T { .sinh(x) }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let x = operands[0]
        return .math("sinh", x, type: output)
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        let x = operands[0]
        return [try g * cosh(x)]
    }
}

/// The hyperbolic sine, elementwise.
public func sinh(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Sinh(), [x], at: .resolve(fileID: fileID, line: line))
}

/// The hyperbolic cosine, elementwise.
public struct Cosh: UnaryFloatOp, CElementwiseOp {
    package init() {}

    public var description: String { "cosh" }
    public func apply<T: FloatElement & NumericElement>(_ x: T) -> T { .cosh(x) }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let x = operands[0]
        return .math("cosh", x, type: output)
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        let x = operands[0]
        return [try g * sinh(x)]
    }
}

/// The hyperbolic cosine, elementwise.
public func cosh(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Cosh(), [x], at: .resolve(fileID: fileID, line: line))
}

/// The hyperbolic tangent, elementwise.
public struct Tanh: UnaryFloatOp, CElementwiseOp {
    package init() {}

    public var description: String { "tanh" }
    public func apply<T: FloatElement & NumericElement>(_ x: T) -> T { .tanh(x) }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let x = operands[0]
        return .math("tanh", x, type: output)
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        [try g * (1 - output * output)]
    }
}

/// The hyperbolic tangent, elementwise.
public func tanh(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Tanh(), [x], at: .resolve(fileID: fileID, line: line))
}

/// The angle of the point (x, y): atan(y / x) in the right quadrant, elementwise.
public struct ArcTan2: BinaryFloatOp, CElementwiseOp {
    package init() {}

    public var description: String { "arctan2" }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let (a, b) = (operands[0], operands[1])
        return .math("atan2", a, b, type: output)
    }
    public func apply<T: FloatElement & NumericElement>(_ y: T, _ x: T) -> T { .atan2(y: y, x: x) }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        let (y, x) = (operands[0], operands[1])
        let radius = try x * x + y * y
        return [try g * x / radius, try -(g * y / radius)]
    }
}

/// The angle of the point (x, y): atan(y / x) in the right quadrant, elementwise.
public func arctan2(_ y: Variable, _ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(ArcTan2(), [y, x], at: .resolve(fileID: fileID, line: line))
}
