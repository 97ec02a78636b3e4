import RealModule
import TheanoCore

// The kinds of scalar functions elementwise ops are made of. Each kind fixes which dtypes
// the op computes in and supplies the specialized loop; an op of a kind only defines its
// scalar function (and its gradient).

/// A function of one float: `exp`, `tanh`, `erf`, … Integer operands are cast to float
/// (`int8` → `float32`, `int32` → `float64`, as Theano).
public protocol UnaryFloatOp: ElementwiseOp {
    /// The scalar function: its value at `x`.
    func apply<T: FloatElement & NumericElement>(_ x: T) -> T
}

extension UnaryFloatOp {
    public func operandDTypes(_ given: [DType]) -> [DType] { [given[0].upgradedToFloat] }
    public func outputDType(_ operands: [DType]) throws -> DType { operands[0] }
    public func evaluate(_ operands: [NDArray], shape: [Int]) -> NDArray {
        operands[0].dtype.visitFloat(UnaryFloatLoop(op: self, x: operands[0]))!
    }
}

private struct UnaryFloatLoop<Op: UnaryFloatOp>: FloatVisitor {
    let op: Op, x: NDArray
    func visit<T: FloatElement & NumericElement>(_: T.Type) -> NDArray { map1(x) { (v: T) in op.apply(v) } }
}

/// A function of one number that keeps its dtype: `neg`, `abs`, `sign`, `sqr`. Booleans are
/// cast to `int8` (`neg` rejects them instead).
public protocol UnaryNumericOp: ElementwiseOp {
    /// The scalar function: its value at `x`.
    func apply<T: NumericElement>(_ x: T) -> T
}

extension UnaryNumericOp {
    public func operandDTypes(_ given: [DType]) -> [DType] { [given[0] == .bool ? .int8 : given[0]] }
    public func outputDType(_ operands: [DType]) throws -> DType { operands[0] }
    public func evaluate(_ operands: [NDArray], shape: [Int]) -> NDArray {
        operands[0].dtype.visitNumeric(UnaryNumericLoop(op: self, x: operands[0]))!
    }
}

private struct UnaryNumericLoop<Op: UnaryNumericOp>: NumericVisitor {
    let op: Op, x: NDArray
    func visit<T: NumericElement>(_: T.Type) -> NDArray { map1(x) { (v: T) in op.apply(v) } }
}

/// A function of two numbers of the promoted dtype: `+`, `*`, `maximum`, … Booleans are
/// cast to `int8`.
public protocol BinaryNumericOp: ElementwiseOp {
    /// The scalar function: its value at `a` and `b`.
    func apply<T: NumericElement>(_ a: T, _ b: T) -> T
}

extension BinaryNumericOp {
    public func operandDTypes(_ given: [DType]) -> [DType] {
        let common = DType.promote(given)
        return [DType](repeating: common == .bool ? .int8 : common, count: 2)
    }
    public func outputDType(_ operands: [DType]) throws -> DType { operands[0] }
    public func evaluate(_ operands: [NDArray], shape: [Int]) -> NDArray {
        operands[0].dtype.visitNumeric(BinaryNumericLoop(op: self, a: operands[0], b: operands[1], shape: shape))!
    }
}

private struct BinaryNumericLoop<Op: BinaryNumericOp>: NumericVisitor {
    let op: Op, a: NDArray, b: NDArray, shape: [Int]
    func visit<T: NumericElement>(_: T.Type) -> NDArray { map2(a, b, shape: shape) { (x: T, y: T) in op.apply(x, y) } }
}

/// A function of two floats: true division, `arctan2`. Integers are cast to float.
public protocol BinaryFloatOp: ElementwiseOp {
    /// The scalar function: its value at `a` and `b`.
    func apply<T: FloatElement & NumericElement>(_ a: T, _ b: T) -> T
}

