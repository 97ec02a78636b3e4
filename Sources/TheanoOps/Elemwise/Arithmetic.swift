import RealModule
import TheanoCore

/// `a + b`.
public struct Add: BinaryNumericOp, CElementwiseOp {
    package init() {}

    public var isCommutative: Bool { true }
    public var description: String { "add" }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let (a, b) = (operands[0], operands[1])
        return .binary(a, "+", b)
    }
    public func apply<T: NumericElement>(_ a: T, _ b: T) -> T { .add(a, b) }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] { [g, g] }
}

/// `a - b`.
public struct Subtract: BinaryNumericOp, CElementwiseOp {
    package init() {}

    public var description: String { "sub" }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let (a, b) = (operands[0], operands[1])
        return .binary(a, "-", b)
    }
    public func apply<T: NumericElement>(_ a: T, _ b: T) -> T { .subtract(a, b) }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] { [g, try -g] }
}

/// `a * b`.
public struct Multiply: BinaryNumericOp, CElementwiseOp {
    package init() {}

    public var isCommutative: Bool { true }
    public var description: String { "mul" }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let (a, b) = (operands[0], operands[1])
        return .binary(a, "*", b)
    }
    public func apply<T: NumericElement>(_ a: T, _ b: T) -> T { .multiply(a, b) }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        [try g * operands[1], try g * operands[0]]
    }
}

/// `a / b`, true division: integers are divided as floats.
public struct Divide: BinaryFloatOp, CElementwiseOp {
    package init() {}

    public var description: String { "true_div" }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let (a, b) = (operands[0], operands[1])
        return .binary(a, "/", b)
    }
    public func apply<T: FloatElement & NumericElement>(_ a: T, _ b: T) -> T { a / b }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        [try g / operands[1], try -(g * output / operands[1])]
    }
}

/// `a // b`: division rounded toward negative infinity. No gradient flows.
public struct FloorDivide: BinaryNumericOp, CElementwiseOp {
    package init() {}

    public var description: String { "int_div" }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let (a, b) = (operands[0], operands[1])
        return .helper("theano_floordiv_\(output.helperSuffix)", [a, b], type: output)
    }
    public func apply<T: NumericElement>(_ a: T, _ b: T) -> T { .floorDivide(a, b) }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] { [nil, nil] }
}

/// `a % b` with the sign of `b`, as Python and NumPy.
public struct Remainder: BinaryNumericOp, CElementwiseOp {
    package init() {}

    public var description: String { "mod" }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let (a, b) = (operands[0], operands[1])
        return .helper("theano_mod_\(output.helperSuffix)", [a, b], type: output)
    }
    public func apply<T: NumericElement>(_ a: T, _ b: T) -> T { .remainder(a, b) }
    /// d(a - b⌊a/b⌋): 1 for `a`, -⌊a/b⌋ for `b`.
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        [g, try -(g * floor(operands[0] / operands[1]))]
    }
}

/// `a ** b`.
public struct Power: BinaryNumericOp, CElementwiseOp {
    package init() {}

    public var description: String { "pow" }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let (a, b) = (operands[0], operands[1])
        return output.isFloat ? .math("pow", a, b, type: output) : .helper("theano_pow_\(output.helperSuffix)", [a, b], type: output)
    }
    public func apply<T: NumericElement>(_ a: T, _ b: T) -> T { .power(a, b) }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        let (a, b) = (operands[0], operands[1])
        return [try g * b * pow(a, b - 1), try g * output * log(a)]
    }
}

/// The larger of `a` and `b` (NaN if either is NaN).
public struct Maximum: BinaryNumericOp, CElementwiseOp {
    package init() {}

    public var isCommutative: Bool { true }
    public var description: String { "maximum" }
    /// As Swift's `max` (so signed zeros come out as the reference's), NaN if either is NaN.
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let (a, b) = (operands[0], operands[1])
        let chosen = CExpression.select(.binary(b, ">=", a, type: .bool), b, a)
        guard output.isFloat else { return chosen }
        return .select(.binary(.binary(a, "!=", a, type: .bool), "||", .binary(b, "!=", b, type: .bool), type: .bool), .binary(a, "+", b), chosen)
    }
    public func apply<T: NumericElement>(_ a: T, _ b: T) -> T { .maximum(a, b) }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        let routed = try Self.route(g, operands[0], operands[1])
        return [routed.a, routed.b]
    }

    /// `g` routed to one operand: to `a` where a ≥ b — at a tie too, as PyTensor does, so that
    /// `maximum(x, x)` has derivative 1 — to `b` where a < b, to neither where one is NaN
    /// (the result is NaN). JAX splits a tie in halves instead.
    static func route(_ g: Variable, _ a: Variable, _ b: Variable) throws -> (a: Variable, b: Variable) {
        (try g.kept(where: ge(a, b)), try g.kept(where: lt(a, b)))
    }
}

/// The smaller of `a` and `b` (NaN if either is NaN).
public struct Minimum: BinaryNumericOp, CElementwiseOp {
    package init() {}

