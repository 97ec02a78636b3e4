import Glibc
import RealModule

/// A Swift type that can be an element of an ``NDArray``: `Bool`, `Int8`, `Int16`,
/// `Int32`, `Int64`, `UInt8`, `Float` or `Double`.
///
/// Conversions between element types follow C (and NumPy) casts: floats truncate toward
/// zero, integers wrap, anything nonzero is `true`. NaN and infinities become the smallest
/// integer, as on x86.
public protocol Element: Sendable, Equatable {
    /// The dtype this Swift type stores.
    static var dtype: DType { get }
    /// The value as a `Double` (exact for every type but large 64-bit integers).
    var doubleValue: Double { get }
    /// The value as an `Int64` (truncated for floats).
    var int64Value: Int64 { get }
    /// Converts a `Double` as a C cast would (NaN and infinities become the smallest
    /// integer, as on x86).
    init(doubleValue: Double)
    /// Converts an `Int64` as a C cast would (integers wrap).
    init(int64Value: Int64)
    /// `a < b` (IEEE for floats: false when either is NaN; `false < true`).
    static func less(_ a: Self, _ b: Self) -> Bool
    /// `a <= b` (IEEE for floats).
    static func lessOrEqual(_ a: Self, _ b: Self) -> Bool
}

extension Element where Self: Comparable {
    @inline(__always) @inlinable public static func less(_ a: Self, _ b: Self) -> Bool { a < b }
    @inline(__always) @inlinable public static func lessOrEqual(_ a: Self, _ b: Self) -> Bool { a <= b }
}

extension Element {
    /// Converts `value` as a C cast would.
    @inline(__always) @inlinable public init<Source: Element>(converting value: Source) {
        // Integers convert directly (rounding once), not through Double.
        if Source.dtype.isFloat {
            self.init(doubleValue: value.doubleValue)
        } else {
            self.init(int64Value: value.int64Value)
        }
    }
}

/// `Bool` is the element type of `bool` arrays.
extension Bool: Element {
    @inline(__always) @inlinable public static var dtype: DType { .bool }
    public var doubleValue: Double { self ? 1 : 0 }
    @inline(__always) @inlinable public var int64Value: Int64 { self ? 1 : 0 }
    public init(doubleValue: Double) { self = doubleValue != 0 }
    @inline(__always) @inlinable public init(int64Value: Int64) { self = int64Value != 0 }
    @inline(__always) @inlinable public static func less(_ a: Bool, _ b: Bool) -> Bool { !a && b }
    @inline(__always) @inlinable public static func lessOrEqual(_ a: Bool, _ b: Bool) -> Bool { !a || b }
}

/// An integer element type.
public protocol IntegerElement: Element, FixedWidthInteger {}

extension IntegerElement {
    @inline(__always) @inlinable public var doubleValue: Double { Double(self) }
    public var int64Value: Int64 { Int64(truncatingIfNeeded: self) }
    @inline(__always) @inlinable public init(int64Value: Int64) { self.init(truncatingIfNeeded: int64Value) }
    /// As x86 converts: 32- and 64-bit integers get their smallest value for NaN, infinities
    /// and values out of range; narrower ones take the low bits of the 32-bit conversion.
    @inline(__always) @inlinable public init(doubleValue: Double) {
        let wide = Self.bitWidth == 64 ? 0x1p63 : 0x1p31
        guard doubleValue.isFinite, doubleValue > -wide - 1, doubleValue < wide else {
            self = Self.bitWidth >= 32 ? Self.min : Self(truncatingIfNeeded: Int32.min)
            return
        }
        self.init(truncatingIfNeeded: Int64(doubleValue))
    }
}

/// `Int8` is the element type of `int8` arrays.
extension Int8: IntegerElement { public static var dtype: DType { .int8 } }
/// `Int16` is the element type of `int16` arrays.
extension Int16: IntegerElement { public static var dtype: DType { .int16 } }
/// `Int32` is the element type of `int32` arrays.
extension Int32: IntegerElement { public static var dtype: DType { .int32 } }
/// `Int64` is the element type of `int64` arrays.
extension Int64: IntegerElement { public static var dtype: DType { .int64 } }
/// `UInt8` is the element type of `uint8` arrays.
extension UInt8: IntegerElement { public static var dtype: DType { .uint8 } }

/// A floating-point element type: `Float` or `Double`.
public protocol FloatElement: Element, Real, BinaryFloatingPoint {
    /// C's `pow` (`powf` for `Float`).
    static func cPower(_ a: Self, _ b: Self) -> Self
}

extension FloatElement {
    @inline(__always) @inlinable public var int64Value: Int64 { Int64(doubleValue: doubleValue) }
    public init(int64Value: Int64) { self.init(int64Value) }
}

/// `Float` is the element type of `float32` arrays.
extension Float: FloatElement {
    @inline(__always) @inlinable public static var dtype: DType { .float32 }
    @inline(__always) @inlinable public static func cPower(_ a: Float, _ b: Float) -> Float { powf(a, b) }
    public var doubleValue: Double { Double(self) }
    @inline(__always) @inlinable public init(doubleValue: Double) { self.init(doubleValue) }
}

/// `Double` is the element type of `float64` arrays.
extension Double: FloatElement {
    @inline(__always) @inlinable public static var dtype: DType { .float64 }
    @inline(__always) @inlinable public static func cPower(_ a: Double, _ b: Double) -> Double { Glibc.pow(a, b) }
    public var doubleValue: Double { self }
    @inline(__always) @inlinable public init(doubleValue: Double) { self = doubleValue }
}
