import RealModule

/// |x|, elementwise.
public struct Absolute: UnaryNumericOp, CElementwiseOp {
    public var description: String { "abs" }
    public func apply<T: NumericElement>(_ x: T) -> T { .absolute(x) }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let x = operands[0]
        return output.isFloat ? .math("fabs", x, type: output) : .select(.binary(x, "<", .zero(output), type: .bool), .prefix("-", x), x)
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        let x = operands[0]
        return [try g * sign(x)]
    }
}

/// |x|, elementwise.
public func abs(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Absolute(), [x], at: .resolve(fileID: fileID, line: line))
}

/// -1, 0 or 1 by the sign of x (NaN stays NaN). No gradient flows.
public struct Sign: UnaryNumericOp, CElementwiseOp {
    public var description: String { "sign" }
    public func apply<T: NumericElement>(_ x: T) -> T { .sign(x) }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let x = operands[0]
        return .select(.binary(x, ">", .zero(output), type: .bool), .one(output), .select(.binary(x, "<", .zero(output), type: .bool), .prefix("-", .one(output)), x))
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        [nil]
    }
}

/// -1, 0 or 1 by the sign of x (NaN stays NaN). No gradient flows.
public func sign(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Sign(), [x], at: .resolve(fileID: fileID, line: line))
}

/// The largest integer not above x, elementwise. No gradient flows.
public struct Floor: UnaryNumericOp, CElementwiseOp {
    public var description: String { "floor" }
    public func apply<T: NumericElement>(_ x: T) -> T { .floor(x) }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let x = operands[0]
        return output.isFloat ? .math("floor", x, type: output) : x
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        [nil]
    }
}

/// The largest integer not above x, elementwise. No gradient flows.
public func floor(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Floor(), [x], at: .resolve(fileID: fileID, line: line))
}

/// The smallest integer not below x, elementwise. No gradient flows.
public struct Ceil: UnaryNumericOp, CElementwiseOp {
    public var description: String { "ceil" }
    public func apply<T: NumericElement>(_ x: T) -> T { .ceil(x) }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let x = operands[0]
        return output.isFloat ? .math("ceil", x, type: output) : x
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        [nil]
    }
}

/// The smallest integer not below x, elementwise. No gradient flows.
public func ceil(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Ceil(), [x], at: .resolve(fileID: fileID, line: line))
}

/// x rounded to the nearest integer, halves to even (as NumPy). No gradient flows.
public struct Round: UnaryNumericOp, CElementwiseOp {
    public var description: String { "round" }
    public func apply<T: NumericElement>(_ x: T) -> T { .round(x) }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let x = operands[0]
        return output.isFloat ? .math("rint", x, type: output) : x
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        [nil]
    }
}

/// x rounded to the nearest integer, halves to even (as NumPy). No gradient flows.
public func round(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Round(), [x], at: .resolve(fileID: fileID, line: line))
}
