/// An operation: what a node of the graph computes.
///
/// An op is a small value; equal ops applied to equal inputs compute equal results (so
/// compilation may merge them). Required: type inference and a reference implementation.
/// Everything else is an optional facet in its own protocol, so a missing one is visible:
/// ``DifferentiableOp`` (reverse mode), ``ShapeInferringOp`` (symbolic shapes).
public protocol Op: Hashable, Sendable, CustomStringConvertible {
    /// The static types of the outputs for inputs of `inputs` types, or an ``OpError``
    /// saying why they are not acceptable.
    func outputTypes(_ inputs: [TensorType]) throws -> [TensorType]

    /// The reference implementation: computes the outputs from the input values. Throws an
    /// ``OpError`` for values the static types could not rule out (shapes, indices).
    func perform(_ inputs: [NDArray]) throws -> [NDArray]

    /// Checks, before `perform`, what the static types promised beyond dtype and rank —
    /// chiefly that only dimensions of static size 1 stretch when broadcasting. The default
    /// checks nothing.
    func validate(_ inputs: [NDArray], node: Apply) throws
}

/// An op that knows its pullback (vector-Jacobian product), written as graph.
public protocol DifferentiableOp: Op {
    /// The gradients with respect to `node`'s inputs, given those with respect to its
    /// outputs (`nil`: the output does not influence the cost). A `nil` result means no
    /// gradient flows to that input (integer inputs, indices, comparisons).
    func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?]
}

/// An op that can say the shapes of its outputs from the shapes of its inputs without
/// computing anything else.
public protocol ShapeInferringOp: Op {
    /// For each output, one `int64` scalar variable per dimension, built from `inputShapes`
    /// (the same for each input).
    func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]]
}

extension Op {
    public func validate(_ inputs: [NDArray], node: Apply) throws {}

    /// Whether `other` is the same op with the same parameters.
    func isEqual(to other: any Op) -> Bool {
        guard let other = other as? Self else { return false }
        return self == other
    }
}
