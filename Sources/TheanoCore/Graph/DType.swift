/// The element type of a tensor.
///
/// Type promotion follows NumPy: mixing two dtypes gives the smallest dtype that can hold
/// every value of both (`int8 ∘ uint8 → int16`, `int32 ∘ float32 → float64`).
public enum DType: String, CaseIterable, Sendable, CustomStringConvertible {
    /// A dtype, named as NumPy names it: booleans, signed integers of 8 to 64 bits, unsigned
    /// 8-bit integers, and 32- and 64-bit floats.
    case bool, int8, int16, int32, int64, uint8, float32, float64

    /// The float type used when none is named: `float32`, as Theano's `floatX`.
    public static let defaultFloat = DType.float32

    public var description: String { rawValue }

    /// Whether it is `float32` or `float64`.
    public var isFloat: Bool { self == .float32 || self == .float64 }
    /// Whether it is an integer type, signed or not (`bool` is not).
    public var isInteger: Bool { !isFloat && self != .bool }
    /// Whether it holds negative values: every type but `bool` and `uint8`.
    public var isSigned: Bool { self != .bool && self != .uint8 }

    /// Size of one element in bytes.
    public var byteSize: Int {
        switch self {
        case .bool, .int8, .uint8: 1
        case .int16: 2
        case .int32, .float32: 4
        case .int64, .float64: 8
        }
    }

    /// The float type that represents this type's values without gross loss, as Theano's
    /// `upgrade_to_float`: small integers go to `float32`, 32/64-bit integers to `float64`.
    public var upgradedToFloat: DType {
        switch self {
        case .float32, .float64: self
        case .bool, .int8, .uint8, .int16: .float32
        case .int32, .int64: .float64
        }
    }

    /// The NumPy result type of combining `a` and `b`.
    public static func promote(_ a: DType, _ b: DType) -> DType {
        if a == b { return a }
        if a == .bool { return b }
        if b == .bool { return a }
        if a.isFloat || b.isFloat {
            let float: DType = a.isFloat && b.isFloat ? .float64 : (a.isFloat ? a : b)
            let other = a.isFloat ? b : a
            if other.isFloat { return .float64 }
            // An integer of more than 16 bits does not fit float32's mantissa.
            return float == .float32 && other.byteSize >= 4 ? .float64 : float
        }
        // Both integers.
        if a.isSigned == b.isSigned { return a.byteSize >= b.byteSize ? a : b }
        let (signed, unsigned) = a.isSigned ? (a, b) : (b, a)
        if signed.byteSize > unsigned.byteSize { return signed }
        switch unsigned.byteSize {
        case 1: return .int16
        default: return .float64
        }
    }

    /// The NumPy result type of combining all of `dtypes`.
    public static func promote(_ dtypes: [DType]) -> DType {
        dtypes.dropFirst().reduce(dtypes[0], promote)
    }
}
