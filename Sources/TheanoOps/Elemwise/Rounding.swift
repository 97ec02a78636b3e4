import RealModule
import TheanoCore

/// |x|, elementwise.
public struct Absolute: UnaryNumericOp, CElementwiseOp {
    package init() {}

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
    package init() {}

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

/// The largest integer not above x, elementwise. No gradient flows. Integers are converted to
/// float first (`int8` → `float32`, `int32` → `float64`), as Theano's `floor`.
public struct Floor: UnaryFloatOp, CElementwiseOp {
    package init() {}

    public var description: String { "floor" }
    public func apply<T: FloatElement & NumericElement>(_ x: T) -> T { x.rounded(.down) }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? { .math("floor", operands[0], type: output) }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        [nil]
    }
}

/// The largest integer not above x, elementwise, as a float (integers are converted as
/// Theano's `floor` does: `int8` → `float32`, `int32` → `float64`). No gradient flows.
public func floor(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Floor(), [x], at: .resolve(fileID: fileID, line: line))
}

/// The smallest integer not below x, elementwise. No gradient flows. Integers are converted
/// to float first, as for ``Floor``.
public struct Ceil: UnaryFloatOp, CElementwiseOp {
    package init() {}

    public var description: String { "ceil" }
    public func apply<T: FloatElement & NumericElement>(_ x: T) -> T { x.rounded(.up) }
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? { .math("ceil", operands[0], type: output) }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        [nil]
    }
}

/// The smallest integer not below x, elementwise, as a float (integers are converted as
/// Theano's `ceil` does: `int8` → `float32`, `int32` → `float64`). No gradient flows.
public func ceil(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Ceil(), [x], at: .resolve(fileID: fileID, line: line))
}

/// x rounded to the nearest integer, elementwise; how halves go is the op's ``mode``. Only
/// floats are accepted: an integer tensor is already round (Theano's `round` rejects it
/// too), and rounding it is more likely a mistake than an intent. No gradient flows.
public struct Round: UnaryFloatOp, CElementwiseOp {
    /// Which way a value exactly halfway between two integers goes.
    public enum Mode: String, Hashable, Sendable {
        /// To the even neighbour: `0.5 → 0`, `1.5 → 2`, `2.5 → 2` (NumPy's `round`, C's `rint`).
        case halfToEven = "half_to_even"
        /// Away from zero: `0.5 → 1`, `2.5 → 3`, `-2.5 → -3` (C's `round`).
        case halfAwayFromZero = "half_away_from_zero"
    }

    /// How halves are rounded.
    public let mode: Mode

    package init(mode: Mode) {
        self.mode = mode
    }
    public var description: String { mode == .halfToEven ? "round" : "round{\(mode.rawValue)}" }

    /// The operand as given: no conversion makes an integer a valid operand.
    public func operandDTypes(_ given: [DType]) -> [DType] { given }
    public func outputDType(_ operands: [DType]) throws -> DType {
        guard operands[0].isFloat else {
            throw OpError("rounds floats only, not \(operands[0]) (integers are already round; cast to a float type first if that is meant)")
        }
        return operands[0]
    }
    public func apply<T: FloatElement & NumericElement>(_ x: T) -> T {
        x.rounded(mode == .halfToEven ? .toNearestOrEven : .toNearestOrAwayFromZero)
    }
    /// `rint` rounds half to even under C's default rounding mode, which the kernels never change.
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        .math(mode == .halfToEven ? "rint" : "round", operands[0], type: output)
    }
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        [nil]
    }
}

/// x rounded to the nearest integer, elementwise: halves to even by default (as NumPy's
/// `round`), or away from zero with `mode: .halfAwayFromZero`. `x` must be a float tensor.
/// No gradient flows.
public func round(_ x: Variable, mode: Round.Mode = .halfToEven, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Round(mode: mode), [x], at: .resolve(fileID: fileID, line: line))
}
