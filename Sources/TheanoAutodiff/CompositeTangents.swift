import TheanoCore
import TheanoOps

/// Forward mode through a fused elementwise program: its operations' tangents, propagated as
/// forward mode propagates them through the graph the operations came from.
extension Composite: ForwardDifferentiableOp {
    /// Forward mode through the operations, each by its op's pushforward.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        var values = node.inputs
        for operation in operations {
            values.append(try operation.op.apply(operation.operands.map { values[$0] }, at: node.location).output(0))
        }
        return try tangents(of: [values.last!], over: node.inputs, inputTangents: inputTangents, at: node)
    }
}
