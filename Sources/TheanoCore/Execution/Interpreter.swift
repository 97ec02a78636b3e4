/// The reference executor: runs every node's Swift `perform` in topological order (the
/// inner graphs of loops compiled as the function asks, by this linker).
public struct ReferenceLinker: Linker {
    /// The reference linker (it has no settings).
    public init() {}
    public func link(_ graph: FunctionGraph, updates: [SharedVariable], overwritableInputs: Set<Int>,
                     innerGraphs: InnerGraphCompiler) throws -> LinkedGraph {
        var runners: [ObjectIdentifier: any NodeRunner] = [:]
        for node in graph.nodes {
            if let op = node.op as? any SelfLinkingOp { runners[ObjectIdentifier(node)] = try op.runner(for: node, compiledBy: innerGraphs) }
        }
        return LinkedGraph(executor: Interpreter(graph) { runners[ObjectIdentifier($0)] ?? ReferenceRunner(node: $0) })
    }
}

/// Runs a graph node by node in topological order, each with its runner.
///
/// The program is laid out once at link time: each variable gets a slot, constants are
/// stored in theirs, and each instruction knows which slots it reads and writes and which values it
/// may free afterwards. A call then only moves arrays between slots.
package final class Interpreter: IndependentNodesExecutor {
    /// A class, so walking the instructions copies one reference per instruction rather than each field.
    private final class Instruction {
        let node: Apply
        let runner: any NodeRunner
        /// Whether the runner's results are checked against the node's static types (the
        /// reference implementations'; generated code produces its types by construction).
        let checksResults: Bool
        /// The input the runner writes its result over, when the plan lets it.
        let overwrittenInput: Int?
        /// The runner again, when it can overwrite.
        let overwriter: (any OverwritingRunner)?
        /// For an update written over its shared variable: that variable's index in
        /// `sharedTargets`. Such writes wait until every other instruction has succeeded.
        let sharedTarget: Int?
        let inputSlots: [Int]
        let outputSlots: [Int]
        /// Slots whose values no later instruction or output needs.
        let freedSlots: [Int]
        /// The conditions (slots, outermost first) and branches a lazily run instruction needs.
        let guards: [(slot: Int, op: any LazyBranchingOp, branch: Int)]
        /// Whether some inputs may be missing (a lazy branching op's, whose branches not taken were skipped).
        let acceptsMissingInputs: Bool
        /// The graph output this instruction computes, and the runner again when it can write into
        /// memory the caller provides for that output.
        let output: (index: Int, writer: any TargetWritingRunner)?

        init(node: Apply, runner: any NodeRunner, overwrittenInput: Int?, sharedTarget: Int?, inputSlots: [Int], outputSlots: [Int],
             freedSlots: [Int], guards: [(slot: Int, op: any LazyBranchingOp, branch: Int)], graphOutputSlots: [Int], graphInputSlots: [Int]) {
            self.node = node
            self.runner = runner
            checksResults = runner is ReferenceRunner || runner is InnerGraphRunner
            overwriter = runner as? any OverwritingRunner
            self.overwrittenInput = overwriter == nil ? nil : overwrittenInput
            self.sharedTarget = sharedTarget
            self.inputSlots = inputSlots
            self.outputSlots = outputSlots
            self.freedSlots = freedSlots
            self.guards = guards
            acceptsMissingInputs = node.op is any LazyBranchingOp
            if outputSlots.count == 1, self.overwrittenInput == nil, sharedTarget == nil, let writer = runner as? any TargetWritingRunner,
               !graphInputSlots.contains(outputSlots[0]), graphOutputSlots.filter({ $0 == outputSlots[0] }).count == 1 {
                output = (graphOutputSlots.firstIndex(of: outputSlots[0])!, writer)
            } else {
                output = nil
            }
        }
    }

    private let instructions: [Instruction]
    private let inputSlots: [Int]
    private let sharedSlots: [(slot: Int, variable: SharedVariable)]
    private let outputSlots: [Int]
    /// The values of every slot during a call: constants in theirs, the others empty
    /// between calls (the memory is reused, so a function is not to be called from several
    /// threads at once).
    private var registers: [NDArray?]
    /// The arguments of the instruction running, kept between calls so their memory is reused.
    private var arguments: [NDArray] = []
    /// The slots emptied after each call.
    private let transientSlots: [Int]
    /// The shared variables that updates overwrite when the variable's memory is its own.
    private let sharedTargets: [SharedVariable]
    /// Set by `function(…, profile: true)`: every instruction is timed.
    package var profile: Profile?

    /// The nodes in the order the instructions run them.
    package var nodes: [Apply] { instructions.map(\.node) }

    /// The program as one node per graph output, each reading only graph inputs and
    /// constants, in the order of the outputs: each node's runner and sources. `nil` for any
    /// other program (chains of nodes, an output that is an input, shared variables, lazy instructions).
    package var independentNodes: [(runner: any NodeRunner, sources: [NodeSource])]? {
        guard instructions.count == outputSlots.count, sharedSlots.isEmpty else { return nil }
        let positions = Dictionary(inputSlots.enumerated().map { ($1, $0) }) { first, _ in first }
        var nodes: [(runner: any NodeRunner, sources: [NodeSource])] = []
        for slot in outputSlots {
            guard let instruction = instructions.first(where: { $0.outputSlots == [slot] }), instruction.guards.isEmpty else { return nil }
            var sources: [NodeSource] = []
            for input in instruction.inputSlots {
                if let position = positions[input] {
                    sources.append(.input(position))
                } else if let constant = registers[input] {
                    sources.append(.constant(constant))
                } else {
                    return nil
                }
            }
            nodes.append((instruction.runner, sources))
        }
        return nodes
    }

    /// Lays out `graph`, its nodes in the plan's order, each run by `runner(node)`.
    package init(_ graph: FunctionGraph, plan: InplacePlan? = nil, runner: (Apply) -> any NodeRunner) {
        let plan = plan ?? InplacePlan(graph: graph)
        var slots: [Variable: Int] = [:]
        var initial: [NDArray?] = []
        func slot(_ v: Variable) -> Int {
            if let s = slots[v] { return s }
            slots[v] = initial.count
            initial.append((v as? Constant)?.value)
            return initial.count - 1
        }
        inputSlots = graph.inputs.map(slot)
        let lazy = LazySchedule(plan.schedule, outputs: graph.outputs)
        let nodes = lazy.nodes
        var shared: [(Int, SharedVariable)] = []
        for variable in nodes.flatMap(\.inputs) + graph.outputs {
            if let s = variable as? SharedVariable, slots[s] == nil { shared.append((slot(s), s)) }
        }
        sharedSlots = shared
        var lastUse: [Int: Int] = [:]
        for (i, node) in nodes.enumerated() { for input in node.inputs { lastUse[slot(input)] = i } }
        let kept = Set(graph.outputs.map(slot) + inputSlots).union(initial.indices.filter { initial[$0] != nil })
        let writes = nodes.map { $0.outputs.map(slot) }
        outputSlots = graph.outputs.map(slot)
        var targets: [SharedVariable] = []
        instructions = nodes.enumerated().map { [inputSlots, outputSlots] i, node in
            let reads = node.inputs.map(slot)
            let nodeRunner = runner(node)
            let overwrites = nodeRunner is any OverwritingRunner
            let target = plan.sharedTargets[ObjectIdentifier(node)]
            if overwrites, let target { targets.append(target) }
            return Instruction(node: node, runner: nodeRunner, overwrittenInput: plan.overwrites[ObjectIdentifier(node)],
                               sharedTarget: overwrites && target != nil ? targets.count - 1 : nil,
                               inputSlots: reads, outputSlots: writes[i],
                               freedSlots: Set(reads).filter { lastUse[$0] == i && !kept.contains($0) }.sorted(),
                               guards: lazy.guards[ObjectIdentifier(node)]?.map { (slot($0.condition), $0.op, $0.branch) } ?? [],
                               graphOutputSlots: outputSlots, graphInputSlots: inputSlots)
        }
        sharedTargets = targets
        registers = initial
        transientSlots = initial.indices.filter { initial[$0] == nil }
        arguments.reserveCapacity(nodes.map(\.inputs.count).max() ?? 0)
    }

    package func run(inputs: [NDArray]) throws -> [NDArray] { try run(inputs: inputs, outputTargets: []) }

    /// The outputs, each written into `outputTargets[i]` where one is given and the node
    /// computing it can (see ``TargetWritingRunner``); the others as usual.
    package func run(inputs: [NDArray], outputTargets: [NDArray?]) throws -> [NDArray] {
        // Asked before the values are loaded, which adds references of their own.
        let ownsMemory = sharedTargets.map { $0.ownsValueMemory() && $0.lockedValue.isContiguous }
        // The registers and the arguments are moved into locals for the call, so the loop
        // below works on values of its own (no exclusive-access checks on the executor's fields).
        var values: [NDArray?] = []
        swap(&values, &registers)
        var arguments: [NDArray] = []
        swap(&arguments, &self.arguments)
        defer {
            for slot in transientSlots { values[slot] = nil }
            swap(&values, &registers)
            arguments.removeAll(keepingCapacity: true)
            swap(&arguments, &self.arguments)
        }
        for (slot, value) in zip(inputSlots, inputs) { values[slot] = value }
        for (slot, variable) in sharedSlots { values[slot] = variable.lockedValue }
        let profile = self.profile
        profile?.recordCall()
        var deferredWrites: [(instruction: Int, write: () -> Void)] = []
        for (index, instruction) in instructions.enumerated() {
            if !instruction.guards.isEmpty,
               !instruction.guards.allSatisfy({ $0.op.branch(takenFor: values[$0.slot]!) == $0.branch }) { continue }
            arguments.removeAll(keepingCapacity: true)
            for slot in instruction.inputSlots { arguments.append(instruction.acceptsMissingInputs ? values[slot] ?? .notComputed : values[slot]!) }
            let results: [NDArray]
            do {
                let start = profile == nil ? nil : ContinuousClock.now
                // Copy-on-write: a variable's memory someone else sees is copied first, and the
                // copy is the variable's own from then on.
                if let position = instruction.overwrittenInput, let target = instruction.sharedTarget, !ownsMemory[target] {
                    arguments[position] = arguments[position].contiguousCopy()
                }
                if let position = instruction.overwrittenInput, let overwrite = try instruction.overwriter!.overwriting(arguments, position: position) {
                    results = overwrite.results
                    if instruction.sharedTarget == nil { overwrite.write() } else { deferredWrites.append((index, overwrite.write)) }
                } else if !outputTargets.isEmpty, let (output, writer) = instruction.output, output < outputTargets.count,
                          let target = outputTargets[output], try writer.run(arguments, into: target) {
                    results = [target]
                } else {
                    results = try instruction.runner.run(arguments)
                }
                if let start { profile?.record(node: index, seconds: seconds(since: start)) }
            } catch let error as OpError {
                throw TheanoError.runtime(op: instruction.node.op.description, inputShapes: arguments.map(\.shape),
                                          reason: error.description, location: instruction.node.location)
            }
            for (slot, (result, type)) in zip(instruction.outputSlots, zip(results, instruction.node.outputTypes)) {
                guard !instruction.checksResults || result.dtype == type.dtype && type.accepts(shape: result.shape) else {
                    throw TheanoError.runtime(op: instruction.node.op.description, inputShapes: arguments.map(\.shape),
                                              reason: "produced \(result.dtype) of shape \(shapeText(result.shape)), which contradicts its static type \(type)",
                                              location: instruction.node.location)
                }
                values[slot] = result
            }
            for slot in instruction.freedSlots { values[slot] = nil }
        }
        for (index, write) in deferredWrites {
            let start = profile == nil ? nil : ContinuousClock.now
            write()
            if let start { profile?.record(node: index, seconds: seconds(since: start)) }
        }
        return outputSlots.map { values[$0]! }
    }
}
