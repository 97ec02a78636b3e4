/// A graph being compiled: a private copy of the nodes between a function's inputs and its
/// outputs, which rewrites may change without touching the user's graph.
///
/// It tracks the clients of every variable (the nodes that read it) so a variable can be
/// replaced everywhere at once.
public final class FunctionGraph {
    /// The free inputs, in the order the function takes them.
    public let inputs: [Variable]
    /// The outputs: the function's results followed by the new values of updated shared
    /// variables.
    public private(set) var outputs: [Variable]
    /// For each variable, the nodes that read it and at which input position.
    private(set) var clients: [Variable: [(node: Apply, position: Int)]] = [:]

    /// Copies the graph computing `outputs` from `inputs`, replacing each key of `givens`
    /// by its value (Theano's `givens`). Constants with equal values are merged.
    init(inputs: [Variable], outputs: [Variable], givens: [Variable: Variable] = [:]) throws {
        var copies: [Variable: Variable] = [:]
        var constants: [Constant] = []
        let fresh = inputs.map { Variable(type: $0.type, name: $0.name, location: $0.location) }
        for (original, copy) in zip(inputs, fresh) { copies[original] = copy }

        func copy(_ variable: Variable) -> Variable {
            if let done = copies[variable] { return done }
            if let given = givens[variable], given !== variable {
                let replacement = copy(given)
                copies[variable] = replacement
                return replacement
            }
            if let constant = variable as? Constant {
                let merged = constants.first { $0.hasSameValue(as: constant) } ?? constant
                if merged === constant { constants.append(constant) }
                copies[variable] = merged
                return merged
            }
            return variable
        }
        // Inputs of a node are copied before the node (topological order).
        let order = topologicalOrder(of: outputs + givens.values, stoppingAt: Set(inputs))
        for node in order {
            let newInputs = node.inputs.map(copy)
            let clone = Apply(op: node.op, inputs: newInputs, outputTypes: node.outputTypes, location: node.location)
            for (old, new) in zip(node.outputs, clone.outputs) {
                new.name = old.name
                copies[old] = new
            }
        }
        self.inputs = fresh
        self.outputs = outputs.map(copy)
        for node in topologicalOrder(of: self.outputs, stoppingAt: Set(fresh)) {
            for (position, input) in node.inputs.enumerated() { clients[input, default: []].append((node, position)) }
        }
    }

    /// The nodes in an order where each comes after the nodes computing its inputs.
    public var nodes: [Apply] { topologicalOrder(of: outputs, stoppingAt: Set(inputs)) }

    /// Leaves the outputs depend on that are neither inputs, constants nor shared variables.
    func missingInputs() -> [Variable] {
        let provided = Set(inputs)
        var seen = Set<Variable>()
        var missing: [Variable] = []
        for variable in outputs + nodes.flatMap(\.inputs) where variable.owner == nil && !provided.contains(variable) {
            if variable is Constant || variable is SharedVariable { continue }
            if seen.insert(variable).inserted { missing.append(variable) }
        }
        return missing
    }

    /// Makes every reader of `old` read `new` instead (the types must agree).
    func replace(_ old: Variable, with new: Variable) {
        precondition(old.type.dtype == new.type.dtype && old.ndim == new.ndim, "replace: \(old.type) by \(new.type)")
        for (node, position) in clients[old] ?? [] {
            node.inputs[position] = new
            clients[new, default: []].append((node, position))
        }
        clients[old] = nil
        outputs = outputs.map { $0 === old ? new : $0 }
    }
}
