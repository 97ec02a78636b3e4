/// A loop step made only of compiled elementwise kernels, each reading the step's
/// arguments (and constants) and computing one result: the loop calls the kernels itself on
/// row pointers, and each kernel writes its result straight into its row of the history
/// (Theano's scan working in place on its output buffers). No array is made and nothing is
/// copied per step, which is what a step over a few elements costs otherwise.
struct DirectLoopStep {
    struct Kernel {
        let runner: ElementwiseKernelRunner
        let sources: [Interpreter.Source]
    }

    /// One per step result, in order.
    let kernels: [Kernel]

    /// The direct form of `program`, when it has one.
    init?(_ program: any Executor) {
        guard let nodes = (program as? Interpreter)?.independentNodes, !nodes.isEmpty else { return nil }
        var kernels: [Kernel] = []
        for (runner, sources) in nodes {
            guard let runner = runner as? ElementwiseKernelRunner else { return nil }
            kernels.append(Kernel(runner: runner, sources: sources))
        }
        self.kernels = kernels
    }

    /// The shape every result has with these arguments (one step's), when the kernels can
    /// run directly on them: every value a kernel reads is a contiguous array of that shape,
    /// or a single element where the kernel reads a scalar.
    func resultShape(arguments: [NDArray]) -> [Int]? {
        var shape: [Int]?
        for kernel in kernels {
            for (i, source) in kernel.sources.enumerated() {
                let value = self.value(source, arguments: arguments)
                if kernel.runner.kernel.scalarInputs[i] {
                    guard value.count == 1 else { return nil }
                    continue
                }
                if shape == nil { shape = value.shape }
                guard value.shape == shape, value.isFlat(as: value.shape) else { return nil }
            }
        }
        return shape
    }

    private func value(_ source: Interpreter.Source, arguments: [NDArray]) -> NDArray {
        switch source {
        case .input(let position): arguments[position]
        case .constant(let value): value
        }
    }

    /// Runs one step of `count` elements: `arguments` points at each argument's row,
    /// `results` at the row each result goes to; `scratch` has room for ``maximumInputs``.
    func run(count: Int, arguments: UnsafePointer<UnsafeRawPointer?>, results: UnsafePointer<UnsafeMutableRawPointer>,
             scratch: UnsafeMutablePointer<UnsafeRawPointer?>) {
        for (k, kernel) in kernels.enumerated() {
            for (i, source) in kernel.sources.enumerated() {
                switch source {
                case .input(let position): scratch[i] = arguments[position]
                case .constant(let value): scratch[i] = UnsafeRawPointer(value.baseAddress)
                }
            }
            let flat = kernel.runner.entryPoints.flat, output = results[k]
            parallelFor(count, workPerItem: Swift.max(kernel.runner.kernel.composite.steps.count, 1)) { begin, end in
                flat(Int64(begin), Int64(end), UnsafePointer(scratch), output)
            }
        }
    }

    /// How many inputs the widest kernel reads (the scratch space ``run`` needs).
    var maximumInputs: Int { kernels.map(\.sources.count).max() ?? 0 }
}
