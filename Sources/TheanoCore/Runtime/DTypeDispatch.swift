/// Generic code run once with the Swift element type of a dtype, so that loops are
/// specialized per dtype instead of dispatching per element.
///
/// Swift has no generic closures; a visitor is a small struct whose generic `visit` method
/// the `DType.visit…` switches call with the concrete type.
public protocol ElementVisitor {
    /// What the visit returns.
    associatedtype Result
    /// Runs the generic code with `T`, the Swift element type of the dtype visited.
    func visit<T: Element>(_: T.Type) -> Result
}

/// A visitor over the numeric (non-boolean) element types.
public protocol NumericVisitor {
    /// What the visit returns.
    associatedtype Result
    /// Runs the generic code with `T`, the Swift element type of the dtype visited.
    func visit<T: NumericElement>(_: T.Type) -> Result
}

/// A visitor over the floating-point element types.
public protocol FloatVisitor {
    /// What the visit returns.
    associatedtype Result
    /// Runs the generic code with `T`, the Swift element type of the dtype visited.
    func visit<T: FloatElement & NumericElement>(_: T.Type) -> Result
}

/// A visitor over the types with bitwise operations: booleans and integers.
public protocol BitwiseVisitor {
    /// What the visit returns.
    associatedtype Result
    /// Runs the generic code with `T`, the Swift element type of the dtype visited.
    func visit<T: BitwiseElement>(_: T.Type) -> Result
}

/// A visitor over unsigned integers of each element width, for code that only moves
/// elements around (copies, gathers, concatenation) and need not know what they mean.
public protocol LayoutVisitor {
    /// What the visit returns.
    associatedtype Result
    /// Runs the generic code with `T`, an unsigned integer type as wide as the elements.
    func visit<T>(_: T.Type) -> Result
}

extension DType {
    @inline(__always) @inlinable package func visit<V: ElementVisitor>(_ visitor: V) -> V.Result {
        switch self {
        case .bool: visitor.visit(Bool.self)
        case .int8: visitor.visit(Int8.self)
        case .int16: visitor.visit(Int16.self)
        case .int32: visitor.visit(Int32.self)
        case .int64: visitor.visit(Int64.self)
        case .uint8: visitor.visit(UInt8.self)
        case .float32: visitor.visit(Float.self)
        case .float64: visitor.visit(Double.self)
        }
    }

    /// `nil` for `bool`, which has no arithmetic.
    @inline(__always) @inlinable package func visitNumeric<V: NumericVisitor>(_ visitor: V) -> V.Result? {
        switch self {
        case .bool: nil
        case .int8: visitor.visit(Int8.self)
        case .int16: visitor.visit(Int16.self)
        case .int32: visitor.visit(Int32.self)
        case .int64: visitor.visit(Int64.self)
        case .uint8: visitor.visit(UInt8.self)
        case .float32: visitor.visit(Float.self)
        case .float64: visitor.visit(Double.self)
        }
    }

    /// `nil` for the non-float types.
    @inline(__always) @inlinable package func visitFloat<V: FloatVisitor>(_ visitor: V) -> V.Result? {
        switch self {
        case .float32: visitor.visit(Float.self)
        case .float64: visitor.visit(Double.self)
        default: nil
        }
    }

    /// `nil` for the float types.
    @inline(__always) @inlinable package func visitBitwise<V: BitwiseVisitor>(_ visitor: V) -> V.Result? {
        switch self {
        case .bool: visitor.visit(Bool.self)
        case .int8: visitor.visit(Int8.self)
        case .int16: visitor.visit(Int16.self)
        case .int32: visitor.visit(Int32.self)
        case .int64: visitor.visit(Int64.self)
        case .uint8: visitor.visit(UInt8.self)
        case .float32, .float64: nil
        }
    }

    @inline(__always) @inlinable package func visitLayout<V: LayoutVisitor>(_ visitor: V) -> V.Result {
        switch byteSize {
        case 1: visitor.visit(UInt8.self)
        case 2: visitor.visit(UInt16.self)
        case 4: visitor.visit(UInt32.self)
        default: visitor.visit(UInt64.self)
        }
    }
}
