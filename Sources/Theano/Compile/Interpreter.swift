/// Runs one node: the op's reference implementation, or generated code.
protocol NodeRunner {
    func run(_ inputs: [NDArray]) throws -> [NDArray]
}

/// Runs a node with its op's `validate` and Swift `perform`.
struct ReferenceRunner: NodeRunner {
    let node: Apply
    func run(_ inputs: [NDArray]) throws -> [NDArray] {
        try node.op.validate(inputs, node: node)
        return try node.op.perform(inputs)
    }
}

/// The reference executor: runs every node's Swift `perform` in topological order.
public struct ReferenceLinker: Linker {
    public init() {}
    public func link(_ graph: FunctionGraph) throws -> LinkedProgram {
        LinkedProgram(executor: Interpreter(graph) { ReferenceRunner(node: $0) })
    }
}

/// Runs a graph node by node in topological order, each with its runner.
///
/// The program is laid out once at link time: each variable gets a slot, constants are
/// stored in theirs, and each step knows which slots it reads and writes and which values it
/// may free afterwards. A call then only moves arrays between slots.
final class Interpreter: Executor {
    private struct Step {
        let node: Apply
        let runner: any NodeRunner
        let inputSlots: [Int]
        let outputSlots: [Int]
        /// Slots whose values no later step or output needs.
        let freedSlots: [Int]
    }

    private let steps: [Step]
    private let inputSlots: [Int]
    private let sharedSlots: [(slot: Int, variable: SharedVariable)]
    private let outputSlots: [Int]
    private let initialSlots: [NDArray?]
    /// Set by `function(…, profile: true)`: every step is timed.
    var profile: Profile?

    /// The nodes in the order the steps run them.
    var nodes: [Apply] { steps.map(\.node) }

    init(_ graph: FunctionGraph, runner: (Apply) -> any NodeRunner) {
        var slots: [Variable: Int] = [:]
        var initial: [NDArray?] = []
        func slot(_ v: Variable) -> Int {
            if let s = slots[v] { return s }
            slots[v] = initial.count
            initial.append((v as? Constant)?.value)
            return initial.count - 1
        }
        inputSlots = graph.inputs.map(slot)
        let nodes = graph.nodes
        var shared: [(Int, SharedVariable)] = []
        for variable in nodes.flatMap(\.inputs) + graph.outputs {
            if let s = variable as? SharedVariable, slots[s] == nil { shared.append((slot(s), s)) }
        }
        sharedSlots = shared
        var lastUse: [Int: Int] = [:]
        for (i, node) in nodes.enumerated() { for input in node.inputs { lastUse[slot(input)] = i } }
        let kept = Set(graph.outputs.map(slot) + inputSlots).union(initial.indices.filter { initial[$0] != nil })
        steps = nodes.enumerated().map { i, node in
            let reads = node.inputs.map(slot)
            return Step(node: node, runner: runner(node), inputSlots: reads, outputSlots: node.outputs.map(slot),
                        freedSlots: Set(reads).filter { lastUse[$0] == i && !kept.contains($0) }.sorted())
        }
        outputSlots = graph.outputs.map(slot)
        initialSlots = initial
    }

    func run(inputs: [NDArray]) throws -> [NDArray] {
        var values = initialSlots
        for (slot, value) in zip(inputSlots, inputs) { values[slot] = value }
        for (slot, variable) in sharedSlots { values[slot] = variable.value }
        profile?.recordCall()
        for (index, step) in steps.enumerated() {
            let arguments = step.inputSlots.map { values[$0]! }
            let results: [NDArray]
            do {
                if let profile {
                    let start = ContinuousClock.now
                    results = try step.runner.run(arguments)
                    profile.record(node: index, seconds: seconds(since: start))
                } else {
                    results = try step.runner.run(arguments)
                }
            } catch let error as OpError {
                throw TheanoError.runtime(op: step.node.op.description, inputShapes: arguments.map(\.shape),
                                          reason: error.description, location: step.node.location)
            }
            for (slot, (result, type)) in zip(step.outputSlots, zip(results, step.node.outputTypes)) {
                guard result.dtype == type.dtype, type.accepts(shape: result.shape) else {
                    throw TheanoError.runtime(op: step.node.op.description, inputShapes: arguments.map(\.shape),
                                              reason: "produced \(result.dtype) of shape \(shapeText(result.shape)), which contradicts its static type \(type)",
                                              location: step.node.location)
                }
                values[slot] = result
            }
            for slot in step.freedSlots { values[slot] = nil }
        }
        return outputSlots.map { values[$0]! }
    }
}
