import TheanoCore
import TheanoOps
import TheanoOptimizer
import TheanoAutodiff

/// A loop step made only of compiled elementwise launches, each reading the step's
/// arguments (and constants) and computing one result: the loop calls the launches itself on
/// row pointers, and each kernel writes its result straight into its row of the history
/// (Theano's scan working in place on its output buffers). No array is made and nothing is
/// copied per step, which is what a step over a few elements costs otherwise.
package struct DirectLoopStep {
    package struct Launch {
        package let runner: any RowKernelRunner
        package let sources: [NodeSource]

        package init(runner: any RowKernelRunner, sources: [NodeSource]) {
            self.runner = runner
            self.sources = sources
        }
    }

    /// One per step result, in order.
    package let launches: [Launch]

    /// The direct form of `step`, when it has one.
    package init?(_ step: any Executor) {
        guard let nodes = (step as? any IndependentNodesExecutor)?.independentNodes, !nodes.isEmpty else { return nil }
        var launches: [Launch] = []
        for (runner, sources) in nodes {
            guard let runner = runner as? any RowKernelRunner else { return nil }
            launches.append(Launch(runner: runner, sources: sources))
        }
        self.launches = launches
    }

    /// The shape every result has with these arguments (one step's), when the launches can
    /// run directly on them: every value a kernel reads is a contiguous array of that shape,
    /// or a single element where the kernel reads a scalar.
    package func resultShape(arguments: [NDArray]) -> [Int]? {
        var shape: [Int]?
        for kernel in launches {
            for (i, source) in kernel.sources.enumerated() {
                let value = self.value(source, arguments: arguments)
                if kernel.runner.scalarInputs[i] {
                    guard value.count == 1 else { return nil }
                    continue
                }
                if shape == nil { shape = value.shape }
                guard value.shape == shape, value.isFlat(as: value.shape) else { return nil }
            }
        }
        return shape
    }

    private func value(_ source: NodeSource, arguments: [NDArray]) -> NDArray {
        switch source {
        case .input(let position): arguments[position]
        case .constant(let value): value
        }
    }

    /// The kernel calls of one step, laid out as plain values (no reference counting per step).
    package struct Calls {
        package let entryPoints: [RowKernelRunner.RowFunction]
        package let work: [Int]
        /// Where each kernel's inputs start in `inputs` (one more entry at the end).
        let firstInput: [Int]
        /// Per kernel input: the argument it reads, or -1 for a constant.
        package let inputs: [Int]
        /// Per kernel input: the constant's address, or `nil`.
        package let constants: [UnsafeRawPointer?]

        package init(entryPoints: [RowKernelRunner.RowFunction], work: [Int], firstInput: [Int], inputs: [Int], constants: [UnsafeRawPointer?]) {
            self.entryPoints = entryPoints
            self.work = work
            self.firstInput = firstInput
            self.inputs = inputs
            self.constants = constants
        }

        /// Runs one step of `count` elements: `arguments` points at each argument's row,
        /// `results` at the row each result goes to; `scratch` has room for the widest kernel's inputs.
        package func run(count: Int, arguments: UnsafePointer<UnsafeRawPointer?>, results: UnsafePointer<UnsafeMutableRawPointer>,
                 scratch: UnsafeMutablePointer<UnsafeRawPointer?>) {
            for k in entryPoints.indices {
                for i in firstInput[k]..<firstInput[k + 1] {
                    scratch[i - firstInput[k]] = inputs[i] >= 0 ? arguments[inputs[i]] : constants[i]
                }
                let flat = entryPoints[k], output = results[k]
                parallelFor(count, workPerItem: work[k]) { begin, end in flat(Int64(begin), Int64(end), UnsafePointer(scratch), output) }
            }
        }
    }

    /// Calls `body` with the calls, which are valid until it returns (the constants and the
    /// launches' modules are kept alive until then).
    func withCalls<R>(_ body: (Calls) throws -> R) rethrows -> R {
        var firstInput = [0], inputs: [Int] = [], constantPositions: [Int] = [], constantValues: [NDArray] = []
        for kernel in launches {
            for source in kernel.sources {
                switch source {
                case .input(let position):
                    inputs.append(position)
                case .constant(let value):
                    constantPositions.append(inputs.count)
                    constantValues.append(value)
                    inputs.append(-1)
                }
            }
            firstInput.append(inputs.count)
        }
        return try withExtendedLifetime(launches) {
            try withUnsafeRawPointers(to: constantValues) { addresses in
                var constants = [UnsafeRawPointer?](repeating: nil, count: inputs.count)
                for (k, position) in constantPositions.enumerated() { constants[position] = addresses[k] }
                return try body(Calls(entryPoints: launches.map(\.runner.rowFunction), work: launches.map(\.runner.workPerElement),
                                      firstInput: firstInput, inputs: inputs, constants: constants))
            }
        }
    }

    /// How many inputs the widest kernel reads.
    var maximumInputs: Int { launches.map(\.sources.count).max() ?? 0 }
}