    public var isCommutative: Bool { true }
    public var description: String { "minimum" }
    /// As Swift's `min` (so signed zeros come out as the reference's), NaN if either is NaN.
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let (a, b) = (operands[0], operands[1])
        let chosen = CExpression.select(.binary(b, "<", a, type: .bool), b, a)
        guard output.isFloat else { return chosen }
        return .select(.binary(.binary(a, "!=", a, type: .bool), "||", .binary(b, "!=", b, type: .bool), type: .bool), .binary(a, "+", b), chosen)
    }
    public func apply<T: NumericElement>(_ a: T, _ b: T) -> T { .minimum(a, b) }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        let routed = try Self.route(g, operands[0], operands[1])
        return [routed.a, routed.b]
    }

    /// `g` routed to one operand: to `a` where a ≤ b (at a tie too, as for ``Maximum``), to
    /// `b` where a > b, to neither where one is NaN.
    static func route(_ g: Variable, _ a: Variable, _ b: Variable) throws -> (a: Variable, b: Variable) {
        (try g.kept(where: le(a, b)), try g.kept(where: gt(a, b)))
    }
}

/// `-x`. Booleans are rejected, as by NumPy: `not` (or `~`) is their negation.
public struct Negate: UnaryNumericOp, CElementwiseOp {
    package init() {}

    public var description: String { "neg" }
    /// The operand as given: a boolean is not converted to a number to be negated.
    public func operandDTypes(_ given: [DType]) -> [DType] { given }
    public func outputDType(_ operands: [DType]) throws -> DType {
        guard operands[0] != .bool else { throw OpError("cannot negate a bool tensor; use not(x) or ~x for the logical negation") }
        return operands[0]
    }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? { .prefix("-", operands[0]) }
    public func apply<T: NumericElement>(_ x: T) -> T { .negate(x) }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] { [try -g] }
}

// MARK: - Operators

extension Variable {
    /// The elementwise sum, broadcasting the operands and promoting their dtypes; of two
    /// sparse matrices, their sparse sum (``SparseAdd``).
    public static func + (lhs: Variable, rhs: Variable) throws -> Variable {
        if lhs.isSparse && rhs.isSparse { return try SparseAdd()([lhs, rhs], at: .operatorCaller()) }
        return try elementwise(Add(), [lhs, rhs], at: .operatorCaller())
    }
    /// The elementwise difference, broadcasting the operands and promoting their dtypes.
    public static func - (lhs: Variable, rhs: Variable) throws -> Variable {
        try elementwise(Subtract(), [lhs, rhs], at: .operatorCaller())
    }
    /// The elementwise product, broadcasting the operands and promoting their dtypes; with a
    /// sparse operand, the product at its stored positions (``structuredScale(_:by:fileID:line:)``'s
    /// kind: a sparse matrix of its structure).
    public static func * (lhs: Variable, rhs: Variable) throws -> Variable {
        if lhs.isSparse { return try sparseProduct(lhs, rhs, at: .operatorCaller()) }
        if rhs.isSparse { return try sparseProduct(rhs, lhs, at: .operatorCaller()) }
        return try elementwise(Multiply(), [lhs, rhs], at: .operatorCaller())
    }
    /// True division: integer operands are divided as floats.
    public static func / (lhs: Variable, rhs: Variable) throws -> Variable {
        try elementwise(Divide(), [lhs, rhs], at: .operatorCaller())
    }
    /// The remainder with the sign of the divisor, as Python and NumPy.
    public static func % (lhs: Variable, rhs: Variable) throws -> Variable {
        try elementwise(Remainder(), [lhs, rhs], at: .operatorCaller())
    }
    /// The elementwise negation (an error for booleans).
    public static prefix func - (operand: Variable) throws -> Variable {
        try elementwise(Negate(), [operand], at: .operatorCaller())
    }

