import TheanoCore

/// The position of the largest (or smallest) element along one axis, or in the flattened
/// tensor, as `int64`. The first position wins a tie; NaN counts as the largest and the
/// smallest, as NumPy.
public struct ArgExtremum: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    /// The axis, or `nil` for the flattened tensor.
    public let axis: Int?
    /// Whether the reduced axis stays as a dimension of size 1.
    public let keepDims: Bool
    /// `true` for argmax, `false` for argmin.
    public let largest: Bool

    package init(axis: Int?, keepDims: Bool, largest: Bool) {
        self.axis = axis
        self.keepDims = keepDims
        self.largest = largest
    }

    public var description: String { "\(largest ? "argmax" : "argmin"){axis=\(axis.map(String.init) ?? "None")}" }

    private var axes: (Int) -> [Int] { { ndim in axis.map { [$0] } ?? Array(0..<ndim) } }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let x = inputs[0]
        guard x.dtype != .bool else { throw OpError("expects numbers, not booleans") }
        let reduced = Reduce(kind: .max, axes: axes(x.ndim), keepDims: keepDims)
        return [TensorType(.int64, shape: try reduced.outputTypes([x])[0].shape)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let x = inputs[0]
        let axes = axes(x.ndim)
        guard axes.allSatisfy({ x.shape[$0] > 0 }) else { throw OpError("attempt to get the \(description) of an empty sequence") }
        let blocks = x.groupedForReduction(axes: axes)
        let shape = Reduce(kind: .max, axes: axes, keepDims: keepDims).outputShape(x.shape, one: 1)
        return [x.dtype.visitNumeric(Loop(source: blocks.array, blockSize: blocks.size, shape: shape, largest: largest))!]
    }

    private struct Loop: NumericVisitor {
        let source: NDArray, blockSize: Int, shape: [Int], largest: Bool
        func visit<T: NumericElement>(_: T.Type) -> NDArray {
            ReduceLoop.run(source, blockSize: blockSize, shape: shape) { (v: UnsafeBufferPointer<T>) -> Int64 in
                var best = 0
                for i in 1..<v.count {
                    if v[best] != v[best] { break }  // NaN found: it wins.
                    if v[i] != v[i] || (largest ? v[i] > v[best] : v[i] < v[best]) { best = i }
                }
                return Int64(best)
            }
        }
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] { [nil] }
    /// A position does not change with the values (it jumps).
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] { [nil] }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        [Reduce(kind: .max, axes: axes(node.inputs[0].ndim), keepDims: keepDims).outputShape(inputShapes[0], one: constant(1, dtype: .int64))]
    }
}

/// The position of the largest element along `axis` (`nil`: of the flattened tensor).
public func argmax(_ x: Variable, axis: Int? = nil, keepDims: Bool = false, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try argExtremum(x, axis: axis, keepDims: keepDims, largest: true, at: .resolve(fileID: fileID, line: line))
}

/// The position of the smallest element along `axis` (`nil`: of the flattened tensor).
public func argmin(_ x: Variable, axis: Int? = nil, keepDims: Bool = false, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try argExtremum(x, axis: axis, keepDims: keepDims, largest: false, at: .resolve(fileID: fileID, line: line))
}

private func argExtremum(_ x: Variable, axis: Int?, keepDims: Bool, largest: Bool, at location: SourceLocation) throws -> Variable {
    let resolved = try axis.map { try Axes([$0]).resolved(ndim: x.ndim, function: largest ? "argmax" : "argmin", location: location)[0] }
    return try ArgExtremum(axis: resolved, keepDims: keepDims, largest: largest)([x], at: location)
}
