import TheanoCore
import TheanoOps

/// Runs a node through the C kernel of its ``CAxisKernelOp`` (reductions, softmax): the
/// inputs made contiguous, read as `[A, R, B]`, the work split across cores along `A`, or
/// along `B` when `A` is too small to keep every core busy.
struct AxisKernelRunner: NodeRunner {
    typealias KernelFunction = @convention(c) (Int64, Int64, Int64, Int64, Int64, Int64, Int64, UnsafePointer<UnsafeRawPointer?>,
                                         UnsafeMutableRawPointer) -> Void

    package let node: Apply
    package let op: any CAxisKernelOp
    package let axes: Range<Int>
    package let scalarInputs: [Bool]
    package let function: KernelFunction
    /// Kept so the module stays loaded while the runner exists.
    package let library: DynamicLibrary
    let recycler = OutputRecycler()

    /// Throws when `library` lacks the kernel `name`.
    package init(node: Apply, op: any CAxisKernelOp, axes: Range<Int>, library: DynamicLibrary, name: String) throws {
        (self.node, self.op, self.axes, self.library) = (node, op, axes, library)
        scalarInputs = cKernelScalarInputs(node.inputs)
        function = try library.function(name, as: KernelFunction.self)
    }

    package func run(_ inputs: [NDArray]) throws -> [NDArray] {
        try node.op.validate(inputs, node: node)
        let stretched = inputs.indices.filter { !scalarInputs[$0] }
        let shape = stretched.isEmpty ? inputs[0].shape : inputs[stretched[0]].shape
        guard inputs.enumerated().allSatisfy({ scalarInputs[$0.offset] ? $0.element.count == 1 : $0.element.shape == shape }) else {
            throw OpError("operands of shapes \(inputs.map { shapeText($0.shape) }.joined(separator: " and ")) do not match")
        }
        let out = try recycler.array(op.kernelOutputShape(shape), dtype: node.outputTypes[0].dtype)
        guard out.count > 0 else { return [out] }
        let a = shape[..<axes.lowerBound].reduce(1, *), r = shape[axes].reduce(1, *), b = shape[axes.upperBound...].reduce(1, *)
        let work = r * op.workPerElement
        let function = function
        out.withUnsafeMutableRawPointer { output in
            withUnsafeRawPointers(to: inputs.map { $0.contiguous() }) { input in
                if a >= cores || b == 1 {
                    parallelFor(a, workPerItem: work * b) { begin, end in
                        function(Int64(a), Int64(r), Int64(b), Int64(begin), Int64(end), 0, Int64(b), input, output)
                    }
                } else {
                    parallelFor(b, workPerItem: work * a) { begin, end in
                        function(Int64(a), Int64(r), Int64(b), 0, Int64(a), Int64(begin), Int64(end), input, output)
                    }
                }
            }
        }
        return [out]
    }
}
