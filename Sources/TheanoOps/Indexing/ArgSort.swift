import TheanoCore

/// The positions that sort a tensor along one axis, as `int64`: NumPy's
/// `argsort(x, axis, kind="stable")`. Equal elements keep their order; NaN sorts last.
public struct ArgSort: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    /// The axis sorted along (non-negative).
    public let axis: Int

    package init(axis: Int) { self.axis = axis }

    public var description: String { "argsort{axis=\(axis)}" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let x = inputs[0]
        guard x.dtype != .bool else { throw OpError("expects numbers, not booleans") }
        guard axis < x.ndim else { throw OpError("axis \(axis) is not a dimension of a \(x.ndim)-d tensor") }
        return [TensorType(.int64, shape: x.shape)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        [inputs[0].dtype.visitNumeric(Loop(x: inputs[0], axis: axis))!]
    }

    private struct Loop: NumericVisitor {
        let x: NDArray, axis: Int
        func visit<T: NumericElement>(_: T.Type) -> NDArray {
            let values = x.elements(as: T.self)
            let (outer, count) = (x.shape[..<axis].reduce(1, *), x.shape[axis])
            let inner = x.shape[(axis + 1)...].reduce(1, *)
            var positions = [Int64](repeating: 0, count: values.count)
            for o in 0..<outer {
                for i in 0..<inner {
                    let base = o * count * inner + i
                    let order = (0..<count).sorted { a, b in
                        let (u, v) = (values[base + a * inner], values[base + b * inner])
                        if u != u || v != v { return v != v && (u == u || a < b) }  // NaN last, in order
                        return u < v || (u == v && a < b)
                    }
                    for (k, position) in order.enumerated() { positions[base + k * inner] = Int64(position) }
                }
            }
            return NDArray(positions, shape: x.shape)
        }
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] { [nil] }
    /// Positions do not change with the values (they jump).
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] { [nil] }
    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { inputShapes }
}

/// The positions that sort `x` along `axis` (stable; NaN last), as `int64`.
public func argsort(_ x: Variable, axis: Int = -1, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    guard x.ndim > 0 else { throw TheanoError.invalidArgument(function: "argsort", reason: "cannot sort a scalar", location: location) }
    let resolved = try Axes([axis]).resolved(ndim: x.ndim, function: "argsort", location: location)[0]
    return try ArgSort(axis: resolved)([x], at: location)
}
