import Glibc
import RealModule

/// Arithmetic on the numeric element types with NumPy's semantics: integers wrap on
/// overflow, integer division floors, remainders take the divisor's sign, division or
/// remainder by integer zero gives 0, and `maximum`/`minimum` propagate NaN.
public protocol NumericElement: Element, Comparable {
    /// The additive identity, 0.
    static var zero: Self { get }
    /// The multiplicative identity, 1.
    @inline(__always) static var one: Self { get }
    /// `a + b` (wrapping for integers).
    static func add(_ a: Self, _ b: Self) -> Self
    /// `a - b` (wrapping for integers).
    static func subtract(_ a: Self, _ b: Self) -> Self
    /// `a * b` (wrapping for integers).
    static func multiply(_ a: Self, _ b: Self) -> Self
    /// `a // b`: the quotient rounded toward negative infinity (0 for an integer `b` of 0).
    static func floorDivide(_ a: Self, _ b: Self) -> Self
    /// `a % b` with the sign of `b` (0 for an integer `b` of 0).
    static func remainder(_ a: Self, _ b: Self) -> Self
    /// `a` to the power `b`.
    static func power(_ a: Self, _ b: Self) -> Self
    /// The larger of `a` and `b` (NaN if either is NaN).
    static func maximum(_ a: Self, _ b: Self) -> Self
    /// The smaller of `a` and `b` (NaN if either is NaN).
    static func minimum(_ a: Self, _ b: Self) -> Self
    /// `-a` (wrapping for integers).
    static func negate(_ a: Self) -> Self
    /// The absolute value of `a`.
    static func absolute(_ a: Self) -> Self
    /// -1, 0 or 1 by the sign of `a` (a float zero or NaN is returned as it is).
    static func sign(_ a: Self) -> Self
}

extension NumericElement where Self: IntegerElement {
    @inline(__always) @inlinable public static var one: Self { 1 }
    @inline(__always) @inlinable public static func add(_ a: Self, _ b: Self) -> Self { a &+ b }
    @inline(__always) @inlinable public static func subtract(_ a: Self, _ b: Self) -> Self { a &- b }
    @inline(__always) @inlinable public static func multiply(_ a: Self, _ b: Self) -> Self { a &* b }
    @inline(__always) @inlinable public static func floorDivide(_ a: Self, _ b: Self) -> Self {
        if b == 0 { return 0 }
        if Self.isSigned, b == -1 { return 0 &- a }
        let (q, r) = a.quotientAndRemainder(dividingBy: b)
        return r != 0 && (r < 0) != (b < 0) ? q - 1 : q
    }
    @inline(__always) @inlinable public static func remainder(_ a: Self, _ b: Self) -> Self {
        if b == 0 || (Self.isSigned && b == -1) { return 0 }
        let r = a % b
        return r != 0 && (r < 0) != (b < 0) ? r &+ b : r
    }
    /// Integer power by repeated squaring, wrapping; a negative exponent gives 0 unless the
    /// base is 1 or -1.
    @inline(__always) @inlinable public static func power(_ a: Self, _ b: Self) -> Self {
        if b < 0 { return a == 1 ? 1 : (Self.isSigned && a == 0 &- 1) ? (b & 1 == 0 ? 1 : a) : 0 }
        var result: Self = 1, base = a, exponent = b
        while exponent > 0 {
            if exponent & 1 == 1 { result = result &* base }
            base = base &* base
            exponent >>= 1
        }
        return result
    }
    @inline(__always) @inlinable public static func maximum(_ a: Self, _ b: Self) -> Self { Swift.max(a, b) }
    @inline(__always) @inlinable public static func minimum(_ a: Self, _ b: Self) -> Self { Swift.min(a, b) }
    @inline(__always) @inlinable public static func negate(_ a: Self) -> Self { 0 &- a }
    @inline(__always) @inlinable public static func absolute(_ a: Self) -> Self { a < 0 ? 0 &- a : a }
    @inline(__always) @inlinable public static func sign(_ a: Self) -> Self { a > 0 ? 1 : (a < 0 ? 0 &- 1 : 0) }
}

/// `Int8` elements have NumPy's integer arithmetic.
extension Int8: NumericElement {}
/// `Int16` elements have NumPy's integer arithmetic.
extension Int16: NumericElement {}
/// `Int32` elements have NumPy's integer arithmetic.
extension Int32: NumericElement {}
/// `Int64` elements have NumPy's integer arithmetic.
extension Int64: NumericElement {}
/// `UInt8` elements have NumPy's integer arithmetic.
extension UInt8: NumericElement {}

extension NumericElement where Self: FloatElement {
    @inline(__always) @inlinable public static var one: Self { 1 }
    @inline(__always) @inlinable public static func add(_ a: Self, _ b: Self) -> Self { a + b }
    @inline(__always) @inlinable public static func subtract(_ a: Self, _ b: Self) -> Self { a - b }
    @inline(__always) @inlinable public static func multiply(_ a: Self, _ b: Self) -> Self { a * b }
    @inline(__always) @inlinable public static func floorDivide(_ a: Self, _ b: Self) -> Self { divideAndRemainder(a, b).quotient }
    @inline(__always) @inlinable public static func remainder(_ a: Self, _ b: Self) -> Self { divideAndRemainder(a, b).remainder }

    /// NumPy's `divmod` for floats: the remainder from `fmod` moved to the divisor's sign, and
    /// the quotient `(a - remainder) / b` snapped to the nearest integer (so `1 // 0.1` is 9,
    /// as `1 % 0.1` is nearly 0.1). Division by zero gives `a / b` and a NaN remainder.
    @inline(__always)
    @usableFromInline static func divideAndRemainder(_ a: Self, _ b: Self) -> (quotient: Self, remainder: Self) {
        var remainder = a.truncatingRemainder(dividingBy: b)
        if b == 0 { return (a / b, remainder) }
        var quotient = (a - remainder) / b
        if remainder != 0 {
            if (b < 0) != (remainder < 0) {
                remainder += b
                quotient -= 1
            }
        } else {
            remainder = Self(signOf: b, magnitudeOf: 0)
        }
        guard quotient != 0 else { return (Self(signOf: a / b, magnitudeOf: 0), remainder) }
        var floored = quotient.rounded(.down)
        if quotient - floored > 0.5 { floored += 1 }
        return (floored, remainder)
    }

    /// C's `pow`, with its special cases (`pow(x, 0) = 1` even for NaN, a negative base
    /// with an integral exponent).
    @inline(__always) @inlinable public static func power(_ a: Self, _ b: Self) -> Self { cPower(a, b) }
    @inline(__always) @inlinable public static func maximum(_ a: Self, _ b: Self) -> Self { a.isNaN || b.isNaN ? .nan : Swift.max(a, b) }
    @inline(__always) @inlinable public static func minimum(_ a: Self, _ b: Self) -> Self { a.isNaN || b.isNaN ? .nan : Swift.min(a, b) }
    @inline(__always) @inlinable public static func negate(_ a: Self) -> Self { -a }
    @inline(__always) @inlinable public static func absolute(_ a: Self) -> Self { Swift.abs(a) }
    @inline(__always) @inlinable public static func sign(_ a: Self) -> Self { a > 0 ? 1 : (a < 0 ? -1 : a) }
}

/// `Float` elements have NumPy's float arithmetic.
extension Float: NumericElement {}
/// `Double` elements have NumPy's float arithmetic.
extension Double: NumericElement {}
