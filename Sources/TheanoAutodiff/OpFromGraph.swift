import Synchronization
import TheanoCore
import TheanoOps
import TheanoOptimizer

/// An op defined by a graph: applied to variables, it computes what `outputs` compute from
/// `inputs` (Theano's `OpFromGraph`). It packages a computation as one node, optionally with
/// derivatives of its own.
///
/// Its gradient differentiates the inner graph, unless a `pullback` says otherwise; its
/// tangent goes through the inner graph, unless a `pushforward` says otherwise. A
/// straight-through estimator, for example, rounds on the way forward and lets gradients pass
/// unchanged on the way back:
///
/// ```swift
/// let x = vector("x")
/// let straightThrough = try OpFromGraph(inputs: [x], outputs: [sign(x)],
///                                       pullback: { _, _, gradients in gradients })
/// let y = try straightThrough(weights)[0]   // sign(weights); the gradient flows as through the identity
/// ```
///
/// Derivatives are built when `grad` or `Rop` is called, before compiling, so the optimizer
/// always inlines the op (its first phase, `inline`, replaces each node by a copy of the inner
/// graph), custom derivatives or not: the compiled function optimizes across the boundary.
/// Run without that phase, its reference implementation evaluates the inner graph.
///
/// The inner graph may read constants and shared variables besides `inputs`; gradients flow
/// only to the inputs.
public struct OpFromGraph: DifferentiableOp, ForwardDifferentiableOp, InlinedOp {
    /// How gradients pass back through one application of the op: from the variables it was
    /// applied to, its outputs there and the gradients with respect to them (`nil` where none
    /// flows), the gradients with respect to the inputs (`nil` where none flows).
    public typealias Pullback = (_ inputs: [Variable], _ outputs: [Variable], _ outputGradients: [Variable?]) throws -> [Variable?]
    /// How tangents pass forward through one application of the op: from the variables it was
    /// applied to, its outputs there and the tangents of the inputs (`nil` where one does not
    /// change), the tangents of the outputs (`nil` where one does not change).
    public typealias Pushforward = (_ inputs: [Variable], _ outputs: [Variable], _ inputTangents: [Variable?]) throws -> [Variable?]

    /// The name it prints with.
    public let name: String
    private let definition: Definition

    /// An op computing `outputs` from `inputs`: distinct free variables (made by `vector`,
    /// `matrix`, `tensor`, …) that stand for what the op is applied to.
    ///
    /// - Parameters:
    ///   - pullback: the gradient, instead of differentiating the inner graph.
    ///   - pushforward: the tangent, instead of forward mode through the inner graph.
    public init(inputs: [Variable], outputs: [Variable], name: String = "op_from_graph",
                pullback: Pullback? = nil, pushforward: Pushforward? = nil,
                fileID: String = #fileID, line: Int = #line) throws {
        let location = SourceLocation.resolve(fileID: fileID, line: line)
        func fail(_ reason: String) -> TheanoError { .invalidArgument(function: "OpFromGraph", reason: reason, location: location) }
        guard !outputs.isEmpty else { throw fail("needs at least one output") }
        guard Set(inputs).count == inputs.count else { throw fail("an input is listed twice") }
        for input in inputs where input.owner != nil || input is Constant || input is SharedVariable {
            throw fail("input \(input) is not a free variable: it is computed, constant or shared")
        }
        let order = topologicalOrder(of: outputs, stoppingAt: Set(inputs))
        let leaves = (outputs + order.flatMap(\.inputs)).filter { $0.owner == nil && !($0 is Constant) && !($0 is SharedVariable) }
        if let missing = leaves.first(where: { !inputs.contains($0) }) {
            throw fail("the outputs depend on \(missing), built at \(missing.location), which is not an input")
        }
        let influencing = variablesInfluencing(Set(outputs), in: order)
        self.name = name
        definition = Definition(inputs: inputs, outputs: outputs, connected: inputs.map(influencing.contains),
                                pullback: pullback, pushforward: pushforward)
    }

