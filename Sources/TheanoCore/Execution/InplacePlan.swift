/// Which nodes may write their result over the memory of one of their inputs, and the order
/// that makes it safe: Theano's destroy handler, reduced to what the native runners can do.
///
/// A node may overwrite an input when nothing else will ever read that memory again:
///
/// - an **intermediate** result made in fresh memory by a compiled node (not a view of
///   anything), or an input the caller handed over, read by this node alone, once, and not
///   an output of the function;
/// - a **shared variable** the node's result is the update of (`W -= lr * gW` written into
///   `W`), when no output of the function may share `W`'s memory, no other input of the node
///   may either, and every other reader of `W` (or of a view of it) runs first. Those nodes
///   are moved to the end of the schedule, where their writes are deferred until every other
///   node has succeeded, so a failed call still changes no shared variable. Whether `W`'s
///   memory is really its own (no array the caller kept, no other variable holding it) is
///   checked at each call: when it is not, the node computes into fresh memory as usual.
package struct InplacePlan {
    /// The nodes in the order they run.
    package let schedule: [Apply]
    /// For each overwriting node, the position of the input it overwrites.
    package let overwrites: [ObjectIdentifier: Int]
    /// For the nodes that overwrite a shared variable, that variable.
    let sharedTargets: [ObjectIdentifier: SharedVariable]

    /// No node overwrites anything; nodes run in the graph's order.
    package init(graph: FunctionGraph) {
        schedule = graph.nodes
        overwrites = [:]
        sharedTargets = [:]
    }

    /// - Parameters:
    ///   - updates: the shared variables updated by the graph's last `updates.count` outputs.
    ///   - overwritableInputs: the positions of graph inputs the caller hands over.
    ///   - freshOutputs: whether a node's outputs are always in memory of their own.
    ///   - overwritable: the input positions a node's runner can write its result over.
    package init(graph: FunctionGraph, updates: [SharedVariable], overwritableInputs: Set<Int> = [], freshOutputs: (Apply) -> Bool,
         overwritable: (Apply) -> [Int]) {
        let nodes = graph.nodes
        let outputs = Set(graph.outputs)
        let handedOver = Set(overwritableInputs.map { graph.inputs[$0] })
        // The updated variables whose memory each variable may share (every non-fresh node is
        // assumed to return views of all its inputs). Only those are ever asked about, so the
        // sets stay as small as the updates, whatever the graph's depth.
        let targets = Set(updates.map { $0 as Variable })
        var roots: [Variable: Set<Variable>] = [:]
        func origins(_ variable: Variable) -> Set<Variable> { roots[variable] ?? (targets.contains(variable) ? [variable] : []) }
        for node in nodes where !freshOutputs(node) {
            let inherited = node.inputs.reduce(into: Set<Variable>()) { $0.formUnion(origins($1)) }
            if !inherited.isEmpty { for output in node.outputs { roots[output] = inherited } }
        }
        func sharesMemory(_ variable: Variable, with target: Variable) -> Bool { origins(variable).contains(target) }

        // Updates written into their variable come first: an update could otherwise take an
        // intermediate's memory and leave the variable's.
        var overwrites: [ObjectIdentifier: Int] = [:]
        var sharedTargets: [ObjectIdentifier: SharedVariable] = [:]
        var deferred: [Apply] = []
        let firstUpdate = graph.outputs.count - updates.count
        for (variable, update) in zip(updates, graph.outputs[firstUpdate...]) {
            guard let node = update.owner, graph.readers(of: update).isEmpty,
                  graph.outputs.filter({ $0 == update }).count == 1,
                  let position = node.inputs.firstIndex(of: variable), overwritable(node).contains(position),
                  node.inputs.filter({ $0 == variable }).count == 1,
                  !outputs.contains(where: { sharesMemory($0, with: variable) }),
                  !node.inputs.enumerated().contains(where: { $0.offset != position && sharesMemory($0.element, with: variable) }),
                  // Deferred writes run one after another: none may read what another writes.
                  !deferred.contains(where: { other in
                      other.inputs.contains { sharesMemory($0, with: variable) }
                          || node.inputs.contains { sharesMemory($0, with: sharedTargets[ObjectIdentifier(other)]!) }
                  })
            else { continue }
            overwrites[ObjectIdentifier(node)] = position
            sharedTargets[ObjectIdentifier(node)] = variable
            deferred.append(node)
        }
        for node in nodes where overwrites[ObjectIdentifier(node)] == nil {
            for position in overwritable(node) {
                let input = node.inputs[position]
                guard input.owner.map(freshOutputs) ?? handedOver.contains(input), !outputs.contains(input),
                      graph.readers(of: input).count == 1 else { continue }
                overwrites[ObjectIdentifier(node)] = position
                break
            }
        }

        schedule = nodes.filter { sharedTargets[ObjectIdentifier($0)] == nil } + deferred
        self.overwrites = overwrites
        self.sharedTargets = sharedTargets
    }
}
