import RealModule

/// `exp(x) / sum(exp(x))` along the last axis, computed with the row maximum subtracted so
/// that large inputs do not overflow.
public struct Softmax: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    public var description: String { "softmax" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs[0].dtype.isFloat, inputs[0].ndim >= 1 else { throw OpError("expects a float tensor of at least 1 dimension") }
        return [inputs[0]]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        [inputs[0].dtype.visitFloat(RowLoop(x: inputs[0], logarithm: false))!]
    }

    /// `(g - sum(g * y)) * y` along the last axis.
    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return [nil] }
        let y = node.output(0)
        return [try (g - sum(g * y, axis: -1, keepDims: true)) * y]
    }

    /// `y * (t - sum(t * y))` along the last axis (the Jacobian is symmetric: the same form
    /// as the pullback).
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        guard let t = inputTangents[0] else { return [nil] }
        let y = node.output(0)
        return [try y * (t - sum(t * y, axis: -1, keepDims: true))]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { inputShapes }
}

/// `x - log(sum(exp(x)))` along the last axis, computed stably: never the log of an
/// underflowed softmax.
public struct LogSoftmax: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    public var description: String { "log_softmax" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs[0].dtype.isFloat, inputs[0].ndim >= 1 else { throw OpError("expects a float tensor of at least 1 dimension") }
        return [inputs[0]]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        [inputs[0].dtype.visitFloat(RowLoop(x: inputs[0], logarithm: true))!]
    }

    /// `g - exp(y) * sum(g)` along the last axis.
    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return [nil] }
        return [try g - exp(node.output(0)) * sum(g, axis: -1, keepDims: true)]
    }

    /// `t - sum(exp(y) * t)` along the last axis.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        guard let t = inputTangents[0] else { return [nil] }
        return [try t - sum(exp(node.output(0)) * t, axis: -1, keepDims: true)]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { inputShapes }
}

/// Softmax or log-softmax of each row (run along the last axis) of a contiguous copy.
private struct RowLoop: FloatVisitor {
    let x: NDArray, logarithm: Bool

    func visit<T: FloatElement & NumericElement>(_: T.Type) -> NDArray {
        let out = x.contiguousCopy()
        let length = x.shape.last!
        guard length > 0 else { return out }
        out.withUnsafeMutablePointer(to: T.self) { p in normalizeRows(p, count: out.count, length: length) }
        return out
    }

    private func normalizeRows<T: FloatElement & NumericElement>(_ p: UnsafeMutablePointer<T>, count: Int, length: Int) {
        for start in stride(from: 0, to: count, by: length) {
            let row = p + start
            var peak = row[0]
            for j in 1..<length where row[j] > peak || row[j].isNaN { peak = row[j] }
            if peak.isInfinite && peak < 0 { peak = 0 }
            var total = T.zero
            for j in 0..<length {
                let e = T.exp(row[j] - peak)
                if !logarithm { row[j] = e }
                total += e
            }
            if logarithm {
                let shift = peak + T.log(total)
                for j in 0..<length { row[j] -= shift }
            } else {
                for j in 0..<length { row[j] /= total }
            }
        }
    }
}

/// The softmax along the last axis: each row becomes a probability distribution.
public func softmax(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    return try Softmax()([cast(x, to: x.dtype.upgradedToFloat, at: location)], at: location)
}

/// The logarithm of the softmax along the last axis, computed stably.
public func logSoftmax(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    return try LogSoftmax()([cast(x, to: x.dtype.upgradedToFloat, at: location)], at: location)
}
