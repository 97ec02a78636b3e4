import TheanoCore
import TheanoOps

/// Rules of the specialize phase: cheaper forms of the same values, matrix products as BLAS
/// calls, convolutions as patches and matrix products, reductions as compiled kernels.
package let specializeRules: [Rewrite] = [
    powerToSquare, powerToSquareRoot, powerToReciprocal, powerToProducts, productWithItself,
    divisionByConstant, multiplicationByMinusOne, multiplicationByZero, negationOfNegation,
    gemmFromSum, gemvFromSum, gerFromSum, convolutionToMatrixProducts, reductionOverRuns,
] + matrixSpecializeRules

/// The exponent of `pow(x, c)` when it is a constant the same everywhere.
private func constantExponent(_ node: Apply) -> Double? {
    node.inputs[1].constantScalar.flatMap { node.inputs[0].type.broadcastable == node.outputTypes[0].broadcastable ? $0 : nil }
}

/// `x ** 2 → sqr(x)`.
let powerToSquare = Rewrite.node("pow_to_sqr", on: [Power.self]) { node, _ in
    constantExponent(node) == 2 ? [try sqr(node.inputs[0])] : nil
}

/// `x ** 0.5 → sqrt(x)` (floats).
let powerToSquareRoot = Rewrite.node("pow_to_sqrt", on: [Power.self]) { node, _ in
    constantExponent(node) == 0.5 && node.inputs[0].dtype.isFloat ? [try sqrt(node.inputs[0])] : nil
}

/// `x ** -1 → reciprocal(x)` (floats).
let powerToReciprocal = Rewrite.node("pow_to_reciprocal", on: [Power.self]) { node, _ in
    constantExponent(node) == -1 && node.inputs[0].dtype.isFloat ? [try reciprocal(node.inputs[0])] : nil
}

/// `x ** n` for an integer `n` of magnitude 3…16 by repeated squaring and multiplying (and
/// a reciprocal for negative `n`, floats only).
let powerToProducts = Rewrite.node("pow_to_products", on: [Power.self]) { node, _ in
    guard let exponent = constantExponent(node), exponent.rounded() == exponent, (3...16).contains(Swift.abs(exponent)),
          exponent > 0 || node.inputs[0].dtype.isFloat else { return nil }
    var remaining = Int(Swift.abs(exponent)), square = node.inputs[0], result: Variable? = nil
    while remaining > 0 {
        if remaining & 1 == 1 { result = try result.map { try $0 * square } ?? square }
        remaining >>= 1
        if remaining > 0 { square = try sqr(square) }
    }
    return [exponent < 0 ? try reciprocal(result!) : result!]
}

/// `x * x → sqr(x)`.
let productWithItself = Rewrite.pattern("mul_self_to_sqr", .op(Multiply.self, "x", "x")) { try sqr($0["x"]) }

/// `x / c → x * (1 / c)` for a float constant `c`: a multiply is cheaper than a divide.
/// (The two may differ in the last bit when `1 / c` is not exact.)
let divisionByConstant = Rewrite.node("div_by_constant", on: [Divide.self]) { node, _ in
    guard let divisor = node.inputs[1].constantScalar, divisor != 0, divisor.isFinite,
          node.inputs[0].type.broadcastable == node.outputTypes[0].broadcastable else { return nil }
    return [try node.inputs[0] * Constant(NDArray(scalar: 1 / divisor, dtype: node.outputTypes[0].dtype), location: node.location)]
}

/// `x * -1 → -x`.
let multiplicationByMinusOne = Rewrite.node("mul_by_minus_one", on: [Multiply.self]) { node, _ in
    guard let side = node.inputs.firstIndex(where: { $0.constantScalar == -1 }) else { return nil }
    let x = node.inputs[1 - side]
    return x.type.broadcastable == node.outputTypes[0].broadcastable ? [try -x] : nil
}

/// `x * 0 → 0` for integers (for floats, `inf * 0` is NaN, so the product stays).
let multiplicationByZero = Rewrite.node("mul_by_zero", on: [Multiply.self]) { node, _ in
    guard node.outputTypes[0].dtype.isInteger, node.inputs.contains(where: { $0.constantScalar == 0 }) else { return nil }
    // The driver broadcasts the zero to the product's shape.
    return [try Constant(NDArray(scalar: 0, dtype: node.outputTypes[0].dtype), location: node.location)
        .padded(toRank: node.outputTypes[0].ndim, at: node.location)]
}

// MARK: - BLAS

/// A term of a sum: `scale · value` with a constant scale.
private struct ScaledTerm {
    let value: Variable
    let scale: Double

    init(_ variable: Variable, sign: Double) {
        if let node = variable.owner, node.op is Multiply, let side = node.inputs.firstIndex(where: { $0.constantScalar != nil }) {
            value = node.inputs[1 - side]
            scale = sign * node.inputs[side].constantScalar!
        } else if let node = variable.owner, node.op is Negate {
            value = node.inputs[0]
            scale = -sign
        } else {
            value = variable
            scale = sign
        }
    }

    /// The node computing `value`, if it is an application of `type`.
    func producer<O: Op>(_ type: O.Type) -> (Apply, O)? {
        guard let node = value.owner, let op = node.op as? O else { return nil }
        return (node, op)
    }
}

