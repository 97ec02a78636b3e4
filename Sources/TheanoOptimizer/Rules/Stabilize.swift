import TheanoCore
import TheanoOps

/// Rules of the stabilize phase: forms that stay finite and accurate where the naive ones
/// overflow, underflow or cancel. `grad` also applies them to the cost before
/// differentiating, so gradients are those of the stable forms. The elementwise families
/// also match beneath the casts and broadcasts that mixed dtypes and shapes put between
/// their ops (`log(1 + cast(exp(x)))`, `ones([2, 3]) - sigmoid(x)`).
package let stabilizeRules: [Rewrite] = [
    logOfOnePlus, logOfOneMinus, expMinusOne, oneMinusSigmoid, logOfSigmoid, softplusFromExp, logOneMinusExpFromExp,
    logOfExp, expOfLog, logOfSoftmax, logOfSumOfExp, sigmoidFromExp, reciprocalSigmoidFromExp, softmaxFromExp, crossentropyOfSoftmax,
] + matrixStabilizeRules

/// The stabilize rules' shorthand for ``Pattern/underCastsAndBroadcasts(_:)``.
private func under(_ pattern: Pattern) -> Pattern { .underCastsAndBroadcasts(pattern) }

/// `log(1 + x) → log1p(x)`: exact for tiny x.
let logOfOnePlus = Rewrite.pattern("log1p", .op(Log.self, under(.op(Add.self, 1, "x")))) { try log1p($0["x"]) }

/// `log(1 - x) → log1p(-x)`: exact for tiny x (and `log(1 - exp(x))` then becomes
/// `log1mexp(x)`).
let logOfOneMinus = Rewrite.pattern("log1p_of_difference", .op(Log.self, under(.op(Subtract.self, 1, "x")))) { try log1p(-$0["x"]) }

/// `exp(x) - 1 → expm1(x)`: exact for tiny x.
package let expMinusOne = Rewrite.pattern("expm1", .op(Subtract.self, under(.op(Exp.self, "x")), 1)) { try expm1($0["x"]) }

/// `1 - sigmoid(x) → sigmoid(-x)`: no cancellation for large x (`log(1 - sigmoid(x))` then
/// becomes `-softplus(x)`).
let oneMinusSigmoid = Rewrite.pattern("one_minus_sigmoid", .op(Subtract.self, 1, under(.op(Sigmoid.self, "x")))) {
    try sigmoid(negated($0["x"]))
}

/// `log(sigmoid(x)) → -softplus(-x)`: finite for very negative x.
let logOfSigmoid = Rewrite.pattern("log_sigmoid", .op(Log.self, under(.op(Sigmoid.self, "x")))) { try -softplus(negated($0["x"])) }

/// `log1p(exp(x)) → softplus(x)` (and so `log(1 + exp(x))`): finite for large x.
let softplusFromExp = Rewrite.pattern("softplus", .op(LogOnePlus.self, under(.op(Exp.self, "x")))) { try softplus($0["x"]) }

/// `log1p(-exp(x)) → log1mexp(x)` (and so `log(1 - exp(x))`): accurate near 0, where
/// `exp(x)` is near 1, and far below it, where `1 - exp(x)` rounds to 1.
let logOneMinusExpFromExp = Rewrite.pattern("log1mexp", .op(LogOnePlus.self, under(.op(Negate.self, under(.op(Exp.self, "x")))))) {
    try log1mexp($0["x"])
}

/// `log(exp(x)) → x`: exact, where `exp(x)` overflows or underflows.
let logOfExp = Rewrite.pattern("log_exp", .op(Log.self, under(.op(Exp.self, "x")))) { $0["x"] }

/// `exp(log(x)) → x` where `log(x)` is defined (x ≥ 0, -0 included), NaN elsewhere, as
/// PyTensor: exact, with derivative 1 where the naive one is NaN (`0 · ∞` at 0, `∞ / ∞` at
/// ∞), and 0 where the value is NaN. Where the naive form gives +0 for -0, this gives -0.
let expOfLog = Rewrite.pattern("exp_log", .op(Exp.self, under(.op(Log.self, "x")))) { match in
    let x = match["x"]
    return try `switch`(ge(x, 0), x, constant(.nan, dtype: x.dtype))
}

/// `x` without its negation when it is `-y`, else `-x`: what the rules that negate their
/// operand build, so that `1 - sigmoid(-y)` becomes `sigmoid(y)`.
private func negated(_ x: Variable) throws -> Variable {
    if let node = x.owner, node.op is Negate { return node.inputs[0] }
    return try -x
}

