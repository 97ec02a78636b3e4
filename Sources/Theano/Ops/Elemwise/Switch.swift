/// `condition ? a : b`, elementwise (NumPy's `where`). Both branches are computed; for a
/// branch that must not run, use `ifelse`.
public struct Switch: ElementwiseOp, CElementwiseOp {
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
            let operands: [NDArray], shape: [Int]
            func visit<T: Element>(_: T.Type) -> NDArray {
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
            let operands: [NDArray], shape: [Int]
            func visit<T: NumericElement>(_: T.Type) -> NDArray {
                map3(operands[0], operands[1], operands[2], shape: shape) { (x: T, low: T, high: T) in
                    T.minimum(T.maximum(x, low), high)
                }
            }
        }
        return operands[0].dtype.visitNumeric(Loop(operands: operands, shape: shape))!
    }

    /// The gradient flows to `x` where it lies inside the bounds, else to the bound in force.
    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        let (x, low, high) = (operands[0], operands[1], operands[2])
        let inside = try and(ge(x, low), le(x, high))
        return [try g * inside, try g * lt(x, low), try g * gt(x, high)]
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
