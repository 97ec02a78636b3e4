import Theano

/// The mean cross-entropy of `softmax(logits)` (`[steps, batch, classes]`) against integer
/// `targets` (`[steps, batch]`) over the real steps, where `mask` is 1 (all steps without a
/// mask), in nats per step.
public func sequenceCrossentropy(_ logits: Variable, _ targets: Variable, mask: Variable? = nil) throws -> Variable {
    let losses = try flatCrossentropies(logits, targets)
    guard let mask else { return try mean(losses) }
    let weights = try flatten(cast(mask, to: logits.dtype))
    return try sum(losses * weights) / maximum(sum(weights), constant(1, dtype: logits.dtype))
}

/// The cross-entropy of `softmax(logits)` (`[steps, batch, classes]`) against integer
/// `targets` (`[steps, batch]`) at every step of every sequence: `[steps, batch]`, in nats.
public func stepCrossentropies(_ logits: Variable, _ targets: Variable) throws -> Variable {
    try reshape(flatCrossentropies(logits, targets), sizes: [targets.shape[0], targets.shape[1]])
}

/// The step cross-entropies, steps and sequences flattened into one axis.
private func flatCrossentropies(_ logits: Variable, _ targets: Variable) throws -> Variable {
    let flat = try reshape(logits, sizes: [constant(NDArray(scalar: Int64(-1))), logits.shape[2]])
    return try categoricalCrossentropy(softmax(flat), flatten(targets))
}

/// The norm stabilizer of Krueger and Memisevic ("Regularizing RNNs by Stabilizing
/// Activations", 2016): `β · mean over t ≥ 1 (and the batch) of (‖h_t‖ − ‖h_{t−1}‖)²` for the
/// outputs `h` (`[steps, batch, hidden]`); with a mask, over the steps where both `t` and
/// `t − 1` are real.
public func normStabilizerPenalty(_ h: Variable, mask: Variable? = nil, beta: Double) throws -> Variable {
    let norms = try sqrt(sum(sqr(h), axis: 2) + 1e-12)
    let changes = try sqr(norms[1...] - norms[..<(-1)])
    guard let mask else { return try beta * mean(changes) }
    let m = try cast(mask, to: h.dtype)
    let both = try m[1...] * m[..<(-1)]
    return try beta * sum(changes * both) / maximum(sum(both), constant(1, dtype: h.dtype))
}
