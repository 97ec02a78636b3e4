/// An op (other than an elementwise one) with a hand-written C kernel: the native backend
/// compiles its source into the function's module and runs it instead of `perform`.
protocol CKernelOp: Op {
    /// The C source of the kernel for `node`, its functions named with the prefix `name`;
    /// `nil` when the node's types have no kernel.
    func cKernel(name: String, node: Apply) -> String?

    /// Runs the kernel compiled from `cKernel(name:node:)` found in `library`, taking its
    /// output buffer from `recycler`.
    func runKernel(_ inputs: [NDArray], node: Apply, library: DynamicLibrary, name: String, recycler: OutputRecycler) throws -> [NDArray]
}

/// Runs a node through its op's compiled kernel.
struct CKernelRunner: NodeRunner {
    let node: Apply
    let op: any CKernelOp
    let library: DynamicLibrary
    let name: String
    let recycler = OutputRecycler()

    /// Throws when `library` lacks the kernel `name`.
    init(node: Apply, op: any CKernelOp, library: DynamicLibrary, name: String) throws {
        guard library.symbol(name) != nil else { throw TheanoError.toolFailed(tool: "dlsym", reason: "\(name) is missing from \(library.path)") }
        (self.node, self.op, self.library, self.name) = (node, op, library, name)
    }

    func run(_ inputs: [NDArray]) throws -> [NDArray] {
        try node.op.validate(inputs, node: node)
        return try op.runKernel(inputs, node: node, library: library, name: name, recycler: recycler)
    }
}

extension DynamicLibrary {
    /// The function `name`, as type `T`; throws if the module lacks it.
    func function<T>(_ name: String, as type: T.Type) throws -> T {
        guard let symbol = symbol(name) else { throw TheanoError.toolFailed(tool: "dlsym", reason: "\(name) is missing from \(path)") }
        return unsafeBitCast(symbol, to: type)
    }
}