/// `log(softmax(x)) → logSoftmax(x)` along the same axis: no log of an underflowed probability.
let logOfSoftmax = Rewrite.pattern("log_softmax", .op(Log.self, .op(Softmax.self, "x"))) { match in
    let softmax = match.root.owner!.inputs[0].owner!.op as! Softmax
    return try LogSoftmax(axis: softmax.axis)([match["x"]], at: match.root.location)
}

/// `log(sum(exp(x))) → logsumexp(x)` with the maximum subtracted first.
let logOfSumOfExp = Rewrite.pattern("logsumexp", .op(Log.self, .op(Reduce.self, .op(Exp.self, "x"), where: { $0.kind == .sum }))) { match in
    let reduce = match.root.owner!.inputs[0].owner!.op as! Reduce
    return try LogSumExp(axes: reduce.axes, keepDims: reduce.keepDims)([match["x"]], at: match.root.location)
}

/// `1 / (1 + exp(-x)) → sigmoid(x)`.
let sigmoidFromExp = Rewrite.pattern("sigmoid_from_exp",
                                     .op(Divide.self, 1, under(.op(Add.self, 1, under(.op(Exp.self, .op(Negate.self, "x"))))))) {
    try sigmoid($0["x"])
}

/// `reciprocal(1 + exp(-x)) → sigmoid(x)`.
let reciprocalSigmoidFromExp = Rewrite.pattern("reciprocal_sigmoid_from_exp",
                                               .op(Reciprocal.self, under(.op(Add.self, 1, under(.op(Exp.self, .op(Negate.self, "x"))))))) {
    try sigmoid($0["x"])
}

/// `exp(x) / sum(exp(x), axis, keepDims) → softmax(x, axis)`, which subtracts the maximum.
let softmaxFromExp = Rewrite.pattern("softmax_from_exp", .op(Divide.self, .op(Exp.self, "x"),
    .op(Reduce.self, .op(Exp.self, "x"), where: { $0.kind == .sum && $0.keepDims && $0.axes.count == 1 }))) { match in
    let reduce = match.root.owner!.inputs[1].owner!.op as! Reduce
    return try Softmax(axis: reduce.axes[0])([match["x"]], at: match.root.location)
}

/// `-log(softmax(x)[arange(rows), y]) → crossentropy_softmax(x, y)` — or, with the classes
/// along the first axis, `-log(softmax(x, axis: 0)[y, arange(columns)])`: one op, stable for
/// any logits, whose gradient is `softmax(x) - onehot(y)`.
let crossentropyOfSoftmax = Rewrite.pattern("crossentropy_softmax",
    .op(Negate.self, .op(Log.self, .op(AdvancedSubtensor.self, .op(Softmax.self, "x"), "first", "second")))) { match in
    let x = match["x"]
    let probabilities = match.root.owner!.inputs[0].owner!.inputs[0].owner!.inputs[0]
    let axis = (probabilities.owner!.op as! Softmax).axis
    guard x.ndim == 2 else { return nil }
    let (samples, labels) = axis == 1 ? (match["first"], match["second"]) : (match["second"], match["first"])
    guard labels.ndim == 1, enumerates(samples, axis: 1 - axis, of: [x, probabilities]) else { return nil }
    return try CrossentropySoftmax(axis: axis)([x, labels], at: match.root.location)
}

/// Whether `indices` is `arange(n)` — or the constant `0 ..< n` it folds into — with `n` the
/// size of the candidates along `axis`.
private func enumerates(_ indices: Variable, axis: Int, of candidates: [Variable]) -> Bool {
    if let constant = indices as? Constant {
        let values = constant.value.elements(as: Int64.self)
        return values == (0..<Int64(values.count)).map { $0 } && candidates.contains { SymbolicSize(of: $0, axis: axis) == .constant(values.count) }
    }
    guard let node = indices.owner, node.op is Arange, node.inputs[0].constantScalar == 0, node.inputs[2].constantScalar == 1 else { return false }
    let stop = SymbolicSize(node.inputs[1])
    return candidates.contains { SymbolicSize(of: $0, axis: axis) == stop }
}

/// `outputs` rewritten into their numerically stable form (merged, then the stabilize
/// rules), with the graph copied down to `stops`, which are kept as they are; `outputs`
/// themselves if nothing changed. Differentiation starts from this form.
package func stabilizedForm(_ outputs: [Variable], keeping stops: [Variable]) throws -> [Variable] {
    let graph = try FunctionGraph(inputs: stops, outputs: outputs, copyingInputs: false)
    var report = RewriteReport()
    _ = try mergeEquivalentNodes.run(graph)
    RewriteDriver(phase: RewritePhase.stabilize.rawValue, rules: stabilizeRules, strategy: .equilibrium(maxPasses: 20))
        .run(on: graph, report: &report, trace: false, check: false)
    return report.counts.isEmpty ? outputs : graph.outputs
}
