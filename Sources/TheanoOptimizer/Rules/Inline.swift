import TheanoCore
import TheanoOps

/// Rules of the inline phase, the first: what only differentiation needed goes. Gradients and
/// tangents are built before a function is compiled, so by now gradient overrides are plain
/// identities and a graph-defined op is just its inner graph, which the later phases then
/// optimize together with the rest.
package let inlineRules: [Rewrite] = [removeGradientOverride, inlineOpFromGraph]

/// `disconnectedGrad(x)`, `zeroGrad(x)`, `gradClip(x, …)`, `gradScale(x, …)` → `x`.
let removeGradientOverride = Rewrite.node("remove_gradient_override", on: [GradientOverride.self]) { node, _ in
    [node.inputs[0]]
}

/// A node of an op that stands for a graph (``InlinedOp``: ``OpFromGraph``) → a copy of
/// that graph reading the node's inputs.
let inlineOpFromGraph = Rewrite.node("inline_op_from_graph") { node, _ in
    try (node.op as? any InlinedOp)?.expanded(over: node.inputs)
}
