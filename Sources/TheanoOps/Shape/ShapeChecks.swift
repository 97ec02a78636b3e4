import TheanoCore

/// The first of several `int64` sizes, after checking at run time that they are all equal.
///
/// Shape inference uses it where the sizes of several operands must agree: once `x.shape`
/// is computed from the inputs' sizes, the node that would have checked them may no longer
/// run, and this keeps the check.
public struct CheckEqualSizes: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    package init() {}

    public var description: String { "check_equal_sizes" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard !inputs.isEmpty, inputs.allSatisfy({ $0.ndim == 0 && $0.dtype == .int64 }) else { throw OpError("expects int64 sizes") }
        return [inputs[0]]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let sizes = inputs.map { $0.scalar(as: Int64.self) }
        guard Set(sizes).count == 1 else {
            throw OpError("sizes \(sizes.map(String.init).joined(separator: " and ")) must be equal: only dimensions of static size 1 broadcast")
        }
        return [inputs[0]]
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] { node.inputs.map { _ in nil } }
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] { [nil] }
    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { [[]] }

    /// One size standing for all of `sizes`: the common one when they are provably equal
    /// (the same variable, or equal constants), else a checked one.
    package static func combine(_ sizes: [Variable], at location: SourceLocation) throws -> Variable {
        let first = sizes[0]
        let provablyEqual = sizes.allSatisfy { $0 === first || ($0.constantScalar != nil && $0.constantScalar == first.constantScalar) }
        if provablyEqual { return first }
        // A constant first keeps the result's static information.
        let ordered = sizes.sorted { ($0 is Constant ? 0 : 1) < ($1 is Constant ? 0 : 1) }
        return try CheckEqualSizes()(ordered, at: location)
    }
}

/// A tensor unchanged, after checking at run time that its sizes are the given ones.
/// Inputs: the tensor, then one `int64` size per dimension.
public struct SpecifyShape: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    package init() {}

    public var description: String { "specify_shape" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs.count == inputs[0].ndim + 1, inputs.dropFirst().allSatisfy({ $0.ndim == 0 && $0.dtype == .int64 }) else {
            throw OpError("expects one int64 size per dimension")
        }
        return [inputs[0]]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let expected = inputs.dropFirst().map { Int($0.scalar(as: Int64.self)) }
        guard inputs[0].shape == expected else {
            throw OpError("has shape \(shapeText(inputs[0].shape)) where \(shapeText(expected)) is needed")
        }
        return [inputs[0]]
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        [outputGradients[0]] + node.inputs.dropFirst().map { _ in nil }
    }

    /// The tangent, checked the same way.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        try linearPushforward(node, inputTangents: inputTangents, linear: [0])
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { [Array(node.inputs.dropFirst())] }
}

extension Variable {
    /// `self`, checked when the function runs to have every size `variable`'s type fixes,
    /// where its own type does not already guarantee it (the new value of a shared variable).
    package func checked(toFit variable: Variable, at location: SourceLocation) throws -> Variable {
        let unsure = (0..<ndim).filter { variable.staticShape[$0] != nil && staticShape[$0] == nil }
        guard !unsure.isEmpty else { return self }
        let sizes = try dimensionSizes()
        let expected = (0..<ndim).map { d in
            variable.staticShape[d].map { Constant(NDArray(scalar: Int64($0)), location: location) } ?? sizes[d]
        }
        return try SpecifyShape()([self] + expected, at: location)
    }

    /// `self`, checked at run time to have `target`'s shape.
    func specifyingShape(of target: Variable) throws -> Variable {
        let location = SourceLocation.attributed ?? self.location
        return try SpecifyShape()([self] + target.dimensionSizes(), at: location)
    }
}
