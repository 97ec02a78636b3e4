import TheanoCore

/// `a & b`, `a | b` or `a ^ b`, elementwise: bitwise on integers, logical on booleans (NumPy's
/// `bitwise_and`, `bitwise_or`, `bitwise_xor`; Theano's `and_`, `or_`, `xor`).
public struct BitwiseBinary: BitwiseOp, CElementwiseOp {
    /// Which function of two bits.
    public enum Connective: String, Sendable {
        /// Bitwise and (logical and for booleans).
        case and
        /// Bitwise or (logical or for booleans).
        case or
        /// Bitwise exclusive or (logical exclusive or for booleans).
        case xor
    }
    /// The function this op computes.
    public let connective: Connective

    package init(connective: Connective) {
        self.connective = connective
    }
    public var isCommutative: Bool { true }
    public var description: String { connective.rawValue }

    /// C's `&`, `|` or `^`: on booleans (0 or 1) these are the logical functions, and on
    /// integers their result fits the operands' type.
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let symbol = switch connective {
        case .and: "&"
        case .or: "|"
        case .xor: "^"
        }
        return .binary(operands[0], symbol, operands[1], type: output)
    }

    public func evaluate(_ operands: [NDArray], shape: [Int]) -> NDArray {
        struct Loop: BitwiseVisitor {
            let connective: Connective, a: NDArray, b: NDArray, shape: [Int]
            package func visit<T: BitwiseElement>(_: T.Type) -> NDArray {
                switch connective {
                case .and: map2(a, b, shape: shape, T.bitwiseAnd)
                case .or: map2(a, b, shape: shape, T.bitwiseOr)
                case .xor: map2(a, b, shape: shape, T.bitwiseXor)
                }
            }
        }
        return operands[0].dtype.visitBitwise(Loop(connective: connective, a: operands[0], b: operands[1], shape: shape))!
    }
}

/// `~a`, elementwise: every bit flipped on integers (`~x == -x - 1` in two's complement),
/// logical negation on booleans (NumPy's `invert`, Theano's `invert`).
public struct Invert: BitwiseOp, CElementwiseOp {
    package init() {}

    public var description: String { "invert" }

    /// `!a` on booleans; `~a` on integers, computed in `int64` and converted back, because C
    /// widens narrower integers to `int` first and `~` would set the bits above their width.
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        let a = operands[0]
        return output == .bool ? .prefix("!", a) : .prefix("~", a.cast(to: .int64)).cast(to: output)
    }

    public func evaluate(_ operands: [NDArray], shape: [Int]) -> NDArray {
        struct Loop: BitwiseVisitor {
            package let a: NDArray
            package func visit<T: BitwiseElement>(_: T.Type) -> NDArray { map1(a, T.bitwiseNot) }
        }
        return operands[0].dtype.visitBitwise(Loop(a: operands[0]))!
    }
}

/// `a & b`, elementwise: bitwise and of integers, logical and of booleans (NumPy's
/// `bitwise_and`, and its `&`). Operands are promoted to their common dtype; floats are an
/// error (compare them first: `and(gt(x, 0), lt(x, 1))`).
public func and(_ a: Variable, _ b: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(BitwiseBinary(connective: .and), [a, b], at: .resolve(fileID: fileID, line: line))
}

/// `a | b`, elementwise: bitwise or of integers, logical or of booleans (NumPy's `bitwise_or`).
/// Floats are an error.
public func or(_ a: Variable, _ b: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(BitwiseBinary(connective: .or), [a, b], at: .resolve(fileID: fileID, line: line))
}

/// `a ^ b`, elementwise: bitwise exclusive or of integers, logical exclusive or of booleans
/// (NumPy's `bitwise_xor`). Floats are an error.
public func xor(_ a: Variable, _ b: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(BitwiseBinary(connective: .xor), [a, b], at: .resolve(fileID: fileID, line: line))
}

/// `~a`, elementwise: every bit of an integer flipped, a boolean negated (NumPy's `invert`,
/// and its `~`). Floats are an error (`eq(x, 0)` is a float's logical negation).
public func not(_ a: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Invert(), [a], at: .resolve(fileID: fileID, line: line))
}

extension Variable {
    /// Bitwise and of integers, logical and of booleans: the same as ``and(_:_:fileID:line:)``.
    public static func & (lhs: Variable, rhs: Variable) throws -> Variable {
        try elementwise(BitwiseBinary(connective: .and), [lhs, rhs], at: .operatorCaller())
    }

    /// Bitwise or of integers, logical or of booleans: the same as ``or(_:_:fileID:line:)``.
    public static func | (lhs: Variable, rhs: Variable) throws -> Variable {
        try elementwise(BitwiseBinary(connective: .or), [lhs, rhs], at: .operatorCaller())
    }

    /// Bitwise exclusive or of integers, logical exclusive or of booleans: the same as
    /// ``xor(_:_:fileID:line:)``.
    public static func ^ (lhs: Variable, rhs: Variable) throws -> Variable {
        try elementwise(BitwiseBinary(connective: .xor), [lhs, rhs], at: .operatorCaller())
    }

    /// Every bit of an integer flipped, a boolean negated: the same as ``not(_:fileID:line:)``.
    public static prefix func ~ (operand: Variable) throws -> Variable {
        try elementwise(Invert(), [operand], at: .operatorCaller())
    }
}