    // A Swift number on one side becomes a constant of the other side's dtype (a float
    // literal beside an integer tensor makes the result float).
    /// `lhs` plus a Swift number, which becomes a constant beside it (see ``ScalarLiteral``).
    public static func + (lhs: Variable, rhs: some ScalarLiteral) throws -> Variable {
        try elementwise(Add(), lhs, rhs, at: .operatorCaller())
    }
    /// A Swift number, which becomes a constant beside `rhs` (see ``ScalarLiteral``), plus `rhs`.
    public static func + (lhs: some ScalarLiteral, rhs: Variable) throws -> Variable {
        try elementwise(Add(), lhs, rhs, at: .operatorCaller())
    }
    /// `lhs` minus a Swift number, which becomes a constant beside it (see ``ScalarLiteral``).
    public static func - (lhs: Variable, rhs: some ScalarLiteral) throws -> Variable {
        try elementwise(Subtract(), lhs, rhs, at: .operatorCaller())
    }
    /// A Swift number, which becomes a constant beside `rhs` (see ``ScalarLiteral``), minus `rhs`.
    public static func - (lhs: some ScalarLiteral, rhs: Variable) throws -> Variable {
        try elementwise(Subtract(), lhs, rhs, at: .operatorCaller())
    }
    /// `lhs` times a Swift number, which becomes a constant beside it (see ``ScalarLiteral``);
    /// a sparse `lhs` keeps its structure.
    public static func * (lhs: Variable, rhs: some ScalarLiteral) throws -> Variable {
        let location = SourceLocation.operatorCaller()
        if lhs.isSparse { return try sparseProduct(lhs, literal(rhs, beside: lhs, at: location), at: location) }
        return try elementwise(Multiply(), lhs, rhs, at: location)
    }
    /// A Swift number, which becomes a constant beside `rhs` (see ``ScalarLiteral``), times `rhs`;
    /// a sparse `rhs` keeps its structure.
    public static func * (lhs: some ScalarLiteral, rhs: Variable) throws -> Variable {
        let location = SourceLocation.operatorCaller()
        if rhs.isSparse { return try sparseProduct(rhs, literal(lhs, beside: rhs, at: location), at: location) }
        return try elementwise(Multiply(), lhs, rhs, at: location)
    }
    /// `lhs` divided by a Swift number (true division).
    public static func / (lhs: Variable, rhs: some ScalarLiteral) throws -> Variable {
        try elementwise(Divide(), lhs, rhs, at: .operatorCaller())
    }
    /// A Swift number divided by `rhs` (true division).
    public static func / (lhs: some ScalarLiteral, rhs: Variable) throws -> Variable {
        try elementwise(Divide(), lhs, rhs, at: .operatorCaller())
    }
    /// The remainder of `lhs` divided by a Swift number, with the divisor's sign.
    public static func % (lhs: Variable, rhs: some ScalarLiteral) throws -> Variable {
        try elementwise(Remainder(), lhs, rhs, at: .operatorCaller())
    }
}

package func elementwise(_ op: some ElementwiseOp, _ a: Variable, _ b: some ScalarLiteral, at location: SourceLocation) throws -> Variable {
    try elementwise(op, [a, literal(b, beside: a, at: location)], at: location)
}

package func elementwise(_ op: some ElementwiseOp, _ a: some ScalarLiteral, _ b: Variable, at location: SourceLocation) throws -> Variable {
    try elementwise(op, [literal(a, beside: b, at: location), b], at: location)
}

/// A Swift number written beside a tensor (`2 * x`, `x - 0.5`): `Int` or `Double` literals
/// and values.
///
/// The number becomes a 0-d constant of the tensor's dtype, except that a `Double` beside an
/// integer tensor takes the float type Theano upgrades the tensor to (`int32` → `float64`),
/// and an `Int` beside a boolean tensor is `int64`.
public protocol ScalarLiteral {
    /// The number as a `Double`.
    var scalarValue: Double { get }
    /// Whether it was written as an integer, so it keeps an integer tensor's dtype.
    var isIntegerLiteral: Bool { get }
}

/// An `Int` beside a tensor becomes a constant that keeps an integer tensor's dtype.
extension Int: ScalarLiteral {
    public var scalarValue: Double { Double(self) }
    public var isIntegerLiteral: Bool { true }
}

/// A `Double` beside a tensor becomes a float constant.
extension Double: ScalarLiteral {
    public var scalarValue: Double { self }
    public var isIntegerLiteral: Bool { false }
}

/// A 0-d constant for a Swift number used beside `other`: of `other`'s dtype, except that a
/// float beside an integer tensor takes the float type Theano upgrades it to (`int32` →
/// `float64`), and an integer beside a boolean tensor is `int64`.
package func literal(_ value: some ScalarLiteral, beside other: Variable, at location: SourceLocation) -> Constant {
    let dtype: DType
    switch (other.dtype.isFloat, value.isIntegerLiteral) {
    case (true, _): dtype = other.dtype
    case (false, true): dtype = other.dtype == .bool ? .int64 : other.dtype
    case (false, false): dtype = other.dtype.upgradedToFloat
    }
    return Constant(NDArray(scalar: value.scalarValue, dtype: dtype), location: location)
}

// MARK: - Named builders

/// `a ** b`, elementwise.
public func pow(_ a: Variable, _ b: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Power(), [a, b], at: .resolve(fileID: fileID, line: line))
}

/// `a ** exponent`, elementwise.
public func pow(_ a: Variable, _ exponent: some ScalarLiteral, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Power(), a, exponent, at: .resolve(fileID: fileID, line: line))
}

/// `a // b`: division rounded toward negative infinity (integer division).
public func intDiv(_ a: Variable, _ b: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(FloorDivide(), [a, b], at: .resolve(fileID: fileID, line: line))
}

/// The elementwise larger of `a` and `b`.
public func maximum(_ a: Variable, _ b: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Maximum(), [a, b], at: .resolve(fileID: fileID, line: line))
}

/// The elementwise smaller of `a` and `b`.
public func minimum(_ a: Variable, _ b: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Minimum(), [a, b], at: .resolve(fileID: fileID, line: line))
}
