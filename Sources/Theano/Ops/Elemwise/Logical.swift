/// Logical and/or/xor of two boolean tensors.
public struct LogicalBinary: LogicalOp, CElementwiseOp {
    public var isCommutative: Bool { true }
    public enum Connective: String, Sendable { case and, or, xor }
    public let connective: Connective
    public var arity: Int { 2 }
    public var description: String { "\(connective)" }

    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        switch connective {
        case .and: .binary(operands[0], "&&", operands[1], type: .bool)
        case .or: .binary(operands[0], "||", operands[1], type: .bool)
        case .xor: .binary(operands[0], "!=", operands[1], type: .bool)
        }
    }

    public func apply(_ operands: [NDArray], shape: [Int]) -> NDArray {
        switch connective {
        case .and: map2(operands[0], operands[1], shape: shape) { (a: Bool, b: Bool) in a && b }
        case .or: map2(operands[0], operands[1], shape: shape) { (a: Bool, b: Bool) in a || b }
        case .xor: map2(operands[0], operands[1], shape: shape) { (a: Bool, b: Bool) in a != b }
        }
    }
}

/// Logical negation of a boolean tensor.
public struct LogicalNot: LogicalOp, CElementwiseOp {
    public var arity: Int { 1 }
    public var description: String { "not" }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? { .prefix("!", operands[0]).cast(to: .bool) }
    public func apply(_ operands: [NDArray], shape: [Int]) -> NDArray { map1(operands[0]) { (a: Bool) in !a } }
}

/// `a and b`, elementwise; non-boolean operands count as true where nonzero.
public func and(_ a: Variable, _ b: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(LogicalBinary(connective: .and), [a, b], at: .resolve(fileID: fileID, line: line))
}

/// `a or b`, elementwise.
public func or(_ a: Variable, _ b: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(LogicalBinary(connective: .or), [a, b], at: .resolve(fileID: fileID, line: line))
}

/// `a xor b`, elementwise.
public func xor(_ a: Variable, _ b: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(LogicalBinary(connective: .xor), [a, b], at: .resolve(fileID: fileID, line: line))
}

/// `not a`, elementwise.
public func not(_ a: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(LogicalNot(), [a], at: .resolve(fileID: fileID, line: line))
}
