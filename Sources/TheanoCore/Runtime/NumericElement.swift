import Glibc
import RealModule

/// Arithmetic on the numeric element types with NumPy's semantics: integers wrap on
/// overflow, integer division floors, remainders take the divisor's sign, division or
/// remainder by integer zero gives 0, and `maximum`/`minimum` propagate NaN.
public protocol NumericElement: Element, Comparable {
    static var zero: Self { get }
    @inline(__always) static var one: Self { get }
    static func add(_ a: Self, _ b: Self) -> Self
    static func subtract(_ a: Self, _ b: Self) -> Self
    static func multiply(_ a: Self, _ b: Self) -> Self
    static func floorDivide(_ a: Self, _ b: Self) -> Self
    static func remainder(_ a: Self, _ b: Self) -> Self
    static func power(_ a: Self, _ b: Self) -> Self
    static func maximum(_ a: Self, _ b: Self) -> Self
    static func minimum(_ a: Self, _ b: Self) -> Self
    static func negate(_ a: Self) -> Self
    static func absolute(_ a: Self) -> Self
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

extension Int8: NumericElement {}
extension Int16: NumericElement {}
extension Int32: NumericElement {}
extension Int64: NumericElement {}
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
    @usableFromInline package static func divideAndRemainder(_ a: Self, _ b: Self) -> (quotient: Self, remainder: Self) {
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

extension Float: NumericElement {}
extension Double: NumericElement {}
