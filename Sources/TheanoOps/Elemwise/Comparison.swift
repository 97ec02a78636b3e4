import TheanoCore

/// Whether a equals b, elementwise (`==` compares graph identity).
public struct Equal: ComparisonOp, CElementwiseOp {
    package init() {}

    public var cOperator: String { "==" }
    public var isCommutative: Bool { true }
    public var description: String { "eq" }
    public func compare<T: Element>(_ a: T, _ b: T) -> Bool { a == b }
}

/// Whether a equals b, elementwise (`==` compares graph identity).
public func eq(_ a: Variable, _ b: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Equal(), [a, b], at: .resolve(fileID: fileID, line: line))
}

/// Whether a equals b, elementwise (`==` compares graph identity).
public func eq(_ a: Variable, _ b: some ScalarLiteral, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Equal(), a, b, at: .resolve(fileID: fileID, line: line))
}

/// Whether a differs from b, elementwise.
public struct NotEqual: ComparisonOp, CElementwiseOp {
    package init() {}

    public var cOperator: String { "!=" }
    public var isCommutative: Bool { true }
    public var description: String { "neq" }
    public func compare<T: Element>(_ a: T, _ b: T) -> Bool { a != b }
}

/// Whether a differs from b, elementwise.
public func neq(_ a: Variable, _ b: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(NotEqual(), [a, b], at: .resolve(fileID: fileID, line: line))
}

/// Whether a differs from b, elementwise.
public func neq(_ a: Variable, _ b: some ScalarLiteral, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(NotEqual(), a, b, at: .resolve(fileID: fileID, line: line))
}

/// Whether a < b, elementwise.
public struct Less: ComparisonOp, CElementwiseOp {
    package init() {}

    public var cOperator: String { "<" }
    public var description: String { "lt" }
    public func compare<T: Element>(_ a: T, _ b: T) -> Bool { T.less(a, b) }
}

/// Whether a < b, elementwise.
public func lt(_ a: Variable, _ b: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Less(), [a, b], at: .resolve(fileID: fileID, line: line))
}

/// Whether a < b, elementwise.
public func lt(_ a: Variable, _ b: some ScalarLiteral, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Less(), a, b, at: .resolve(fileID: fileID, line: line))
}

/// Whether a ≤ b, elementwise.
public struct LessEqual: ComparisonOp, CElementwiseOp {
    package init() {}

    public var cOperator: String { "<=" }
    public var description: String { "le" }
    public func compare<T: Element>(_ a: T, _ b: T) -> Bool { T.lessOrEqual(a, b) }
}

/// Whether a ≤ b, elementwise.
public func le(_ a: Variable, _ b: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(LessEqual(), [a, b], at: .resolve(fileID: fileID, line: line))
}

/// Whether a ≤ b, elementwise.
public func le(_ a: Variable, _ b: some ScalarLiteral, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(LessEqual(), a, b, at: .resolve(fileID: fileID, line: line))
}

/// Whether a > b, elementwise.
public struct Greater: ComparisonOp, CElementwiseOp {
    package init() {}

    public var cOperator: String { ">" }
    public var description: String { "gt" }
    public func compare<T: Element>(_ a: T, _ b: T) -> Bool { T.less(b, a) }
}

/// Whether a > b, elementwise.
public func gt(_ a: Variable, _ b: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Greater(), [a, b], at: .resolve(fileID: fileID, line: line))
}

/// Whether a > b, elementwise.
public func gt(_ a: Variable, _ b: some ScalarLiteral, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Greater(), a, b, at: .resolve(fileID: fileID, line: line))
}

/// Whether a ≥ b, elementwise.
public struct GreaterEqual: ComparisonOp, CElementwiseOp {
    package init() {}

    public var cOperator: String { ">=" }
    public var description: String { "ge" }
    public func compare<T: Element>(_ a: T, _ b: T) -> Bool { T.lessOrEqual(b, a) }
}

/// Whether a ≥ b, elementwise.
public func ge(_ a: Variable, _ b: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(GreaterEqual(), [a, b], at: .resolve(fileID: fileID, line: line))
}

/// Whether a ≥ b, elementwise.
public func ge(_ a: Variable, _ b: some ScalarLiteral, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(GreaterEqual(), a, b, at: .resolve(fileID: fileID, line: line))
}

/// Whether x is NaN, elementwise.
public struct IsNaN: FloatPredicateOp, CElementwiseOp {
    package init() {}

    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? { .binary(operands[0], "!=", operands[0], type: .bool) }
    public var description: String { "isnan" }
    public func test<T: FloatElement>(_ x: T) -> Bool { x.isNaN }
}

/// Whether x is NaN, elementwise.
public func isnan(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(IsNaN(), [x], at: .resolve(fileID: fileID, line: line))
}

/// Whether x is +∞ or -∞, elementwise.
public struct IsInf: FloatPredicateOp, CElementwiseOp {
    package init() {}

    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? { .binary(.math("fabs", operands[0], type: operands[0].type), "==", .literal(.infinity, operands[0].type), type: .bool) }
    public var description: String { "isinf" }
    public func test<T: FloatElement>(_ x: T) -> Bool { x.isInfinite }
}

/// Whether x is +∞ or -∞, elementwise.
public func isinf(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(IsInf(), [x], at: .resolve(fileID: fileID, line: line))
}
