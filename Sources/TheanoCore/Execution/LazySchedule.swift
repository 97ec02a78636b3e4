/// An op that needs only some of its inputs on each call: its first input (the condition)
/// picks one of its branches, each a run of the other inputs. The lazy schedule runs the
/// nodes that only one branch needs just when that branch is taken; the op receives
/// ``NDArray/notComputed`` for the inputs of the branches not taken.
package protocol LazyBranchingOp: Op {
    /// The positions of each branch's inputs.
    var branches: [Range<Int>] { get }
    /// The branch taken when the condition's value is `condition`.
    func branch(takenFor condition: NDArray) -> Int
}

/// The order of a graph's nodes with lazy branches (``LazyBranchingOp``, such as
/// ``IfElse``): the nodes only one branch needs (its *exclusive* nodes) run only when that
/// branch is taken.
///
/// A node is exclusive to a branch when every reader of its outputs is that branch's input
/// of the branching node or another node exclusive to it, and it is not an output.
/// Exclusive nodes are moved to just before their innermost branching node (after its
/// condition), and each gets the conditions it needs — outermost first, so an inner
/// condition is only read once the outer ones chose the branch it is in.
package struct LazySchedule {
    /// The nodes in the order they run.
    package let nodes: [Apply]
    /// For each exclusive node, the conditions (outermost first) and the branch each must take.
    let guards: [ObjectIdentifier: [Guard]]

    /// A condition a node runs under: `op` must take `branch` for the value of `condition`.
    struct Guard {
        let condition: Variable
        let op: any LazyBranchingOp
        let branch: Int

        package init(condition: Variable, op: any LazyBranchingOp, branch: Int) {
            self.condition = condition
            self.op = op
            self.branch = branch
        }
    }

    package init(_ schedule: [Apply], outputs: [Variable]) {
        let branchings = schedule.filter { $0.op is any LazyBranchingOp }
        guard !branchings.isEmpty else {
            nodes = schedule
            guards = [:]
            return
        }
        let position = Dictionary(uniqueKeysWithValues: schedule.enumerated().map { (ObjectIdentifier($1), $0) })
        var readers: [Variable: [(node: Apply, position: Int)]] = [:]
        for node in schedule {
            for (index, input) in node.inputs.enumerated() { readers[input, default: []].append((node, index)) }
        }
        let outputs = Set(outputs)

        var guards: [ObjectIdentifier: [(rule: Guard, depth: Int)]] = [:]
        var innermost: [ObjectIdentifier: Apply] = [:]
        for branching in branchings {
            let op = branching.op as! any LazyBranchingOp
            for (branch, inputs) in op.branches.enumerated() {
                var exclusive = Set<ObjectIdentifier>()
                for node in schedule[..<position[ObjectIdentifier(branching)]!].reversed() {
                    let feedsOnlyTheBranch = node.outputs.allSatisfy { output in
                        !outputs.contains(output) && readers[output, default: []].allSatisfy { reader in
                            reader.node === branching ? inputs.contains(reader.position) : exclusive.contains(ObjectIdentifier(reader.node))
                        }
                    }
                    guard feedsOnlyTheBranch, node.outputs.contains(where: { readers[$0] != nil }) else { continue }
                    exclusive.insert(ObjectIdentifier(node))
                    // Outer branchings come later in the schedule.
                    guards[ObjectIdentifier(node), default: []].append((Guard(condition: branching.inputs[0], op: op, branch: branch),
                                                                        position[ObjectIdentifier(branching)]!))
                    if let current = innermost[ObjectIdentifier(node)], position[ObjectIdentifier(current)]! < position[ObjectIdentifier(branching)]! {
                        continue
                    }
                    innermost[ObjectIdentifier(node)] = branching
                }
            }
        }
        self.guards = guards.mapValues { $0.sorted { $0.depth > $1.depth }.map(\.rule) }

        // Each node with an innermost branching runs just before it, in the original order.
        var members: [ObjectIdentifier: [Apply]] = [:]
        for node in schedule { if let owner = innermost[ObjectIdentifier(node)] { members[ObjectIdentifier(owner), default: []].append(node) } }
        var order: [Apply] = []
        func emit(_ node: Apply) {
            for member in members[ObjectIdentifier(node)] ?? [] { emit(member) }
            order.append(node)
        }
        for node in schedule where innermost[ObjectIdentifier(node)] == nil { emit(node) }
        nodes = order
    }
}
