import TheanoCore
import TheanoOps

/// Nodes whose inputs are all constants are computed once, at compile time, with their
/// reference implementation — except collectives (``CommunicatingOp``), which must run when
/// every process runs the function. Results larger than `maximumFoldedElements` stay computed at
/// run time (folding them would only move a big allocation into the compiled function).
package let constantFolding = Rewrite.node("constant_folding") { node, _ in
    guard node.inputs.allSatisfy({ $0 is Constant }), !(node.op is Nonzero), !(node.op is any CommunicatingOp) else { return nil }
    if let size = node.outputTypes.map(\.staticSize).reduce(Int?.some(0), { a, b in a.flatMap { x in b.map { x + $0 } } }),
       size > maximumFoldedElements { return nil }
    // A node that fails on its constants is left to fail when the function runs, where the
    // error names the node (and the rule keeps folding the rest of the graph).
    guard let values = try? node.op.perform(node.inputs.map { ($0 as! Constant).value }) else { return nil }
    guard values.reduce(0, { $0 + $1.count }) <= maximumFoldedElements else { return nil }
    let constants = values.map { Constant($0, location: node.location) }
    // A size-1 result where the static type did not say 1 would change what broadcasts.
    guard zip(constants, node.outputTypes).allSatisfy({ $0.type.broadcastable == $1.broadcastable }) else { return nil }
    return constants
}

let maximumFoldedElements = 1 << 16
