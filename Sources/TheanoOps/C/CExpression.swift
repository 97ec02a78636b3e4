import TheanoCore

/// A C type of generated kernels.
public enum CType: String, Sendable {
    /// `unsigned char`, holding a `bool` element as 0 or 1.
    case bool = "unsigned char"
    /// The fixed-width integer types of `<stdint.h>`.
    case int8 = "int8_t", int16 = "int16_t", int32 = "int32_t", int64 = "int64_t", uint8 = "uint8_t"
    /// C's `float` and `double`.
    case float, double

    package var isFloat: Bool { self == .float || self == .double }
}

extension DType {
    /// The C type holding one element.
    public var cType: CType {
        switch self {
        case .bool: .bool
        case .int8: .int8
        case .int16: .int16
        case .int32: .int32
        case .int64: .int64
        case .uint8: .uint8
        case .float32: .float
        case .float64: .double
        }
    }
}

/// A typed C expression: kernels are assembled from these, never from ad-hoc strings, so
/// every operand carries its type and every math call names its float or double variant.
public struct CExpression: Sendable {
    /// The C text, parenthesized where precedence needs it.
    public let text: String
    /// The C type of its value.
    public let type: CType

    package init(_ text: String, _ type: CType) {
        self.text = text
        self.type = type
    }

    /// A variable or parameter.
    public static func name(_ name: String, _ type: CType) -> CExpression { CExpression(name, type) }

    /// A literal of `type`, written so C reads it exactly (hexadecimal floats).
    public static func literal(_ value: Double, _ type: CType) -> CExpression {
        switch type {
        case .float, .double:
            if value.isNaN { return CExpression(type == .float ? "NAN" : "(double)NAN", type) }
            if value.isInfinite { return CExpression(value < 0 ? "(-(\(type.rawValue))INFINITY)" : "((\(type.rawValue))INFINITY)", type) }
            let hex = value.hexadecimalLiteral + (type == .float ? "f" : "")
            return CExpression("((\(type.rawValue))\(hex))", type)
        default:
            return CExpression("((\(type.rawValue))\(Int64(value)))", type)
        }
    }

    /// A call of the math function `name` in the variant for `type` (`expf` for float).
    public static func math(_ name: String, _ arguments: CExpression..., type: CType) -> CExpression {
        let function = type == .float ? name + "f" : name
        return CExpression("\(function)(\(arguments.map(\.text).joined(separator: ", ")))", type)
    }

    /// A call of a helper function of the module's prelude.
    public static func helper(_ name: String, _ arguments: [CExpression], type: CType) -> CExpression {
        CExpression("\(name)(\(arguments.map(\.text).joined(separator: ", ")))", type)
    }

    /// `a op b` of type `type` (for comparisons, `bool`).
    public static func binary(_ a: CExpression, _ op: String, _ b: CExpression, type: CType? = nil) -> CExpression {
        CExpression("(\(a.text) \(op) \(b.text))", type ?? a.type)
    }

    /// `op a`.
    public static func prefix(_ op: String, _ a: CExpression) -> CExpression { CExpression("(\(op)\(a.text))", a.type) }

    /// `c ? a : b`.
    public static func select(_ c: CExpression, _ a: CExpression, _ b: CExpression) -> CExpression {
        CExpression("(\(c.text) ? \(a.text) : \(b.text))", a.type)
    }

    /// The expression converted to `type`.
    /// A truth value becomes a float as a selection of 1 or 0, which compilers vectorize
    /// (a conversion from `unsigned char` they leave scalar).
    public func cast(to type: CType) -> CExpression {
        if self.type == type { return self }
        if self.type == .bool, type.isFloat {
            return .select(self, .literal(1, type), .literal(0, type))
        }
        return CExpression("((\(type.rawValue))\(text))", type)
    }
}

extension Double {
    /// C's hexadecimal floating literal: exact for every finite double.
    var hexadecimalLiteral: String {
        if self == 0 { return sign == .minus ? "-0x0p+0" : "0x0p+0" }
        let magnitude = Swift.abs(self)
        let exponent = magnitude.exponent
        let significand = magnitude.significandBitPattern
        let isNormal = magnitude.isNormal
        let lead = isNormal ? "1" : "0"
        let digits = String(significand, radix: 16)
        let padded = String(repeating: "0", count: 13 - digits.count) + digits
        return (sign == .minus ? "-" : "") + "0x\(lead).\(padded)p\(isNormal ? exponent : -1022)"
    }
}

extension CType {
    /// The suffix of the prelude's helpers for this type (`theano_mod_i32`).
    var helperSuffix: String {
        switch self {
        case .bool: "b"
        case .int8: "i8"
        case .int16: "i16"
        case .int32: "i32"
        case .int64: "i64"
        case .uint8: "u8"
        case .float: "f32"
        case .double: "f64"
        }
    }
}
