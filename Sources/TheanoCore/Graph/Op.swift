/// An operation: what a node of the graph computes.
///
/// An op is a small value; equal ops applied to equal inputs compute equal results (so
/// compilation may merge them). Required: type inference and a reference implementation.
/// Everything else is an optional facet in its own protocol, so a missing one is visible:
/// ``DifferentiableOp`` (reverse mode), ``ForwardDifferentiableOp`` (forward mode),
/// ``ShapeInferringOp`` (symbolic shapes).
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
    ///
    /// A gradient has its input's rank and keeps every static size-1 dimension of it
    /// (`grad` reports one that does not, naming the op). It may be broadcastable where its
    /// input is not, and of another float dtype: differentiation broadcasts and casts it to
    /// the input's type.
    func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?]

    /// Whether differentiation sees the outputs as depending on input `index` at all. An
    /// input that is not connected is *disconnected*: a variable reached only through it is
    /// one the cost does not depend on (`grad(…, disconnected: .raise)` throws), not one
    /// whose gradient happens to be zero. By default every input is connected.
    func isConnected(toInput index: Int) -> Bool
}

/// An op that knows its pushforward (Jacobian-vector product), written as graph: the
/// forward-mode counterpart of ``DifferentiableOp/pullback(_:outputGradients:)``, used by
/// ``Rop(_:wrt:evalPoints:disconnected:fileID:line:)``.
///
/// An op with a pullback but no pushforward still works in forward mode, through the
/// transpose of its pullback (slower to build); a rule of its own is shorter and cheaper.
public protocol ForwardDifferentiableOp: Op {
    /// The tangents of `node`'s outputs (how they change), given the tangents of its inputs
    /// (`nil`: the input does not change, or is not a float). A `nil` result means the
    /// output does not change (integer outputs, comparisons, piecewise-constant functions).
    /// A tangent may be broadcastable where its output is not, and of another float dtype;
    /// forward mode broadcasts and casts it to the output's type.
    func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?]
}

/// An op that carries shared variables through its computation and produces their final
/// values: a loop whose steps advance a random stream. A function that reads such a
/// variable without updating it takes the final value as its update, rather than the
/// variable's default update (which would let the next call repeat the loop's draws).
public protocol SharedStateCarryingOp: Op {
    /// The final value of each shared variable `node` carries, by variable.
    func finalValues(of node: Apply) throws -> [SharedVariable: Variable]
}

/// An op that exchanges values with other processes when it runs (a collective such as
/// `allreduce`): every process must reach it, in the same order, when the function runs, so
/// compilation never computes it ahead of time (constant folding leaves it alone).
public protocol CommunicatingOp: Op {}

/// An op that takes or makes sparse matrices (``TensorType/format`` `.csr`, `.csc`): graph
/// construction refuses sparse operands for every other op.
public protocol SparseOp: Op {}

/// An op that can say the shapes of its outputs from the shapes of its inputs without
/// computing anything else.
public protocol ShapeInferringOp: Op {
    /// For each output, one `int64` scalar variable per dimension, built from `inputShapes`
    /// (the same for each input).
    func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]]
}

extension DifferentiableOp {
    public func isConnected(toInput index: Int) -> Bool { true }
}

extension Op {
    public func validate(_ inputs: [NDArray], node: Apply) throws {}

    /// Whether `other` is the same op with the same parameters.
    package func isEqual(to other: any Op) -> Bool {
        guard let other = other as? Self else { return false }
        return self == other
    }
}

/// An op that runs a graph of its own (a loop's step), which `debugprint` shows too.
package protocol InnerGraphOp: Op {
    var innerGraph: FunctionGraph { get }
}

/// An op that stands for a graph of its own, which the optimizer's first phase puts in its
/// place (``OpFromGraph``: the compiled function then optimizes across the boundary).
package protocol InlinedOp: Op {
    /// A copy of the graph, reading `inputs`.
    func expanded(over inputs: [Variable]) throws -> [Variable]
}