extension BinaryFloatOp {
    public func operandDTypes(_ given: [DType]) -> [DType] {
        [DType](repeating: DType.promote(given).upgradedToFloat, count: 2)
    }
    public func outputDType(_ operands: [DType]) throws -> DType { operands[0] }
    public func evaluate(_ operands: [NDArray], shape: [Int]) -> NDArray {
        operands[0].dtype.visitFloat(BinaryFloatLoop(op: self, a: operands[0], b: operands[1], shape: shape))!
    }
}

private struct BinaryFloatLoop<Op: BinaryFloatOp>: FloatVisitor {
    let op: Op, a: NDArray, b: NDArray, shape: [Int]
    func visit<T: FloatElement & NumericElement>(_: T.Type) -> NDArray {
        map2(a, b, shape: shape) { (x: T, y: T) in op.apply(x, y) }
    }
}

/// A comparison of two values of the promoted dtype, giving `bool`. No gradient flows.
public protocol ComparisonOp: ElementwiseOp {
    /// Whether the comparison holds between `a` and `b`.
    func compare<T: Element>(_ a: T, _ b: T) -> Bool
    /// The C operator computing the same comparison (IEEE for floats, as Swift).
    var cOperator: String { get }
}

extension ComparisonOp {
    public func operandDTypes(_ given: [DType]) -> [DType] { [DType](repeating: DType.promote(given), count: 2) }
    public func outputDType(_ operands: [DType]) throws -> DType { .bool }
    public func evaluate(_ operands: [NDArray], shape: [Int]) -> NDArray {
        operands[0].dtype.visit(ComparisonLoop(op: self, a: operands[0], b: operands[1], shape: shape))
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient: Variable) throws -> [Variable?] { [nil, nil] }
}

extension ComparisonOp where Self: CElementwiseOp {
    /// `a op b` with the C operator of the comparison.
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        .binary(operands[0], cOperator, operands[1], type: .bool)
    }
}

private struct ComparisonLoop<Op: ComparisonOp>: ElementVisitor {
    let op: Op, a: NDArray, b: NDArray, shape: [Int]
    func visit<T: Element>(_: T.Type) -> NDArray { map2(a, b, shape: shape) { (x: T, y: T) in op.compare(x, y) } }
}

/// A test of one float giving `bool` (`isnan`, `isinf`). No gradient flows.
public protocol FloatPredicateOp: ElementwiseOp {
    /// Whether `x` passes the test.
    func test<T: FloatElement>(_ x: T) -> Bool
}

extension FloatPredicateOp {
    public func operandDTypes(_ given: [DType]) -> [DType] { [given[0].upgradedToFloat] }
    public func outputDType(_ operands: [DType]) throws -> DType { .bool }
    public func evaluate(_ operands: [NDArray], shape: [Int]) -> NDArray {
        operands[0].dtype.visitFloat(FloatPredicateLoop(op: self, x: operands[0]))!
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient: Variable) throws -> [Variable?] { [nil] }
}

private struct FloatPredicateLoop<Op: FloatPredicateOp>: FloatVisitor {
    let op: Op, x: NDArray
    func visit<T: FloatElement & NumericElement>(_: T.Type) -> NDArray { map1(x) { (v: T) in op.test(v) } }
}

/// A bitwise function (`and`, `or`, `xor`, `invert`: NumPy's `bitwise_and`, …, Theano's
/// `and_`, …): bit by bit on integers (two's complement), which on booleans is the logical
/// function. Operands are promoted to their common dtype (`bool` with `int8` is `int8`);
/// floats are rejected, as by NumPy — compare them first (`gt(x, 0)`). No gradient flows.
public protocol BitwiseOp: ElementwiseOp {}

extension BitwiseOp {
    public func operandDTypes(_ given: [DType]) -> [DType] { [DType](repeating: DType.promote(given), count: given.count) }
    public func outputDType(_ operands: [DType]) throws -> DType {
        guard !operands[0].isFloat else {
            throw OpError("takes integer or boolean operands (bitwise on integers, logical on booleans), not \(operands[0]); "
                + "compare floats first (gt(x, 0), neq(x, 0))")
        }
        return operands[0]
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient: Variable) throws -> [Variable?] {
        operands.map { _ in nil }
    }
}
