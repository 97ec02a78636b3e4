/// The element types with bitwise operations: the integers, bit by bit in two's complement,
/// and `Bool`, whose single bit makes them the logical operations (NumPy's `bitwise_and`,
/// `bitwise_or`, `bitwise_xor` and `invert`).
public protocol BitwiseElement: Element {
    static func bitwiseAnd(_ a: Self, _ b: Self) -> Self
    static func bitwiseOr(_ a: Self, _ b: Self) -> Self
    static func bitwiseXor(_ a: Self, _ b: Self) -> Self
    static func bitwiseNot(_ a: Self) -> Self
}

extension BitwiseElement where Self: IntegerElement {
    @inline(__always) @inlinable public static func bitwiseAnd(_ a: Self, _ b: Self) -> Self { a & b }
    @inline(__always) @inlinable public static func bitwiseOr(_ a: Self, _ b: Self) -> Self { a | b }
    @inline(__always) @inlinable public static func bitwiseXor(_ a: Self, _ b: Self) -> Self { a ^ b }
    @inline(__always) @inlinable public static func bitwiseNot(_ a: Self) -> Self { ~a }
}

extension Int8: BitwiseElement {}
extension Int16: BitwiseElement {}
extension Int32: BitwiseElement {}
extension Int64: BitwiseElement {}
extension UInt8: BitwiseElement {}

extension Bool: BitwiseElement {
    @inline(__always) @inlinable public static func bitwiseAnd(_ a: Bool, _ b: Bool) -> Bool { a && b }
    @inline(__always) @inlinable public static func bitwiseOr(_ a: Bool, _ b: Bool) -> Bool { a || b }
    @inline(__always) @inlinable public static func bitwiseXor(_ a: Bool, _ b: Bool) -> Bool { a != b }
    @inline(__always) @inlinable public static func bitwiseNot(_ a: Bool) -> Bool { !a }
}
