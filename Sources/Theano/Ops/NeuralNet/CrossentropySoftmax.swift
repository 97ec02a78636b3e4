import RealModule

/// The cross-entropy of the softmax of each row of `x` with an integer label per row,
/// `-log(softmax(x)[i, y[i]]) = logsumexp(x[i]) - x[i, y[i]]`, as one stable op (Theano's
/// `CrossentropySoftmaxArgmax1HotWithBias` without bias). Its gradient is
/// `softmax(x) - onehot(y)`, finite for any logits.
public struct CrossentropySoftmax: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    public var description: String { "crossentropy_softmax" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (x, y) = (inputs[0], inputs[1])
        guard x.ndim == 2, x.dtype.isFloat, y.ndim == 1, y.dtype.isInteger else {
            throw OpError("expects float logits (rows × classes) and one integer label per row")
        }
        if let rows = x.shape[0], let labels = y.shape[0], rows != labels { throw OpError("\(rows) rows but \(labels) labels") }
        return [TensorType(x.dtype, shape: [x.shape[0] ?? y.shape[0]])]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let (x, labels) = (inputs[0], inputs[1].elements(as: Int64.self))
        guard x.shape[0] == labels.count else { throw OpError("\(x.shape[0]) rows but \(labels.count) labels") }
        let classes = x.shape[1]
        if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
            throw OpError("label \(bad) is out of bounds for \(classes) classes")
        }
        let normalizers = try LogSumExp(axes: [1], keepDims: false).perform([x])[0].elements(as: Double.self)
        let losses = labels.enumerated().map { row, label in normalizers[row] - x.element([row, Int(label)], as: Double.self) }
        return [NDArray(losses).cast(to: x.dtype)]
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return [nil, nil] }
        return [try g.dimshuffle(0, .newAxis) * derivative(node), nil]
    }

    /// The sum over each row of the logits' tangent times `softmax(x) - onehot(y)`.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        guard let t = inputTangents[0] else { return [nil] }
        return [try sum(t * derivative(node), axis: 1)]
    }

    /// The derivative of each row's loss with respect to its logits: `softmax(x) - onehot(y)`.
    private func derivative(_ node: Apply) throws -> Variable {
        let (x, y) = (node.inputs[0], node.inputs[1])
        let sizes = try x.dimensionSizes()
        // The labels as a column with x's rows, whose static count may be known where the
        // labels' is not: the derivative must have x's type.
        let column = try reshape(y, sizes: [sizes[0], constant(1, dtype: .int64)], at: node.location)
        let oneHot = try cast(eq(column, Arange(staticLength: x.staticShape[1])(
            [constant(0, dtype: .int64), sizes[1], constant(1, dtype: .int64)], at: node.location)), to: x.dtype)
        return try softmax(x) - oneHot
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        [[try CheckEqualSizes.combine([inputShapes[0][0], inputShapes[1][0]], at: node.location)]]
    }
}
