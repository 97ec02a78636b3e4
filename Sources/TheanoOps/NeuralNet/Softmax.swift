import RealModule
import TheanoCore

/// `exp(x) / sum(exp(x))` along one axis, computed with the maximum along the axis
/// subtracted so that large inputs do not overflow.
public struct Softmax: NormalizingExponentialOp {
    /// The axis each distribution runs along (non-negative).
    public let axis: Int

    /// The softmax along `axis` (non-negative).
    public init(axis: Int) { self.axis = axis }

    public var description: String { "softmax{axis=\(axis)}" }
    public var writesLogarithm: Bool { false }

    /// `(g - sum(g * y)) * y` along the axis.
    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return [nil] }
        let y = node.output(0)
        return [try (g - sum(g * y, axis: Axes(integerLiteral: axis), keepDims: true)) * y]
    }

    /// `y * (t - sum(t * y))` along the axis (the Jacobian is symmetric: the same form as
    /// the pullback).
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        guard let t = inputTangents[0] else { return [nil] }
        let y = node.output(0)
        return [try y * (t - sum(t * y, axis: Axes(integerLiteral: axis), keepDims: true))]
    }
}

/// `x - log(sum(exp(x)))` along one axis, computed stably: never the log of an underflowed
/// softmax.
public struct LogSoftmax: NormalizingExponentialOp {
    /// The axis each distribution runs along (non-negative).
    public let axis: Int

    /// The log-softmax along `axis` (non-negative).
    public init(axis: Int) { self.axis = axis }

    public var description: String { "log_softmax{axis=\(axis)}" }
    public var writesLogarithm: Bool { true }

    /// `g - exp(y) * sum(g)` along the axis.
    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return [nil] }
        return [try g - exp(node.output(0)) * sum(g, axis: Axes(integerLiteral: axis), keepDims: true)]
    }

    /// `t - sum(exp(y) * t)` along the axis.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        guard let t = inputTangents[0] else { return [nil] }
        return [try t - sum(exp(node.output(0)) * t, axis: Axes(integerLiteral: axis), keepDims: true)]
    }
}

/// What softmax and log-softmax share: the type rule, the reference loop (one pass per
/// distribution for the maximum, one for the exponentials and their sum, one to normalize)
/// and the shape rule. They differ only in what they write.
public protocol NormalizingExponentialOp: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    /// The axis each distribution runs along (non-negative).
    var axis: Int { get }
    /// Whether it gives the logarithm of the softmax.
    var writesLogarithm: Bool { get }
}

extension NormalizingExponentialOp {
    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs[0].dtype.isFloat, inputs[0].ndim > axis else {
            throw OpError("expects a float tensor with an axis \(axis)")
        }
        return [inputs[0]]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let x = inputs[0]
        // The axis last, so each distribution is a contiguous row of the copy.
        let order = (0..<x.ndim).filter { $0 != axis } + [axis]
        let rows = x.transposed(order).contiguousCopy()
        _ = rows.dtype.visitFloat(RowLoop(rows: rows, logarithm: writesLogarithm))
        let inverse = (0..<x.ndim).map { order.firstIndex(of: $0)! }
        return [rows.transposed(inverse).contiguous()]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { inputShapes }
}

/// Softmax or log-softmax of each row (run along the last axis) of `rows`, in place: the
/// array is a fresh copy the caller owns.
private struct RowLoop: FloatVisitor {
    let rows: NDArray, logarithm: Bool

    func visit<T: FloatElement & NumericElement>(_: T.Type) {
        guard let length = rows.shape.last, length > 0 else { return }
        rows.withUnsafeMutablePointer(to: T.self) { p in
            for start in stride(from: 0, to: rows.count, by: length) { normalize(p + start, length: length) }
        }
    }

    private func normalize<T: FloatElement & NumericElement>(_ row: UnsafeMutablePointer<T>, length: Int) {
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

/// The softmax along `axis` (by default the last): each run along it becomes a probability
/// distribution. Integer tensors are converted to float first.
public func softmax(_ x: Variable, axis: Int = -1, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    let resolved = try normalizingAxis(axis, of: x, function: "softmax", at: location)
    return try Softmax(axis: resolved)([cast(x, to: x.dtype.upgradedToFloat, at: location)], at: location)
}

/// The logarithm of the softmax along `axis` (by default the last), computed stably.
public func logSoftmax(_ x: Variable, axis: Int = -1, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    let resolved = try normalizingAxis(axis, of: x, function: "logSoftmax", at: location)
    return try LogSoftmax(axis: resolved)([cast(x, to: x.dtype.upgradedToFloat, at: location)], at: location)
}

/// `axis` of `x` as a non-negative dimension number, or an error naming `function`.
private func normalizingAxis(_ axis: Int, of x: Variable, function: String, at location: SourceLocation) throws -> Int {
    guard x.ndim > 0 else {
        throw TheanoError.invalidArgument(function: function, reason: "expects a tensor of at least 1 dimension, got a 0-d one", location: location)
    }
    return try Axes(integerLiteral: axis).resolved(ndim: x.ndim, function: function, location: location)[0]
}
