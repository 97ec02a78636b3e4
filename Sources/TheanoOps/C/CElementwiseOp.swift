import TheanoCore

/// The C facet of an elementwise op: its scalar function as a C expression, which the
/// native backend inlines into fused loops.
public protocol CElementwiseOp: ElementwiseOp {
    /// The scalar function applied to `operands` (already of the op's operand types),
    /// giving a value of `output`; `nil` when C cannot express it for these types.
    func cExpression(_ operands: [CExpression], output: CType) -> CExpression?
}

extension CExpression {
    /// One of `a`'s type.
    package static func one(_ type: CType) -> CExpression { .literal(1, type) }
    /// Zero of `type`.
    package static func zero(_ type: CType) -> CExpression { .literal(0, type) }
}
