/// Rules of the inline phase, the first: what only differentiation needed goes. Gradients and
/// tangents are built before a function is compiled, so by now gradient overrides are plain
/// identities and a graph-defined op is just its inner graph, which the later phases then
/// optimize together with the rest.
let inlineRules: [Rewrite] = [removeGradientOverride, inlineOpFromGraph]

/// `disconnectedGrad(x)`, `zeroGrad(x)`, `gradClip(x, …)`, `gradScale(x, …)` → `x`.
let removeGradientOverride = Rewrite.node("remove_gradient_override", on: [GradientOverride.self]) { node, _ in
    [node.inputs[0]]
}

/// An ``OpFromGraph`` node → a copy of its inner graph reading the node's inputs.
let inlineOpFromGraph = Rewrite.node("inline_op_from_graph", on: [OpFromGraph.self]) { node, _ in
    try (node.op as! OpFromGraph).expanded(over: node.inputs)
}
