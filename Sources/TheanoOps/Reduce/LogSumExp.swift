import RealModule
import TheanoCore

/// `log(sum(exp(x)))` over some axes, computed with the maximum of each block subtracted
/// first, so large inputs neither overflow nor lose all precision. Its derivative is the
/// softmax of each block.
public struct LogSumExp: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    /// Sorted, distinct axes of the input.
    public let axes: [Int]
    /// Whether reduced axes stay as dimensions of size 1.
    public let keepDims: Bool

    package init(axes: [Int], keepDims: Bool) {
        self.axes = axes
        self.keepDims = keepDims
    }

    public var description: String { "logsumexp{axes=\(axes)\(keepDims ? ", keepdims" : "")}" }

    private var shapeRule: Reduce { Reduce(kind: .max, axes: axes, keepDims: keepDims) }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs[0].dtype.isFloat else { throw OpError("expects a float tensor") }
        return try shapeRule.outputTypes(inputs)
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let x = inputs[0]
        let blocks = x.groupedForReduction(axes: axes)
        let shape = shapeRule.outputShape(x.shape, one: 1)
        return [x.dtype.visitFloat(Loop(source: blocks.array, blockSize: blocks.size, shape: shape))!]
    }

    private struct Loop: FloatVisitor {
        let source: NDArray, blockSize: Int, shape: [Int]
        func visit<T: FloatElement & NumericElement>(_: T.Type) -> NDArray {
            ReduceLoop.run(source, blockSize: blockSize, shape: shape) { (v: UnsafeBufferPointer<T>) -> T in
                guard var peak = v.first else { return -T.infinity }
                for value in v where value > peak || value.isNaN { peak = value }
                // An all -inf block sums to 0 (log: -inf); an inf or NaN peak is the answer.
                if !peak.isFinite { return peak.isNaN || peak > 0 ? peak : -T.infinity }
                var total = 0.0
                for value in v { total += Double.exp((value - peak).doubleValue) }
                return peak + T(doubleValue: Double.log(total))
            }
        }
    }

    /// `g` times the softmax of each block.
    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return [nil] }
        let gradient = keepDims ? g : try g.insertingAxes(axes)
        return [try gradient * blockSoftmax(node)]
    }

    /// The sum over each block of the tangent times the block's softmax.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        guard let t = inputTangents[0] else { return [nil] }
        return [try Reduce(kind: .sum, axes: axes, keepDims: keepDims)([t * blockSoftmax(node)], at: node.location)]
    }

    /// The softmax of each block of the input, computed from the block's maximum (exact for
    /// equal elements) rather than as `exp(x - logsumexp(x))`, which loses the bits of the
    /// rounded result.
    private func blockSoftmax(_ node: Apply) throws -> Variable {
        let x = node.inputs[0]
        let peak = try Reduce(kind: .max, axes: axes, keepDims: true)([x], at: node.location)
        let shifted = try exp(x - `switch`(isinf(peak), zerosLike(peak), peak))
        let total = try Reduce(kind: .sum, axes: axes, keepDims: true)([shifted], at: node.location)
        return try shifted / total
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        try shapeRule.inferShape(node, inputShapes: inputShapes)
    }
}
