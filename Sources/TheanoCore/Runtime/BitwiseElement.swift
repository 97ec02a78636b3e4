/// The element types with bitwise operations: the integers, bit by bit in two's complement,
/// and `Bool`, whose single bit makes them the logical operations (NumPy's `bitwise_and`,
/// `bitwise_or`, `bitwise_xor` and `invert`).
public protocol BitwiseElement: Element {
    /// `a & b`: and, bit by bit.
    static func bitwiseAnd(_ a: Self, _ b: Self) -> Self
    /// `a | b`: or, bit by bit.
    static func bitwiseOr(_ a: Self, _ b: Self) -> Self
    /// `a ^ b`: exclusive or, bit by bit.
    static func bitwiseXor(_ a: Self, _ b: Self) -> Self
    /// `~a`: every bit inverted.
    static func bitwiseNot(_ a: Self) -> Self
}

extension BitwiseElement where Self: IntegerElement {
    @inline(__always) @inlinable public static func bitwiseAnd(_ a: Self, _ b: Self) -> Self { a & b }
    @inline(__always) @inlinable public static func bitwiseOr(_ a: Self, _ b: Self) -> Self { a | b }
    @inline(__always) @inlinable public static func bitwiseXor(_ a: Self, _ b: Self) -> Self { a ^ b }
    @inline(__always) @inlinable public static func bitwiseNot(_ a: Self) -> Self { ~a }
}

/// `Int8` elements have bitwise operations.
extension Int8: BitwiseElement {}
/// `Int16` elements have bitwise operations.
extension Int16: BitwiseElement {}
/// `Int32` elements have bitwise operations.
extension Int32: BitwiseElement {}
/// `Int64` elements have bitwise operations.
extension Int64: BitwiseElement {}
/// `UInt8` elements have bitwise operations.
extension UInt8: BitwiseElement {}

/// `Bool` elements have bitwise operations, which are the logical ones.
extension Bool: BitwiseElement {
    @inline(__always) @inlinable public static func bitwiseAnd(_ a: Bool, _ b: Bool) -> Bool { a && b }
    @inline(__always) @inlinable public static func bitwiseOr(_ a: Bool, _ b: Bool) -> Bool { a || b }
    @inline(__always) @inlinable public static func bitwiseXor(_ a: Bool, _ b: Bool) -> Bool { a != b }
    @inline(__always) @inlinable public static func bitwiseNot(_ a: Bool) -> Bool { !a }
}
