/// Runs one node: the op's reference implementation, or generated code.
package protocol NodeRunner {
    func run(_ inputs: [NDArray]) throws -> [NDArray]
}

/// A runner that can write its one result into memory the caller provides (a loop's history
/// row: the step then writes in place on the loop's output buffer).
package protocol TargetWritingRunner: NodeRunner {
    /// Writes the result into `target` and returns `true`, when `target` is contiguous and of
    /// the result's shape and dtype; `false` leaves it alone. `target` must not overlap the inputs.
    func run(_ inputs: [NDArray], into target: NDArray) throws -> Bool
}

/// A runner that can write its result over the memory of one of its inputs (see
/// ``InplacePlan``, which decides when that is safe).
package protocol OverwritingRunner: NodeRunner {
    /// The results, to be written over `inputs[position]` by the returned `write`, after
    /// everything that could fail has been checked; `nil` when that input's layout does not
    /// fit (broadcast or strided): the node then runs as usual.
    func overwriting(_ inputs: [NDArray], position: Int) throws -> Overwrite?
}

/// Results that share an input's memory, and the work that writes them there.
package struct Overwrite {
    package let results: [NDArray]
    package let write: () -> Void

    package init(results: [NDArray], write: @escaping () -> Void) {
        self.results = results
        self.write = write
    }
}

/// Runs a node with its op's `validate` and Swift `perform`.
package struct ReferenceRunner: NodeRunner {
    package let node: Apply

    package init(node: Apply) {
        self.node = node
    }
    package func run(_ inputs: [NDArray]) throws -> [NDArray] {
        try node.op.validate(inputs, node: node)
        return try node.op.perform(inputs)
    }
}

/// A runner whose work is one C function over contiguous memory: given pointers to each
/// input (to its one element where the runner reads a scalar) and to the output, it computes
/// elements `begin ..< end`. A loop whose step is made only of such runners calls them on
/// row pointers itself, with no array made per step (``DirectLoopStep``).
package protocol RowKernelRunner: NodeRunner {
    typealias RowFunction = @convention(c) (Int64, Int64, UnsafePointer<UnsafeRawPointer?>, UnsafeMutableRawPointer) -> Void
    /// The function; valid while the runner lives.
    var rowFunction: RowFunction { get }
    /// Which inputs are read as one element.
    var scalarInputs: [Bool] { get }
    /// The dtype of the output.
    var outputDType: DType { get }
    /// The cost of one output element relative to an addition.
    var workPerElement: Int { get }
}

/// An executor whose program may be a set of independent nodes (see
/// ``Interpreter/independentNodes``): the capability a loop asks of its step's program to run
/// it on row pointers.
package protocol IndependentNodesExecutor: Executor {
    /// One node per output, each reading only inputs and constants; `nil` for any other program.
    var independentNodes: [(runner: any NodeRunner, sources: [NodeSource])]? { get }
}

/// Where a node reads an input from: one of the graph's inputs, or a constant.
package enum NodeSource {
    case input(Int)
    case constant(NDArray)
}
