import TheanoCore
import TheanoOps

/// Runs a node through the C kernel of its ``CFillKernelOp`` (random draws, patches,
/// pooling): a contiguous output (recycled when nobody kept the previous one), its elements
/// split across cores. The kernel reads the op's ``CFillKernelOp/fillKernelArguments(for:)``
/// first, then the inputs.
struct FillKernelRunner: NodeRunner {
    typealias KernelFunction = @convention(c) (Int64, Int64, UnsafePointer<UnsafeRawPointer?>, UnsafeMutableRawPointer) -> Void

    let node: Apply
    let op: any CFillKernelOp
    let function: KernelFunction
    /// Kept so the module stays loaded while the runner exists.
    let library: DynamicLibrary
    let recycler = OutputRecycler()

    /// Throws when `library` lacks the kernel `name`.
    init(node: Apply, op: any CFillKernelOp, library: DynamicLibrary, name: String) throws {
        (self.node, self.op, self.library) = (node, op, library)
        function = try library.function(name, as: KernelFunction.self)
    }

    func run(_ inputs: [NDArray]) throws -> [NDArray] {
        try node.op.validate(inputs, node: node)
        let out = try recycler.array(op.fillShape(inputs), dtype: node.outputTypes[0].dtype)
        let count = out.count, function = function
        guard count > 0 else { return [out] }
        let arguments = NDArray(op.fillKernelArguments(for: inputs))
        out.withUnsafeMutableRawPointer { output in
            withExtendedLifetime(arguments) {
                op.withFillKernelOperands(inputs) { operands in
                    ([arguments.withUnsafeRawPointer { $0 }] + operands).withUnsafeBufferPointer { input in
                        parallelFor(count, workPerItem: op.workPerElement) { begin, end in function(Int64(begin), Int64(end), input.baseAddress!, output) }
                    }
                }
            }
        }
        return [out]
    }
}
