import TheanoCore

/// A reduction of the values of an elementwise program, fused so that those values are never
/// stored: `sum(sqr(x - y), axis: 1)` in one pass over `x` and `y`. The fusion phase builds it
/// (after differentiation, so it needs no pullback); the native backend compiles it into one
/// loop (`ReductionKernelSource`).
public struct ElementwiseReduce: ShapeInferringOp {
    /// The reduction applied to the program's values.
    public let reduce: Reduce
    /// The elementwise program whose result is reduced.
    public let program: Composite

    package init(reduce: Reduce, program: Composite) {
        self.reduce = reduce
        self.program = program
    }

    /// `sum{axes=[1]}(composite{sqr((i0 - i1))})`.
    public var description: String { "\(reduce)(\(program))" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        try reduce.outputTypes(program.outputTypes(inputs))
    }

    public func validate(_ inputs: [NDArray], node: Apply) throws { try program.validate(inputs, node: node) }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] { try reduce.perform(program.perform(inputs)) }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        [reduce.outputShape(try broadcastSizes(of: node, inputShapes: inputShapes), one: Constant(NDArray(scalar: Int64(1)), location: node.location))]
    }
}

extension ElementwiseReduce: CAxisKernelOp {
    package func kernelAxes(_ node: Apply) -> Range<Int>? { reduce.kernelAxes(node) }

    package func cAxisKernel(name: String, node: Apply) -> String? {
        ReductionKernelSource(reduce: reduce, program: program, inputs: node.inputs)?.source(name: name)
    }

    package func kernelOutputShape(_ shape: [Int]) throws -> [Int] { try reduce.kernelOutputShape(shape) }

    package var workPerElement: Int { Swift.max(program.operations.count, 1) }

    package var partsCombine: Reduce.Kind? { reduce.partsCombine }
}
