import TheanoCore

/// A vector of scalars of one dtype (Theano's `MakeVector`): what a tensor's shape becomes
/// once each size is known separately.
public struct MakeVector: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    /// The dtype of the scalars and of the vector.
    public let dtype: DType

    package init(dtype: DType) {
        self.dtype = dtype
    }
    public var description: String { "make_vector" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs.allSatisfy({ $0.ndim == 0 && $0.dtype == dtype }) else { throw OpError("expects \(dtype) scalars") }
        return [TensorType(dtype, shape: [inputs.count])]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        [try NDArray(stacking: inputs)].map { $0.dtype == dtype ? $0 : $0.cast(to: dtype) }
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0], dtype.isFloat else { return node.inputs.map { _ in nil } }
        return try node.inputs.indices.map { try g[$0] }
    }

    /// The vector of the scalars' tangents (zeros for those that do not change).
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        try linearPushforward(node, inputTangents: inputTangents, linear: node.inputs.indices)
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        [[Constant(NDArray(scalar: Int64(node.inputs.count)), location: node.location)]]
    }
}
