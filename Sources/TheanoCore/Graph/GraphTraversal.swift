/// The nodes that compute `outputs`, each after the nodes computing its inputs. The walk
/// does not go past variables in `stoppingAt`.
package func topologicalOrder(of outputs: [Variable], stoppingAt stops: Set<Variable> = []) -> [Apply] {
    var order: [Apply] = []
    var visited = Set<ObjectIdentifier>()
    // Iterative depth-first search: deep graphs (long unrolled loops) must not overflow the stack.
    var stack: [(Apply, Bool)] = outputs.compactMap { v in stops.contains(v) ? nil : v.owner.map { ($0, false) } }
    while let (node, expanded) = stack.popLast() {
        if expanded {
            order.append(node)
            continue
        }
        guard visited.insert(ObjectIdentifier(node)).inserted else { continue }
        stack.append((node, true))
        for input in node.inputs.reversed() where !stops.contains(input) {
            if let owner = input.owner, !visited.contains(ObjectIdentifier(owner)) { stack.append((owner, false)) }
        }
    }
    return order
}

/// `updates` and the default updates (``SharedVariable/defaultUpdate``) of the shared
/// variables that `outputs`, the updates, or the default updates themselves read and that
/// `updates` leave out: what a compiled function, or a loop's step, applies. A variable a
/// loop carries (``SharedStateCarryingOp``) is updated to the loop's final value instead.
package func withDefaultUpdates(_ updates: [SharedVariable: Variable], reading outputs: [Variable]) throws -> [SharedVariable: Variable] {
    var all = updates, unread = outputs + updates.values
    while !unread.isEmpty {
        let nodes = topologicalOrder(of: unread)
        let read = unread.compactMap { $0 as? SharedVariable } + nodes.flatMap { $0.inputs.compactMap { $0 as? SharedVariable } }
        var carried: [SharedVariable: Variable] = [:]
        for node in nodes {
            guard let op = node.op as? any SharedStateCarryingOp else { continue }
            carried.merge(try op.finalValues(of: node)) { first, _ in first }
        }
        unread = []
        for variable in read where all[variable] == nil {
            guard let update = carried[variable] ?? variable.defaultUpdate else { continue }
            all[variable] = update
            unread.append(update)
        }
    }
    return all
}
