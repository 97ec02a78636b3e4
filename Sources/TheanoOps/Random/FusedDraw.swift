import TheanoCore

/// A draw and the elementwise work that consumes it, as one op: `x * (u < p) / p` in one
/// loop that makes each `u` and uses it at once, never storing the draw. Made by the
/// optimizer's `draw_fusion` rule from a ``RandomDraw`` read only by an elementwise node
/// whose other operands are single elements or tensors of the draw's shape.
///
/// Inputs: the draw's (the stream's state and the sizes), then the epilogue's operands
/// other than the draw. The values are those of the two nodes it replaces.
public struct FusedDraw: ShapeInferringOp {
    /// The draw.
    public let draw: RandomDraw
    /// The elementwise program applied to each drawn element.
    public let epilogue: Composite
    /// Which of the epilogue's inputs is the draw.
    public let drawOperand: Int
    /// The epilogue's inputs that are single elements (the others have the draw's shape).
    public let singleOperands: Set<Int>

    package init(draw: RandomDraw, epilogue: Composite, drawOperand: Int, singleOperands: Set<Int>) {
        (self.draw, self.epilogue, self.drawOperand, self.singleOperands) = (draw, epilogue, drawOperand, singleOperands)
    }

    public var description: String { "fused{\(draw), \(epilogue)}" }

    /// The number of inputs the draw takes (the state and one size per dimension).
    private var drawInputCount: Int { draw.staticShape.count + 1 }

    /// The epilogue's inputs: the drawn values at ``drawOperand``, `operands` around it.
    private func epilogueInputs<T>(_ drawn: T, _ operands: some Sequence<T>) -> [T] {
        var inputs = Array(operands)
        inputs.insert(drawn, at: drawOperand)
        return inputs
    }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let drawn = try draw.outputTypes(Array(inputs.prefix(drawInputCount)))[0]
        let operands = inputs.dropFirst(drawInputCount)
        guard operands.allSatisfy({ $0.ndim == drawn.ndim }) else { throw OpError("operands must have the draw's \(drawn.ndim) dimensions") }
        return [TensorType(try epilogue.outputTypes(epilogueInputs(drawn, operands))[0].dtype, shape: drawn.shape)]
    }

    /// The sizes asked for, once every operand is checked to be a single element or of
    /// exactly that shape (which the kernel reads element by element).
    package func fillShape(_ inputs: [NDArray]) throws -> [Int] {
        let shape = try draw.fillShape(Array(inputs.prefix(drawInputCount)))
        for (i, operand) in epilogueInputs(nil, inputs.dropFirst(drawInputCount).map(Optional.some)).enumerated() {
            guard let operand, singleOperands.contains(i) ? operand.count != 1 : operand.shape != shape else { continue }
            throw OpError("an operand of shape \(operand.shape) does not fit the draw's shape \(shape)")
        }
        return shape
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        _ = try fillShape(inputs)
        let drawn = try draw.perform(Array(inputs.prefix(drawInputCount)))[0]
        return try epilogue.perform(epilogueInputs(drawn, inputs.dropFirst(drawInputCount)))
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        [Array(node.inputs[1..<drawInputCount])]
    }
}

/// The draw's kernel, each element passed through the epilogue's C body before it is
/// stored: operands that are single elements are read once, the others at the element's
/// position.
extension FusedDraw: CFillKernelOp {
    package func cFillKernel(name: String, node: Apply) -> String? {
        let types = epilogue.inputDTypes.map(\.cType), output = epilogue.valueDTypes.last!.cType
        let operands = types.indices.filter { $0 != drawOperand }
        // The epilogue's operand `i` is the kernel's input `firstOperand + position in operands`.
        let firstOperand = 1 + drawInputCount
        guard let body = epilogue.cBody(types.enumerated().map { CExpression.name("x\($0)", $1) }) else { return nil }
        let setup: [any CStatement] = operands.enumerated().map { position, i in
            let (type, input) = (types[i].rawValue, "in[\(firstOperand + position)]")
            return singleOperands.contains(i) ? CDeclare(.value(type), "s\(i)", "*(const \(type) *)\(input)")
                : CDeclare(.pointer(to: "const \(type)", restrict: true), "in\(i)", "(const \(type) *)\(input)")
        }
        return draw.cFillKernel(name: name, outputType: output.rawValue, setup: setup) { index, value in
            types.indices.map { i in
                CDeclare(.value(types[i].rawValue), "x\(i)", i == drawOperand ? value : singleOperands.contains(i) ? "s\(i)" : "in\(i)[\(index)]")
            } + body.statements + [CAssign("out[\(index)]", body.result.cast(to: output).text)]
        }
    }

    package func fillKernelArguments(for inputs: [NDArray]) -> [Int64] { draw.fillKernelArguments(for: inputs) }
    package var workPerElement: Int { draw.workPerElement + epilogue.operations.count }
}
