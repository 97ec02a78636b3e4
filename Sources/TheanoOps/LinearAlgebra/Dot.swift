import TheanoCore

/// The dot product of vectors and matrices: vector·vector (a scalar), matrix·vector,
/// vector·matrix and matrix·matrix.
public struct Dot: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    package init() {}

    public var description: String { "dot" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (a, b) = (inputs[0], inputs[1])
        guard (1...2).contains(a.ndim), (1...2).contains(b.ndim) else {
            throw OpError("operands must be vectors or matrices")
        }
        guard a.dtype == b.dtype, a.dtype != .bool else { throw OpError("operands must share a numeric dtype") }
        let inner = (a.shape.last!, b.shape[0])
        if let left = inner.0, let right = inner.1, left != right {
            throw OpError("inner dimensions \(left) and \(right) differ")
        }
        let shape = Array(a.shape.dropLast()) + Array(b.shape.dropFirst())
        return [TensorType(a.dtype, shape: shape)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let (a, b) = (inputs[0], inputs[1])
        guard a.shape.last! == b.shape[0] else { throw innerDimensionsDiffer(a.shape, b.shape) }
        let left = a.ndim == 1 ? a.expanded([nil, 0]) : a
        let right = b.ndim == 1 ? b.expanded([0, nil]) : b
        let product = left.matrixProduct(right)
        return [product.reshaped(Array(a.shape.dropLast()) + Array(b.shape.dropFirst()))]
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        let (a, b) = (node.inputs[0], node.inputs[1])
        guard let g = outputGradients[0], a.dtype.isFloat else { return [nil, nil] }
        switch (a.ndim, b.ndim) {
        case (1, 1): return [try g * b, try g * a]
        case (2, 1): return [try outer(g, b), try dot(a.T, g)]
        case (1, 2): return [try dot(b, g), try outer(a, g)]
        default: return [try dot(g, b.T), try dot(a.T, g)]
        }
    }

    /// `dot(ta, b) + dot(a, tb)`.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        [try productRule(node.inputs, tangents: inputTangents) { try self($0, at: node.location) }]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        [Array(inputShapes[0].dropLast()) + Array(inputShapes[1].dropFirst())]
    }
}

/// The dot product, as NumPy's `dot` for operands of any rank: vector·vector (a scalar),
/// matrix·vector, vector·matrix and matrix·matrix; a 0-d operand multiplies elementwise; an
/// N-d `a` and an M-d `b` contract the last axis of `a` with the second-to-last axis of `b`
/// (its only axis if it is a vector), giving `a`'s other axes followed by `b`'s. Every case
/// is one matrix product (`Dot`, which the optimizer turns into BLAS calls) between
/// transposes and reshapes. Operands are cast to their common dtype. A sparse operand makes
/// it ``structuredDot(_:_:fileID:line:)``.
public func dot(_ a: Variable, _ b: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    if a.isSparse || b.isSparse { return try structuredDot(a, b, fileID: fileID, line: line) }
    if a.ndim == 0 || b.ndim == 0 { return try elementwise(Multiply(), [a, b], at: location) }
    if b.ndim > 2 {
        let contracted = b.ndim - 2
        if let m = a.staticShape.last!, let n = b.staticShape[contracted], m != n {
            throw TheanoError.typeMismatch(op: "dot", inputs: [a.type, b.type],
                                           reason: "inner dimensions \(m) and \(n) differ (the last axis of a, axis \(contracted) of b)", location: location)
        }
        return try tensordot(a, b, axes: ([a.ndim - 1], [contracted]), fileID: fileID, line: line)
    }
    if a.ndim > 2 {
        // The leading axes of `a` are rows of one matrix product (`x · W` for a batch of sequences).
        return try SourceLocation.attributing(to: location) {
            let sizes = try a.dimensionSizes()
            let leading = try sizes.dropLast().dropFirst().reduce(sizes[0]) { try $0 * $1 }
            let product = try dot(reshape(a, sizes: [leading, sizes.last!], at: location), b, fileID: fileID, line: line)
            return try reshape(product, sizes: Array(sizes.dropLast()) + Array(b.dimensionSizes().dropFirst()), at: location)
        }
    }
    let common = DType.promote(a.dtype, b.dtype)
    let dtype = common == .bool ? .int64 : common
    return try Dot()([cast(a, to: dtype, at: location), cast(b, to: dtype, at: location)], at: location)
}

/// The outer product `result[i, j] = a[i] * b[j]` of the operands flattened (NumPy's
/// `outer`: tensors of any rank, a scalar counting as one element).
public func outer(_ a: Variable, _ b: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    let (left, right) = try SourceLocation.attributing(to: location) {
        (a.ndim == 1 ? a : try flatten(a), b.ndim == 1 ? b : try flatten(b))
    }
    return try elementwise(Multiply(), [DimShuffle(pattern: [0, .newAxis])([left], at: location),
                                        DimShuffle(pattern: [.newAxis, 0])([right], at: location)], at: location)
}

/// The error of a matrix product whose operands' inner dimensions differ, naming each
/// operand's size and shape.
func innerDimensionsDiffer(_ a: [Int], _ b: [Int]) -> OpError {
    OpError("inner dimensions differ: the first operand has \(a.last!) columns (shape \(shapeText(a))), "
            + "the second \(b[0]) rows (shape \(shapeText(b)))")
}