/// Reads `a + b` or `a - b` as two scaled terms.
private func scaledTerms(_ node: Apply) -> [ScaledTerm] {
    [ScaledTerm(node.inputs[0], sign: 1), ScaledTerm(node.inputs[1], sign: node.op is Subtract ? -1 : 1)]
}

private func scalar(_ value: Double, _ dtype: DType, _ location: SourceLocation) -> Constant {
    Constant(NDArray(scalar: value, dtype: dtype), location: location)
}

/// `β·C + α·dot(A, B) → gemm(C, α, A, B, β)` for matrices, `C` not broadcast (Theano's
/// gemm optimizer; SGD's `W - lr * dot(x.T, g)` becomes one gemm).
let gemmFromSum = Rewrite.node("gemm", on: [Add.self, Subtract.self]) { node, _ in
    try accumulatedProduct(node, rightRank: 2) { Gemm(accumulates: true) }
}

/// `β·y + α·dot(A, x) → gemv(y, α, A, x, β)` for a matrix and vectors.
let gemvFromSum = Rewrite.node("gemv", on: [Add.self, Subtract.self]) { node, _ in
    try accumulatedProduct(node, rightRank: 1) { Gemv(accumulates: true) }
}

/// `β·C + α·dot(A, B)` as one BLAS call made by `blas` (its inputs `C, α, A, B, β`), when the
/// sum is of a float matrix `A` times an operand of `rightRank` and neither the product nor
/// the accumulator is broadcast.
private func accumulatedProduct(_ node: Apply, rightRank: Int, _ blas: () -> any Op) throws -> [Variable]? {
    let output = node.outputTypes[0]
    guard output.ndim == rightRank, output.dtype.isFloat else { return nil }
    let terms = scaledTerms(node)
    for (productIndex, product) in terms.enumerated() {
        // The product must have the sum's shape: BLAS does not broadcast it.
        guard let (dot, _) = product.producer(Dot.self), dot.inputs[0].ndim == 2, dot.inputs[1].ndim == rightRank,
              dot.outputTypes[0].broadcastable == output.broadcastable else { continue }
        let accumulator = terms[1 - productIndex]
        guard accumulator.value.type.broadcastable == output.broadcastable, accumulator.value.ndim == rightRank else { continue }
        let location = node.location
        let inputs = [accumulator.value, scalar(product.scale, output.dtype, location), dot.inputs[0], dot.inputs[1],
                      scalar(accumulator.scale, output.dtype, location)]
        return [try blas().apply(inputs, at: location).output(0)]
    }
    return nil
}

/// `A + α·outer(x, y) → ger(A, α, x, y)`: a rank-1 update.
let gerFromSum = Rewrite.node("ger", on: [Add.self, Subtract.self]) { node, _ in
    let output = node.outputTypes[0]
    guard output.ndim == 2, output.dtype.isFloat else { return nil }
    let terms = scaledTerms(node)
    for (productIndex, product) in terms.enumerated() {
        guard let (multiply, _) = product.producer(Multiply.self), multiply.outputTypes[0].broadcastable == output.broadcastable,
              let column = outerOperand(multiply.inputs[0], pattern: [0, .newAxis]),
              let row = outerOperand(multiply.inputs[1], pattern: [.newAxis, 0]) else { continue }
        let accumulator = terms[1 - productIndex]
        guard accumulator.scale == 1, accumulator.value.type.broadcastable == output.broadcastable else { continue }
        return [try Ger()([accumulator.value, scalar(product.scale, output.dtype, node.location), column, row], at: node.location)]
    }
    return nil
}

/// The vector `v` when `variable` is `v` dimshuffled by `pattern` (a column or a row).
private func outerOperand(_ variable: Variable, pattern: [DimPattern]) -> Variable? {
    guard let node = variable.owner, let shuffle = node.op as? DimShuffle, shuffle.pattern == pattern else { return nil }
    return node.inputs[0]
}

/// `dot(A, x) → gemv(1, A, x)` for a float matrix and vector.
package let matrixVectorProduct = Rewrite.node("dot_to_gemv", on: [Dot.self]) { node, _ in
    let (a, x) = (node.inputs[0], node.inputs[1])
    guard a.ndim == 2, x.ndim == 1, a.dtype.isFloat else { return nil }
    return [try Gemv(accumulates: false)([scalar(1, a.dtype, node.location), a, x], at: node.location)]
}

/// A reduction over axes that are not one run (`sum(x, axes: [0, 2, 3])`, a convolution's
/// bias gradient) → a reduction over the last run, then one over the others: each is a
/// compiled kernel over `[A, R, B]`, where the whole would run the reference implementation.
let reductionOverRuns = Rewrite.node("reduce_over_runs", on: [Reduce.self]) { node, _ in
    let op = node.op as! Reduce
    var start = op.axes.count - 1
    while start > 0, op.axes[start - 1] == op.axes[start] - 1 { start -= 1 }
    guard start > 0 else { return nil }
    let inner = try Reduce(kind: op.kind, axes: Array(op.axes[start...]), keepDims: op.keepDims)([node.inputs[0]], at: node.location)
    return [try Reduce(kind: op.kind, axes: Array(op.axes[..<start]), keepDims: op.keepDims)([inner], at: node.location)]
}
