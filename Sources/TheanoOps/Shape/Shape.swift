import TheanoCore

/// The shape of a tensor as an `int64` vector, known when the function runs.
public struct Shape: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp, SparseOp {
    package init() {}

    public var description: String { "shape" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] { [TensorType(.int64, shape: [inputs[0].ndim])] }
    public func perform(_ inputs: [NDArray]) throws -> [NDArray] { [NDArray(inputs[0].shape.map(Int64.init))] }
    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] { [nil] }
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] { [nil] }
    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        [[constant(Double(node.inputs[0].ndim), dtype: .int64)]]
    }
}

/// The size of one dimension of a tensor as an `int64` scalar (Theano's `Shape_i`).
public struct ShapeAt: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp, SparseOp {
    /// The dimension whose size it gives.
    public let axis: Int

    package init(axis: Int) {
        self.axis = axis
    }
    public var description: String { "shape[\(axis)]" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard axis < inputs[0].ndim else { throw OpError("axis \(axis) out of range") }
        return [TensorType(.int64, shape: [])]
    }
    public func perform(_ inputs: [NDArray]) throws -> [NDArray] { [NDArray(scalar: Int64(inputs[0].shape[axis]))] }
    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] { [nil] }
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] { [nil] }
    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { [[]] }
}

extension Variable {
    /// The shape as a symbolic `int64` vector.
    public var shape: Variable {
        get throws { try Shape()([self], at: .operatorCaller()) }
    }

    /// The size of each dimension as an `int64` scalar: a constant where the static type
    /// knows it, else computed when the function runs.
    package func dimensionSizes() throws -> [Variable] {
        let location = SourceLocation.attributed ?? location
        return try staticShape.indices.map { d in
            if let size = staticShape[d] { return Constant(NDArray(scalar: Int64(size)), location: location) }
            return try ShapeAt(axis: d)([self], at: location)
        }
    }
}

/// The shape of `x` as a symbolic `int64` vector.
public func shape(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try Shape()([x], at: .resolve(fileID: fileID, line: line))
}

/// The number of elements of `x` as a symbolic `int64` scalar.
public func size(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    return try SourceLocation.attributing(to: location) { try sizeProduct([constant(1, dtype: .int64)] + x.dimensionSizes(), at: location) }
}

/// The product of `int64` scalar sizes, folded to a constant when every factor is one (so
/// static shapes survive reshapes of known dimensions).
func sizeProduct(_ factors: [Variable], at location: SourceLocation) throws -> Variable {
    let constants = factors.compactMap { $0 as? Constant }
    if constants.count == factors.count {
        return Constant(NDArray(scalar: constants.reduce(Int64(1)) { $0 * $1.value.scalar(as: Int64.self) }), location: location)
    }
    return try factors.dropFirst().reduce(factors[0]) { try elementwise(Multiply(), [$0, $1], at: location) }
}