    /// The outputs of the op applied to `inputs`, which must fit the types of the graph's inputs.
    public func callAsFunction(_ inputs: [Variable], fileID: String = #fileID, line: Int = #line) throws -> [Variable] {
        let location = SourceLocation.resolve(fileID: fileID, line: line)
        guard inputs.count == definition.inputs.count else {
            throw TheanoError.invalidArgument(function: name, reason: "takes \(arity), not \(inputs.count)", location: location)
        }
        return try apply(inputs, at: location).outputs
    }

    /// The outputs of the op applied to `inputs`.
    public func callAsFunction(_ inputs: Variable..., fileID: String = #fileID, line: Int = #line) throws -> [Variable] {
        try self(inputs, fileID: fileID, line: line)
    }

    public var description: String { name }

    /// `1 input`, `2 inputs`, …
    private var arity: String { "\(definition.inputs.count) input\(definition.inputs.count == 1 ? "" : "s")" }

    public static func == (a: OpFromGraph, b: OpFromGraph) -> Bool { a.definition === b.definition }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(definition)) }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs.count == definition.inputs.count else { throw OpError("takes \(arity)") }
        for (index, (given, expected)) in zip(inputs, definition.inputs.map(\.type)).enumerated() where !expected.fits(given) {
            throw OpError("input \(index) has type \(given), which does not fit the graph's input of type \(expected)")
        }
        return definition.outputs.map(\.type)
    }

    /// Evaluates the inner graph as built, with the reference interpreter.
    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let (executors, shared) = try definition.compiled()
        return try SharedVariable.withLocks(reading: shared, writing: []) {
            try executors.withExecutor { try $0.run(inputs: inputs) }
        }
    }

    public func isConnected(toInput index: Int) -> Bool { definition.connected[index] }

    /// The custom pullback, else reverse mode through the inner graph.
    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        if let custom = definition.pullback {
            return try checked(custom(node.inputs, node.outputs, outputGradients), count: node.inputs.count, "pullback", node)
        }
        let flowing = definition.outputs.indices.filter { outputGradients[$0] != nil && definition.outputs[$0].dtype.isFloat }
        let receiving = definition.inputs.indices.filter { definition.inputs[$0].dtype.isFloat && definition.connected[$0] }
        guard !flowing.isEmpty, !receiving.isEmpty else { return node.inputs.map { _ in nil } }
        // Differentiate the inner graph with placeholder gradients, then read the node's
        // inputs and gradients in their place.
        let placeholders = flowing.map { Variable(type: definition.outputs[$0].type, location: node.location) }
        let gradients = try Lop(flowing.map { definition.outputs[$0] }, wrt: receiving.map { definition.inputs[$0] },
                                evalPoints: placeholders, disconnected: .zero)
        let values = Dictionary(uniqueKeysWithValues: zip(placeholders, flowing.map { outputGradients[$0]! }))
        let gradientsHere = try bound(gradients, to: node, placeholders: values)
        var result = [Variable?](repeating: nil, count: node.inputs.count)
        for (index, gradient) in zip(receiving, gradientsHere) { result[index] = gradient }
        return result
    }

    /// The custom pushforward, else forward mode through the inner graph.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        if let custom = definition.pushforward {
            return try checked(custom(node.inputs, node.outputs, inputTangents), count: node.outputs.count, "pushforward", node)
        }
        // Forward mode with placeholder tangents, then read the node's inputs and tangents in
        // their place.
        let changing = inputTangents.indices.filter { inputTangents[$0] != nil }
        let placeholders = changing.map { Variable(type: definition.inputs[$0].type, location: node.location) }
        let seeds = Dictionary(uniqueKeysWithValues: zip(changing.map { definition.inputs[$0] }, placeholders))
        let tangents = try propagateTangents(to: definition.outputs, from: seeds, function: "Rop", location: node.location)
        let changed = definition.outputs.indices.filter { tangents[definition.outputs[$0]] != nil }
        let values = Dictionary(uniqueKeysWithValues: zip(placeholders, changing.map { inputTangents[$0]! }))
        let tangentsHere = try bound(changed.map { tangents[definition.outputs[$0]]! }, to: node, placeholders: values)
        var result = [Variable?](repeating: nil, count: node.outputs.count)
        for (index, tangent) in zip(changed, tangentsHere) { result[index] = tangent }
        return result
    }

    /// What the op computes from `inputs`: a copy of the inner graph reading them (the
    /// optimizer inlines the op with it).
    package func expanded(over inputs: [Variable]) throws -> [Variable] {
        try substituting(Dictionary(uniqueKeysWithValues: zip(definition.inputs, inputs)), in: definition.outputs)
    }

    /// `graph`, built over the inner inputs and the keys of `placeholders`, copied to read
    /// `node`'s inputs and the placeholders' values instead.
    private func bound(_ graph: [Variable], to node: Apply, placeholders: [Variable: Variable]) throws -> [Variable] {
        let replacements = Dictionary(uniqueKeysWithValues: zip(definition.inputs, node.inputs)).merging(placeholders) { $1 }
        return try substituting(replacements, in: graph)
    }

    /// `derivatives` from a custom closure, after checking there is one per `count`.
    private func checked(_ derivatives: [Variable?], count: Int, _ kind: String, _ node: Apply) throws -> [Variable?] {
        guard derivatives.count == count else {
            throw TheanoError.invalidArgument(function: name, reason: "the custom \(kind) gave \(derivatives.count) results where \(count) are needed", location: node.location)
        }
        return derivatives
    }

    /// What defines the op; its identity is the op's.
    private final class Definition: @unchecked Sendable {
        let inputs: [Variable], outputs: [Variable]
        /// For each input, whether the outputs depend on it.
        let connected: [Bool]
        let pullback: Pullback?, pushforward: Pushforward?
        private let compiledGraph = Mutex<(executors: ExecutorPool, shared: [SharedVariable])?>(nil)

        init(inputs: [Variable], outputs: [Variable], connected: [Bool], pullback: Pullback?, pushforward: Pushforward?) {
            self.inputs = inputs
            self.outputs = outputs
            self.connected = connected
            self.pullback = pullback
            self.pushforward = pushforward
        }

        /// The inner graph linked as built for the reference interpreter (once), and the
        /// shared variables it reads.
        func compiled() throws -> (executors: ExecutorPool, shared: [SharedVariable]) {
            try compiledGraph.withLock { cached in
                if let cached { return cached }
                let graph = try FunctionGraph(inputs: inputs, outputs: outputs)
                let link = { try ReferenceLinker().link(graph).executor }
                var shared: [SharedVariable] = []
                for case let variable as SharedVariable in graph.nodes.flatMap(\.inputs) + outputs where !shared.contains(variable) {
                    shared.append(variable)
                }
                let compiled = (ExecutorPool(first: try link(), link: link), shared)
                cached = compiled
                return compiled
            }
        }
    }
}

/// Copies of the nodes between the keys of `replacements` and `outputs`, reading each key's
/// value instead of the key. Nodes that read no key, directly or not, are not copied.
package func substituting(_ replacements: [Variable: Variable], in outputs: [Variable]) throws -> [Variable] {
    var copies = replacements
    for node in topologicalOrder(of: outputs, stoppingAt: Set(replacements.keys)) {
        let inputs = node.inputs.map { copies[$0] ?? $0 }
        guard zip(inputs, node.inputs).contains(where: { $0 !== $1 }) else { continue }
        for (old, new) in zip(node.outputs, try node.op.apply(inputs, at: node.location).outputs) { copies[old] = new }
    }
    return outputs.map { copies[$0] ?? $0 }
}
