import TheanoCore

/// The identity, with its derivative overridden: the value passes unchanged while gradients
/// (and tangents, in forward mode) are cut, zeroed, clipped or scaled on their way through.
///
/// Differentiation sees it in the graph as built; the optimizer's first phase (`inline`)
/// removes it, so a compiled function pays nothing for it.
public struct GradientOverride: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    /// What happens to a derivative passing through.
    public enum Kind: Hashable, Sendable {
        /// Nothing passes, and differentiation sees no dependence at all (Theano's
        /// `disconnected_grad`).
        case disconnected
        /// Nothing passes, but the dependence is seen: the derivative is zero (`zero_grad`).
        case zero
        /// Clipped elementwise to `lower...upper` (`grad_clip`).
        case clip(lower: Double, upper: Double)
        /// Multiplied by a factor (`grad_scale`; -1 reverses it).
        case scale(Double)
    }

    /// What happens to the derivative flowing through.
    public let kind: Kind

    package init(kind: Kind) {
        self.kind = kind
    }

    public var description: String {
        switch kind {
        case .disconnected: "disconnected_grad"
        case .zero: "zero_grad"
        case let .clip(lower, upper): "grad_clip{\(lower), \(upper)}"
        case let .scale(factor): "grad_scale{\(factor)}"
        }
    }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] { inputs }
    public func perform(_ inputs: [NDArray]) throws -> [NDArray] { inputs }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        [try outputGradients[0].flatMap(overridden)]
    }

    public func isConnected(toInput index: Int) -> Bool { kind != .disconnected }

    /// The tangent, overridden as a gradient is.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        [try inputTangents[0].flatMap(overridden)]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { inputShapes }

    /// What becomes of a gradient or tangent passing through: `nil` when none passes.
    private func overridden(_ derivative: Variable) throws -> Variable? {
        switch kind {
        case .disconnected, .zero: nil
        case let .clip(lower, upper): try clip(derivative, lower, upper)
        case let .scale(factor): try derivative * factor
        }
    }
}

/// `x`, as a constant as far as differentiation is concerned: no gradient flows through it,
/// and a variable reached only through it is one the cost does not depend on (`grad` throws
/// with `disconnected: .raise`, gives zeros with `.zero`). Theano's `disconnected_grad`; the
/// graph form of `grad`'s `considerConstant:`.
///
/// ```swift
/// let target = try disconnectedGrad(rewards + discount * max(nextValues))   // a fixed target
/// ```
public func disconnectedGrad(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try GradientOverride(kind: .disconnected)([x], at: .resolve(fileID: fileID, line: line))
}

/// `x`, whose gradient is zero: no gradient flows through it, but the dependence is seen, so
/// `grad` with respect to a variable reached only through it gives zeros (Theano's `zero_grad`).
public func zeroGrad(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try GradientOverride(kind: .zero)([x], at: .resolve(fileID: fileID, line: line))
}

/// `x`, considered constant by differentiation: its gradient is zero (Theano's
/// `consider_constant`, which later Theano versions replaced by ``zeroGrad(_:fileID:line:)``;
/// for the cost not depending on `x` at all, see ``disconnectedGrad(_:fileID:line:)``).
public func considerConstant(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try zeroGrad(x, fileID: fileID, line: line)
}

/// `x`, with the gradient flowing back through it clipped elementwise to `lower...upper`
/// (Theano's `grad_clip`).
public func gradClip(_ x: Variable, lower: Double, upper: Double, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    guard lower <= upper else {
        throw TheanoError.invalidArgument(function: "gradClip", reason: "the lower bound \(lower) is above the upper bound \(upper)", location: location)
    }
    return try GradientOverride(kind: .clip(lower: lower, upper: upper))([x], at: location)
}

/// `x`, with the gradient flowing back through it multiplied by `factor` (Theano's
/// `grad_scale`). A factor of -1 reverses it: the gradient reversal layer of domain
/// adaptation.
public func gradScale(_ x: Variable, by factor: Double, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    guard factor.isFinite else {
        throw TheanoError.invalidArgument(function: "gradScale", reason: "the factor must be finite, not \(factor)", location: location)
    }
    return try GradientOverride(kind: .scale(factor))([x], at: location)
}
