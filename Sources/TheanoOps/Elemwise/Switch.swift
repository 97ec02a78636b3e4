import TheanoCore

/// `condition ? a : b`, elementwise (NumPy's `where`). Both branches are computed; for a
/// branch that must not run, use `ifelse`.
public struct Switch: ElementwiseOp, CElementwiseOp {
    package init() {}

    public var description: String { "switch" }

    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        .select(operands[0], operands[1], operands[2])
    }

    public func operandDTypes(_ given: [DType]) -> [DType] {
        let common = DType.promote(given[1], given[2])
        return [.bool, common, common]
    }
    public func outputDType(_ operands: [DType]) throws -> DType { operands[1] }

    public func evaluate(_ operands: [NDArray], shape: [Int]) -> NDArray {
        struct Loop: ElementVisitor {
            package let operands: [NDArray], shape: [Int]
            package func visit<T: Element>(_: T.Type) -> NDArray {
                map3(operands[0], operands[1], operands[2], shape: shape) { (c: Bool, a: T, b: T) in c ? a : b }
            }
        }
        return operands[1].dtype.visit(Loop(operands: operands, shape: shape))
    }

    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        let zero = try zerosLike(g)
        return [nil, try `switch`(operands[0], g, zero), try `switch`(operands[0], zero, g)]
    }
}

/// `condition ? a : b`, elementwise: NumPy's `where`, Theano's `switch`.
public func `switch`(_ condition: Variable, _ a: Variable, _ b: Variable,
                     fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Switch(), [condition, a, b], at: .resolve(fileID: fileID, line: line))
}

/// `condition ? a : b`, elementwise (the same as ``switch(_:_:_:fileID:line:)``).
public func `where`(_ condition: Variable, _ a: Variable, _ b: Variable,
                    fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Switch(), [condition, a, b], at: .resolve(fileID: fileID, line: line))
}

/// `x` limited to `[low, high]`, elementwise.
public struct Clip: ElementwiseOp, CElementwiseOp {
    package init() {}

    public var description: String { "clip" }

    /// `minimum(maximum(x, low), high)`, with their NaN propagation.
    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        guard let raised = Maximum().cExpression([operands[0], operands[1]], output: output) else { return nil }
        return Minimum().cExpression([raised, operands[2]], output: output)
    }

    public func operandDTypes(_ given: [DType]) -> [DType] {
        let common = DType.promote(given)
        return [DType](repeating: common == .bool ? .int8 : common, count: 3)
    }
    public func outputDType(_ operands: [DType]) throws -> DType { operands[0] }

    public func evaluate(_ operands: [NDArray], shape: [Int]) -> NDArray {
        struct Loop: NumericVisitor {
            package let operands: [NDArray], shape: [Int]
            package func visit<T: NumericElement>(_: T.Type) -> NDArray {
                map3(operands[0], operands[1], operands[2], shape: shape) { (x: T, low: T, high: T) in
                    T.minimum(T.maximum(x, low), high)
                }
            }
        }
        return operands[0].dtype.visitNumeric(Loop(operands: operands, shape: shape))!
    }

    /// The gradient of `minimum(maximum(x, low), high)`, which is the value, with their rules
    /// for ties: it flows to `x` inside the bounds (on them too), else to the bound in force —
    /// to `high` wherever `low > high`, since the value is then `high`.
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        let (x, low, high) = (operands[0], operands[1], operands[2])
        let lowered = try Minimum.route(g, maximum(x, low), high)
        let raised = try Maximum.route(lowered.a, x, low)
        return [raised.a, raised.b, lowered.b]
    }
}

/// `x` limited to `[low, high]`, elementwise.
public func clip(_ x: Variable, _ low: Variable, _ high: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Clip(), [x, low, high], at: .resolve(fileID: fileID, line: line))
}

/// `x` limited to `[low, high]`, elementwise.
public func clip(_ x: Variable, _ low: some ScalarLiteral, _ high: some ScalarLiteral, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    return try elementwise(Clip(), [x, literal(low, beside: x, at: location), literal(high, beside: x, at: location)], at: location)
}

extension Variable {
    /// `self` where `condition` holds, 0 elsewhere: how a gradient is routed to one side of
    /// a choice. Not `self * condition`, which is NaN where `self` is infinite and the
    /// condition false.
    package func kept(where condition: Variable) throws -> Variable {
        try `switch`(condition, self, constant(0, dtype: dtype))
    }
}
