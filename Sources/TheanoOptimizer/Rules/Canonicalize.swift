import TheanoCore
import TheanoOps

/// Rules of the canonicalize phase: algebraic canonical forms that later phases match.
package let canonicalizeRules: [Rewrite] = [
    addCanonizer, mulCanonizer, negationOfNegation, liftDimShuffle, sumOfScaled, liftSubtensor, reduceOfReduce, joinSliceGradients,
] + sparseCanonicalizeRules

/// `x - x → 0`, `x + 0 → x`, `(x + 2) + 3 → x + 5`, …
let addCanonizer = Rewrite.node("add_canonizer", on: [Add.self, Subtract.self, Negate.self]) { node, context in
    try AlgebraicCanonizer(family: .additive).rewrite(node, context)
}

/// `x * y / x → y`, `x * 1 → x`, `(2 * x) / 4 → x * 0.5`, …
let mulCanonizer = Rewrite.node("mul_canonizer", on: [Multiply.self, Divide.self, Reciprocal.self]) { node, context in
    try AlgebraicCanonizer(family: .multiplicative).rewrite(node, context)
}

/// `-(-x) → x`.
let negationOfNegation = Rewrite.pattern("neg_neg", .op(Negate.self, .op(Negate.self, "x"))) { $0["x"] }

/// `dimshuffle(f(a, b)) → f(dimshuffle(a), dimshuffle(b))` for an elementwise `f` read only
/// by the dimshuffle: dimshuffles move toward the inputs, where they merge or fold into
/// constants.
let liftDimShuffle = Rewrite.node("lift_dimshuffle", on: [DimShuffle.self]) { node, context in
    let shuffled = node.inputs[0]
    guard let inner = shuffled.owner, let op = inner.op as? any ElementwiseOp, context.readerCount(of: shuffled) == 1 else { return nil }
    let shuffle = node.op as! DimShuffle
    let operands = try inner.inputs.map { try shuffle([$0], at: node.location) }
    return [try op(operands, at: inner.location)]
}

/// `sum(x * c) → sum(x) * c` for a constant `c` that is the same everywhere: one multiply
/// instead of one per element.
let sumOfScaled = Rewrite.node("sum_of_scaled", on: [Reduce.self]) { node, context in
    let reduce = node.op as! Reduce
    guard reduce.kind == .sum, node.outputTypes[0].dtype.isFloat, let product = node.inputs[0].owner, product.op is Multiply,
          context.readerCount(of: node.inputs[0]) == 1 else { return nil }
    // A finite scale: sum(x * inf) is NaN when x holds a zero, inf * sum(x) may not be.
    guard let constantSide = product.inputs.firstIndex(where: { $0.constantScalar?.isFinite == true }) else { return nil }
    let x = product.inputs[1 - constantSide]
    guard x.type.broadcastable == product.outputTypes[0].broadcastable, x.dtype == node.inputs[0].dtype else { return nil }
    let scale = Constant(NDArray(scalar: product.inputs[constantSide].constantScalar!, dtype: node.outputTypes[0].dtype), location: node.location)
    return [try reduce([x], at: node.location) * scale]
}

/// `f(a, b)[i] → f(a[i], b[i])` for an elementwise `f` read only by the subscript, when
/// every operand's static shape is fully known and the same (so no shape check is lost):
/// only the selected elements are computed.
let liftSubtensor = Rewrite.node("lift_subtensor", on: [Subtensor.self]) { node, context in
    let selected = node.inputs[0]
    guard let inner = selected.owner, let op = inner.op as? any ElementwiseOp, context.readerCount(of: selected) == 1,
          selected.type.staticSize != nil, inner.inputs.allSatisfy({ $0.type.shape == selected.type.shape }) else { return nil }
    let bounds = Array(node.inputs.dropFirst())
    let operands = try inner.inputs.map { try node.op([$0] + bounds, at: node.location) }
    return [try op(operands, at: inner.location)]
}

/// `sum(sum(x, a), b) → sum(x, a ∪ b)` (and the same for prod, max, min, all, any): one
/// pass over the data instead of two.
let reduceOfReduce = Rewrite.node("reduce_of_reduce", on: [Reduce.self]) { node, context in
    let outer = node.op as! Reduce
    guard let innerNode = node.inputs[0].owner, let inner = innerNode.op as? Reduce, inner.kind == outer.kind,
          context.readerCount(of: node.inputs[0]) == 1 else { return nil }
    // The input dimensions that survive the inner reduction, in order.
    let x = innerNode.inputs[0]
    let surviving = inner.keepDims ? Array(0..<x.ndim) : (0..<x.ndim).filter { !inner.axes.contains($0) }
    let combined = Set(inner.axes).union(outer.axes.map { surviving[$0] }).sorted()
    if inner.keepDims && !outer.keepDims && !Set(inner.axes).isSubset(of: Set(outer.axes)) { return nil }
    let keepDims = outer.keepDims && (inner.keepDims || inner.axes.isEmpty)
    let reduced = try Reduce(kind: outer.kind, axes: combined, keepDims: keepDims)([x], at: node.location)
    return reduced.type.broadcastable == node.outputTypes[0].broadcastable ? [reduced] : nil
}
