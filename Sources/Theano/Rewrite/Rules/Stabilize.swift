/// Rules of the stabilize phase: forms that stay finite and accurate where the naive ones
/// overflow, underflow or cancel. `grad` also applies them to the cost before
/// differentiating, so gradients are those of the stable forms.
let stabilizeRules: [Rewrite] = [
    logOfOnePlus, expMinusOne, logOfSigmoid, logOfOneMinusSigmoid, logOfSoftmax, logOfSumOfExp,
    sigmoidFromExp, reciprocalSigmoidFromExp, softmaxFromExp, crossentropyOfSoftmax,
]

/// `log(1 + x) → log1p(x)`: exact for tiny x.
let logOfOnePlus = Rewrite.pattern("log1p", .op(Log.self, .op(Add.self, 1, "x"))) { try log1p($0["x"]) }

/// `exp(x) - 1 → expm1(x)`: exact for tiny x.
let expMinusOne = Rewrite.pattern("expm1", .op(Subtract.self, .op(Exp.self, "x"), 1)) { try expm1($0["x"]) }

/// `log(sigmoid(x)) → -softplus(-x)`: finite for very negative x.
let logOfSigmoid = Rewrite.pattern("log_sigmoid", .op(Log.self, .op(Sigmoid.self, "x"))) { try -softplus(-$0["x"]) }

/// `log(1 - sigmoid(x)) → -softplus(x)`: finite for very positive x.
let logOfOneMinusSigmoid = Rewrite.pattern("log_one_minus_sigmoid", .op(Log.self, .op(Subtract.self, 1, .op(Sigmoid.self, "x")))) {
    try -softplus($0["x"])
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
let sigmoidFromExp = Rewrite.pattern("sigmoid_from_exp", .op(Divide.self, 1, .op(Add.self, 1, .op(Exp.self, .op(Negate.self, "x"))))) {
    try sigmoid($0["x"])
}

/// `reciprocal(1 + exp(-x)) → sigmoid(x)`.
let reciprocalSigmoidFromExp = Rewrite.pattern("reciprocal_sigmoid_from_exp",
                                               .op(Reciprocal.self, .op(Add.self, 1, .op(Exp.self, .op(Negate.self, "x"))))) {
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
