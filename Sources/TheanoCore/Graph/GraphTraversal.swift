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
