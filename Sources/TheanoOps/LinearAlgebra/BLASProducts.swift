import TheanoCore

/// The BLAS routines the specialize phase rewrites matrix products into, so a native
/// backend can call BLAS for them. Here they run their reference implementations.
///
/// - `Gemm`: `β·C + α·A·B` (or `α·A·B` without `C`)
/// - `Gemv`: `β·y + α·A·x` (or `α·A·x` without `y`)
/// - `Ger`: `A + α·x·yᵀ`
///
/// `α` and `β` are 0-d inputs of the matrices' dtype. These ops appear only in optimized
/// graphs, after reverse-mode differentiation, so they have no pullback; their pushforward
/// follows from the product rule.
public struct Gemm: ForwardDifferentiableOp, ShapeInferringOp {
    /// Whether the first input is a `C` the product is added to.
    public let accumulates: Bool

    package init(accumulates: Bool) {
        self.accumulates = accumulates
    }
    public var description: String { accumulates ? "gemm" : "gemm{no_c}" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        try blasTypes(inputs, accumulates: accumulates, ranks: [2, 2], result: 2)
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let (alpha, a, b) = accumulates ? (inputs[1], inputs[2], inputs[3]) : (inputs[0], inputs[1], inputs[2])
        guard a.shape[1] == b.shape[0] else { throw innerDimensionsDiffer(a.shape, b.shape) }
        let product = a.matrixProduct(b)
        return [try blasCombine(product, alpha: alpha, accumulated: accumulates ? (inputs[0], inputs[4]) : nil)]
    }

    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        [try blasPushforward(node, inputTangents: inputTangents, accumulates: accumulates, product: Gemm(accumulates: false))]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        let offset = accumulates ? 1 : 0
        return [[inputShapes[offset + 1][0], inputShapes[offset + 2][1]]]
    }
}

/// The matrix-vector product `β·y + α·A·x` (or `α·A·x` without `y`), BLAS's `gemv` (see
/// ``Gemm`` for the family).
public struct Gemv: ForwardDifferentiableOp, ShapeInferringOp {
    /// Whether the first input is a `y` the product is added to.
    public let accumulates: Bool

    package init(accumulates: Bool) {
        self.accumulates = accumulates
    }
    public var description: String { accumulates ? "gemv" : "gemv{no_y}" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        try blasTypes(inputs, accumulates: accumulates, ranks: [2, 1], result: 1)
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let (alpha, a, x) = accumulates ? (inputs[1], inputs[2], inputs[3]) : (inputs[0], inputs[1], inputs[2])
        guard a.shape[1] == x.shape[0] else { throw innerDimensionsDiffer(a.shape, x.shape) }
        let product = a.matrixProduct(x.expanded([0, nil])).reshaped([a.shape[0]])
        return [try blasCombine(product, alpha: alpha, accumulated: accumulates ? (inputs[0], inputs[4]) : nil)]
    }

    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        [try blasPushforward(node, inputTangents: inputTangents, accumulates: accumulates, product: Gemv(accumulates: false))]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        [[inputShapes[accumulates ? 2 : 1][0]]]
    }
}

/// The rank-1 update `A + α·x·yᵀ`, BLAS's `ger` (see ``Gemm`` for the family).
public struct Ger: ForwardDifferentiableOp, ShapeInferringOp {
    package init() {}

    public var description: String { "ger" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (a, alpha, x, y) = (inputs[0], inputs[1], inputs[2], inputs[3])
        guard a.ndim == 2, alpha.ndim == 0, x.ndim == 1, y.ndim == 1, [alpha, x, y].allSatisfy({ $0.dtype == a.dtype }), a.dtype.isFloat else {
            throw OpError("expects a float matrix, a scalar and two vectors of its dtype")
        }
        return [a]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let (a, alpha, x, y) = (inputs[0], inputs[1], inputs[2], inputs[3])
        guard a.shape == [x.shape[0], y.shape[0]] else { throw OpError("outer product \(x.shape[0])×\(y.shape[0]) does not fit \(shapeText(a.shape))") }
        let outer = x.expanded([0, nil]).matrixProduct(y.expanded([nil, 0]))
        return [try blasCombine(outer, alpha: alpha, accumulated: (a, NDArray(scalar: 1, dtype: a.dtype)))]
    }

    /// `tA + (α·x·yᵀ)'` by the product rule.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        let outerProduct = try productRule(Array(node.inputs[1...3]), tangents: Array(inputTangents[1...3])) {
            try $0[0] * outer($0[1], $0[2])
        }
        guard let ta = inputTangents[0] else { return [outerProduct] }
        return [try outerProduct.adding(ta)]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { [inputShapes[0]] }
}

/// The tangent of `β·C + α·product(A, B)` (Gemm, Gemv) by the product rule: over `α`, `A`
/// and `B` with `product` (the op without accumulator), and over `β·C`.
private func blasPushforward(_ node: Apply, inputTangents: [Variable?], accumulates: Bool, product: some Op) throws -> Variable? {
    let factors = accumulates ? 1...3 : 0...2
    let scaled = try productRule(Array(node.inputs[factors]), tangents: Array(inputTangents[factors])) { try product($0, at: node.location) }
    guard accumulates, let kept = try productRule([node.inputs[4], node.inputs[0]], tangents: [inputTangents[4], inputTangents[0]], { try $0[0] * $0[1] })
    else { return scaled }
    return try scaled.adding(kept)
}

/// Checks the inputs of Gemm/Gemv: optional accumulator and β, scalar α, operands of the
/// given ranks, one float dtype.
private func blasTypes(_ inputs: [TensorType], accumulates: Bool, ranks: [Int], result: Int) throws -> [TensorType] {
    let operands = accumulates ? Array(inputs[1...3]) : inputs
    guard operands.count == 3, operands[0].ndim == 0, operands[1].ndim == ranks[0], operands[2].ndim == ranks[1] else {
        throw OpError("expects α, then operands of ranks \(ranks)")
    }
    let dtype = operands[1].dtype
    guard dtype.isFloat, inputs.allSatisfy({ $0.dtype == dtype }) else { throw OpError("expects one float dtype") }
    if let m = operands[1].shape[1], let n = operands[2].shape[0], m != n { throw OpError("inner dimensions \(m) and \(n) differ") }
    let shape = ranks[1] == 2 ? [operands[1].shape[0], operands[2].shape[1]] : [operands[1].shape[0]]
    if accumulates {
        guard inputs.count == 5, inputs[4].ndim == 0, inputs[0].ndim == result, TensorType(dtype, shape: shape).fits(inputs[0].with(dtype: dtype)) else {
            throw OpError("the accumulator must have the product's shape, and β be a scalar")
        }
        return [inputs[0]]
    }
    return [TensorType(dtype, shape: shape)]
}

/// `α·product`, plus `β·C` when there is an accumulator.
private func blasCombine(_ product: NDArray, alpha: NDArray, accumulated: (NDArray, NDArray)?) throws -> NDArray {
    let scaled = try Multiply().perform([product, alpha.expanded(product.shape.map { _ in nil })])[0]
    guard let (c, beta) = accumulated else { return scaled }
    guard c.shape == product.shape else { throw OpError("accumulator of shape \(shapeText(c.shape)) does not fit \(shapeText(product.shape))") }
    let kept = try Multiply().perform([c, beta.expanded(c.shape.map { _ in nil })])[0]
    return try Add().perform([kept, scaled])[0]
}
