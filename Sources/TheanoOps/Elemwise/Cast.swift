import TheanoCore

/// Conversion of every element to another dtype, as a C cast: floats truncate toward zero,
/// integers wrap, nonzero is `true`.
public struct Cast: ElementwiseOp, CElementwiseOp {
    /// The dtype converted to.
    public let dtype: DType

    package init(dtype: DType) {
        self.dtype = dtype
    }
    public var description: String { "cast{\(dtype)}" }

    /// A C cast (to `bool`: nonzero is true).
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        output == .bool ? .binary(operands[0], "!=", .zero(operands[0].type), type: .bool) : operands[0].cast(to: output)
    }

    public func operandDTypes(_ given: [DType]) -> [DType] { given }
    public func outputDType(_ operands: [DType]) throws -> DType { dtype }
    public func evaluate(_ operands: [NDArray], shape: [Int]) -> NDArray { operands[0].cast(to: dtype).contiguous() }

    /// Gradients flow between float types only.
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        [dtype.isFloat && operands[0].dtype.isFloat ? g : nil]
    }
}

/// `x` converted to `dtype` (itself when it already has that dtype).
public func cast(_ x: Variable, to dtype: DType, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try cast(x, to: dtype, at: .resolve(fileID: fileID, line: line))
}

package func cast(_ x: Variable, to dtype: DType, at location: SourceLocation) throws -> Variable {
    x.dtype == dtype ? x : try Cast(dtype: dtype)([x], at: location)
}
