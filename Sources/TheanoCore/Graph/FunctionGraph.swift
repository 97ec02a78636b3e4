/// A graph being compiled: a private copy of the nodes between a function's inputs and its
/// outputs, which rewrites change without touching the user's graph.
///
/// It knows which nodes belong to it and the clients of every variable (the nodes that read
/// it), so a variable can be replaced everywhere at once: the replacement's new nodes are
/// imported and the nodes nobody reads any more are dropped.
public final class FunctionGraph {
    /// One reader of a variable: a node and the input position it reads it at.
    package struct Client {
        package let node: Apply
        package let position: Int

        package init(node: Apply, position: Int) {
            self.node = node
            self.position = position
        }
    }

    /// The free inputs, in the order the function takes them.
    public let inputs: [Variable]
    /// The outputs: the function's results followed by the new values of updated shared
    /// variables.
    public private(set) var outputs: [Variable]
    /// For each variable, the nodes that read it.
    package private(set) var clients: [Variable: [Client]] = [:]
    /// Where each client (a node and an input position) is in its variable's list, so a
    /// client leaves it in constant time however many nodes read the variable.
    private var clientIndex: [ClientKey: Int] = [:]

    private struct ClientKey: Hashable {
        let node: ObjectIdentifier
        let position: Int
        init(_ client: Client) { (node, position) = (ObjectIdentifier(client.node), client.position) }
    }
    /// The nodes of the graph.
    private var members = Set<ObjectIdentifier>()
    /// How many replacements have been made (drivers compare it to see whether a pass
    /// changed anything).
    package private(set) var changeCount = 0

    /// Copies the graph computing `outputs` from `inputs`, replacing each key of `givens`
    /// by its value (Theano's `givens`). Constants with equal values are merged. The inputs
    /// are copied too, unless `copyingInputs` is false: then the copy stops at them and
    /// reads them as they are (so they may be intermediate variables of another graph).
    package init(inputs: [Variable], outputs: [Variable], givens: [Variable: Variable] = [:], copyingInputs: Bool = true) throws {
        var copies: [Variable: Variable] = [:]
        var constants: [Constant] = []
        let fresh = copyingInputs ? inputs.map { Variable(type: $0.type, name: $0.name, location: $0.location) } : inputs
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
        for node in order where !node.outputs.allSatisfy({ givens[$0] != nil }) {
            let clone = Apply(op: node.op, inputs: node.inputs.map(copy), outputTypes: node.outputTypes, location: node.location)
            // A given output keeps its replacement, even where the node computing it is copied.
            for (old, new) in zip(node.outputs, clone.outputs) where givens[old] == nil {
                new.name = old.name
                copies[old] = new
            }
        }
        self.inputs = fresh
        self.outputs = outputs.map(copy)
        for output in self.outputs { importNodes(of: output) }
    }

    /// The nodes in an order where each comes after the nodes computing its inputs.
    public var nodes: [Apply] { topologicalOrder(of: outputs, stoppingAt: Set(inputs)) }

    /// Whether `node` is (still) part of the graph.
    package func contains(_ node: Apply) -> Bool { members.contains(ObjectIdentifier(node)) }

    /// The nodes reading `variable`.
    package func readers(of variable: Variable) -> [Client] { clients[variable] ?? [] }

    /// Whether `variable` is one of the graph's outputs.
    package func isOutput(_ variable: Variable) -> Bool { outputs.contains { $0 === variable } }

    /// Leaves the outputs depend on that are neither inputs, constants nor shared variables.
    package func missingInputs() -> [Variable] {
        let provided = Set(inputs)
        var seen = Set<Variable>()
        var missing: [Variable] = []
        for variable in outputs + nodes.flatMap(\.inputs) where variable.owner == nil && !provided.contains(variable) {
            if variable is Constant || variable is SharedVariable { continue }
            if seen.insert(variable).inserted { missing.append(variable) }
        }
        return missing
    }

    /// Makes every reader of `old` (and the outputs) use `new` instead, imports the nodes
    /// `new` needs, and drops the nodes that no longer contribute. The types must agree in
    /// dtype, rank and broadcastable dimensions (which decide how readers broadcast).
    package func replace(_ old: Variable, with new: Variable) throws {
        guard old !== new else { return }
        guard old.type.fits(new.type) else {
            throw OpError("cannot replace \(old.type) by \(new.type)")
        }
        let readers = clients[old] ?? []
        importNodes(of: new)
        clients[old] = nil
        for reader in readers {
            reader.node.inputs[reader.position] = new
            addClient(reader, of: new)
        }
        outputs = outputs.map { $0 === old ? new : $0 }
        removeIfUnused(old)
        changeCount += 1
    }

    /// Adds the nodes computing `variable` that are not yet part of the graph.
    private func importNodes(of variable: Variable) {
        var stack = [variable]
        var added: [Apply] = []
        while let v = stack.popLast() {
            guard let node = v.owner, members.insert(ObjectIdentifier(node)).inserted else { continue }
            added.append(node)
            stack.append(contentsOf: node.inputs)
        }
        for node in added {
            for (position, input) in node.inputs.enumerated() { addClient(Client(node: node, position: position), of: input) }
        }
    }

    /// Drops the node computing `variable` if none of its outputs is read, and so on up.
    private func removeIfUnused(_ variable: Variable) {
        var stack = [variable]
        while let v = stack.popLast() {
            guard let node = v.owner, contains(node),
                  node.outputs.allSatisfy({ (clients[$0] ?? []).isEmpty && !isOutput($0) })
            else { continue }
            members.remove(ObjectIdentifier(node))
            for (position, input) in node.inputs.enumerated() {
                removeClient(Client(node: node, position: position), of: input)
                if clients[input] == nil { stack.append(input) }
            }
        }
    }

    private func addClient(_ client: Client, of variable: Variable) {
        clientIndex[ClientKey(client)] = clients[variable]?.count ?? 0
        clients[variable, default: []].append(client)
    }

    /// Removes `client` from `variable`'s list (the last client takes its place); an empty
    /// list is removed.
    private func removeClient(_ client: Client, of variable: Variable) {
        guard let index = clientIndex.removeValue(forKey: ClientKey(client)), clients[variable] != nil else { return }
        // Changed in place in the dictionary: a copy of the list would cost its length.
        let last = clients[variable]!.removeLast()
        if index < clients[variable]!.count {
            clients[variable]![index] = last
            clientIndex[ClientKey(last)] = index
        }
        if clients[variable]!.isEmpty { clients[variable] = nil }
    }
}
