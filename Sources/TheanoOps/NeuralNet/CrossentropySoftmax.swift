import RealModule
import TheanoCore

/// The cross-entropy of the softmax of each sample of `x` with an integer label per sample,
/// `-log(softmax(x)[i, y[i]]) = logsumexp(x[i]) - x[i, y[i]]`, as one stable op (Theano's
/// `CrossentropySoftmaxArgmax1HotWithBias` without bias). The classes run along `axis` of
/// the matrix `x`: 1 for one sample per row, 0 for one per column. Its gradient is
/// `softmax(x) - onehot(y)`, finite for any logits.
public struct CrossentropySoftmax: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    /// The axis of the classes (0 or 1); the other one enumerates the samples.
    public let axis: Int

    /// The op with the classes along `axis`.
    public init(axis: Int = 1) { self.axis = axis }

    public var description: String { axis == 1 ? "crossentropy_softmax" : "crossentropy_softmax{axis=\(axis)}" }

    /// The axis of the samples.
    private var sampleAxis: Int { 1 - axis }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (x, y) = (inputs[0], inputs[1])
        guard x.ndim == 2, axis == 0 || axis == 1, x.dtype.isFloat, y.ndim == 1, y.dtype.isInteger else {
            throw OpError("expects float logits (a matrix, classes along axis \(axis)) and one integer label per sample")
        }
        if let samples = x.shape[sampleAxis], let labels = y.shape[0], samples != labels {
            throw OpError("\(samples) samples but \(labels) labels")
        }
        return [TensorType(x.dtype, shape: [x.shape[sampleAxis] ?? y.shape[0]])]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let (x, labels) = (inputs[0], inputs[1].elements(as: Int64.self))
        guard x.shape[sampleAxis] == labels.count else { throw OpError("\(x.shape[sampleAxis]) samples but \(labels.count) labels") }
        let classes = x.shape[axis]
        if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
            throw OpError("label \(bad) is out of bounds for \(classes) classes")
        }
        let (samples, sampleStride, classStride) = axis == 1 ? (x.shape[0], x.strides[0], x.strides[1]) : (x.shape[1], x.strides[1], x.strides[0])
        return [x.dtype.visitFloat(Losses(x: x, labels: labels, samples: samples, classes: classes,
                                          sampleStride: sampleStride, classStride: classStride))!]
    }

    /// Each sample's `logsumexp(x) - x[label]` by one pass over the logits in place: the
    /// largest logit, then the exponentials summed in float64 (``LogSumExp``'s rules for
    /// infinite and NaN logits).
    private struct Losses: FloatVisitor {
        let x: NDArray, labels: [Int64]
        let samples: Int, classes: Int, sampleStride: Int, classStride: Int

        func visit<T: FloatElement & NumericElement>(_: T.Type) -> NDArray {
            var losses = [T](repeating: 0, count: samples)
            x.withUnsafePointer(to: T.self) { logits in
                for sample in 0..<samples {
                    let row = logits + sample * sampleStride
                    var peak = -T.infinity
                    for c in 0..<classes {
                        let value = row[c * classStride]
                        if value > peak || value.isNaN { peak = value }
                    }
                    let normalizer: T
                    if !peak.isFinite {
                        normalizer = peak.isNaN || peak > 0 ? peak : -T.infinity
                    } else {
                        var total = 0.0
                        for c in 0..<classes { total += Double.exp((row[c * classStride] - peak).doubleValue) }
                        normalizer = peak + T(doubleValue: Double.log(total))
                    }
                    losses[sample] = T(doubleValue: normalizer.doubleValue - row[Int(labels[sample]) * classStride].doubleValue)
                }
            }
            return NDArray(losses)
        }
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return [nil, nil] }
        return [try alongSamples(g) * derivative(node), nil]
    }

    /// The sum over each sample of the logits' tangent times `softmax(x) - onehot(y)`.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        guard let t = inputTangents[0] else { return [nil] }
        return [try sum(t * derivative(node), axis: Axes(integerLiteral: axis))]
    }

    /// A vector with one element per sample, as a matrix broadcasting along the classes.
    private func alongSamples(_ v: Variable) throws -> Variable {
        axis == 1 ? try v.dimshuffle(0, .newAxis) : try v.dimshuffle(.newAxis, 0)
    }

    /// The derivative of each sample's loss with respect to its logits: `softmax(x) - onehot(y)`.
    private func derivative(_ node: Apply) throws -> Variable {
        let (x, y) = (node.inputs[0], node.inputs[1])
        let sizes = try x.dimensionSizes()
        // The labels along the samples' axis with x's number of samples, whose static count
        // may be known where the labels' is not: the derivative must have x's type.
        let one = constant(1, dtype: .int64)
        let labels = try reshape(y, sizes: axis == 1 ? [sizes[0], one] : [one, sizes[1]], at: node.location)
        let positions = try Arange(staticLength: x.staticShape[axis])([constant(0, dtype: .int64), sizes[axis], one], at: node.location)
        let oneHot = try cast(eq(labels, axis == 1 ? positions.dimshuffle(.newAxis, 0) : positions.dimshuffle(0, .newAxis)), to: x.dtype)
        return try Softmax(axis: axis)([x], at: node.location) - oneHot
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        [[try CheckEqualSizes.combine([inputShapes[0][sampleAxis], inputShapes[1][0]], at: node.location)]]
    }
}
