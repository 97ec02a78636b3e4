import TheanoCore
import TheanoOps
import TheanoOptimizer

/// What ``grad(_:wrt:considerConstant:disconnected:fileID:line:)`` does with a variable the
/// cost does not depend on (and `Lop`, `Rop`, `jacobian`, … with a variable or an output on
/// the far side of no dependence).
public enum DisconnectedPolicy: Sendable {
    /// Throw (``TheanoError/disconnectedInput(variable:location:)`` from `grad`): usually a
    /// bug in the model.
    case raise
    /// Return zeros of the variable's shape.
    case zero
}

/// The gradients of a scalar `cost` with respect to each of `wrt`, as new graph (reverse-mode
/// automatic differentiation, Theano's `grad`).
///
/// Gradients are built from each op's pullback, visiting the graph from the cost back to the
/// inputs and summing the contributions of every path. Variables in `considerConstant` are
/// treated as constants: no gradient flows through them (``disconnectedGrad(_:fileID:line:)``
/// does the same for one variable inside the graph). Nodes the gradient builds record the
/// source location of the node they differentiate.
///
/// The cost is first rewritten into its numerically stable form (the optimizer's stabilize
/// phase: `log(softmax(x))` becomes `logSoftmax(x)`, `-log(softmax(x)[rows, y])` one fused
/// cross-entropy op, …), so the gradient is that of the stable form: finite where the naive
/// one would divide by an underflowed probability.
///
/// ```swift
/// let gradients = try grad(cost, wrt: [W, b])   // [∂cost/∂W, ∂cost/∂b]
/// ```
public func grad(_ cost: Variable, wrt: [Variable], considerConstant: [Variable] = [],
                 disconnected: DisconnectedPolicy = .raise,
                 fileID: String = #fileID, line: Int = #line) throws -> [Variable] {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    guard cost.ndim == 0 else { throw TheanoError.nonScalarCost(type: cost.type, location: location) }
    guard cost.dtype.isFloat else {
        throw TheanoError.invalidArgument(function: "grad", reason: "the cost must be a float scalar, not \(cost.type)", location: location)
    }
    let one = constant(1, dtype: cost.dtype, fileID: fileID, line: line)
    return try backpropagate([(cost, one)], wrt: wrt, considerConstant: considerConstant, function: "grad", location: location) { variable in
        switch disconnected {
        case .raise: throw TheanoError.disconnectedInput(variable: variable.description, location: location)
        case .zero: return try zerosLike(variable, fileID: fileID, line: line)
        }
    }
}

/// The vector-Jacobian products `evalPoints · ∂f/∂wrt`: for each variable of `wrt`, the sum
/// over the outputs `f[i]` of the gradient of `sum(f[i] * evalPoints[i])` (Theano's `Lop`,
/// reverse mode). `evalPoints[i]` must have the type of `f[i]`.
///
/// With one scalar output and a cotangent of 1 this is ``grad(_:wrt:considerConstant:disconnected:fileID:line:)``;
/// outputs of any shape are allowed here. A variable none of `f` depends on throws with
/// `disconnected: .raise` and gets zeros with `.zero`.
///
/// ```swift
/// let vjp = try Lop([y], wrt: [x], evalPoints: [u])[0]   // uᵀ·J, of x's shape
/// ```
public func Lop(_ f: [Variable], wrt: [Variable], evalPoints: [Variable], disconnected: DisconnectedPolicy = .raise,
                fileID: String = #fileID, line: Int = #line) throws -> [Variable] {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    try checkEvalPoints(evalPoints, standingFor: f, named: "f", function: "Lop", location: location)
    for (index, output) in f.enumerated() where !output.dtype.isFloat {
        throw TheanoError.invalidArgument(function: "Lop", reason: "f[\(index)] (\(output)) is not a float tensor", location: location)
    }
    return try backpropagate(Array(zip(f, evalPoints)), wrt: wrt, considerConstant: [], function: "Lop", location: location) { variable in
        switch disconnected {
        case .raise:
            throw TheanoError.invalidArgument(function: "Lop", reason: "the outputs do not depend on \(variable); pass disconnected: .zero to get zeros instead", location: location)
        case .zero: return try zerosLike(variable, fileID: fileID, line: line)
        }
    }
}

/// Reverse accumulation: for each of `wrt`, the sum over `seeds` of the gradient of
/// `sum(output * cotangent)`. The outputs are first stabilized (see ``grad(_:wrt:considerConstant:disconnected:fileID:line:)``).
/// A variable the outputs do not depend on is handed to `whenDisconnected`.
private func backpropagate(_ seeds: [(output: Variable, cotangent: Variable)], wrt: [Variable], considerConstant: [Variable],
                           function: String, location: SourceLocation,
                           whenDisconnected: (Variable) throws -> Variable) throws -> [Variable] {
    let blocked = Set(considerConstant)
    let outputs = try stabilizedForm(seeds.map(\.output), keeping: wrt + considerConstant)
    let order = topologicalOrder(of: outputs, stoppingAt: blocked)
    let connected = variablesDepending(on: Set(wrt), in: order)
    let influencing = variablesInfluencing(Set(outputs), in: order)

    var gradients: [Variable: Variable] = [:]
    for (output, seed) in zip(outputs, seeds) {
        try SourceLocation.attributing(to: location) {
            gradients[output] = try gradients[output].adding(seed.cotangent)
        }
    }
    for node in order.reversed() {
        let outputGradients = node.outputs.map { gradients[$0] }
        guard outputGradients.contains(where: { $0 != nil }),
              node.inputs.contains(where: { connected.contains($0) && !blocked.contains($0) })
        else { continue }
        guard let op = node.op as? any DifferentiableOp else {
            throw TheanoError.invalidArgument(function: function, reason: "\(node.op) has no gradient (node built at \(node.location))", location: location)
        }
        let inputGradients = try SourceLocation.attributing(to: node.location) {
            try op.checkedPullback(node, outputGradients: outputGradients, function: function, location: location)
        }
        for (index, (input, gradient)) in zip(node.inputs, inputGradients).enumerated() {
            guard let gradient, connected.contains(input), !blocked.contains(input), op.isConnected(toInput: index) else { continue }
            try SourceLocation.attributing(to: node.location) {
                gradients[input] = try gradients[input].adding(gradient)
            }
        }
    }

    return try wrt.map { variable in
        if let gradient = gradients[variable] { return gradient }
        if influencing.contains(variable) { return try SourceLocation.attributing(to: location) { try zerosLike(variable) } }
        return try whenDisconnected(variable)
    }
}

extension DifferentiableOp {
    /// ``DifferentiableOp/pullback(_:outputGradients:)`` with each gradient fitted to exactly
    /// its input's static type: cast to its dtype and broadcast where the pullback gave a
    /// narrower gradient (see ``DifferentiableOp/pullback(_:outputGradients:)``). A gradient
    /// that lost a static size-1 dimension of its input cannot be fitted: the elementwise ops
    /// after it would refuse to broadcast it at run time, far from the op at fault, so it is
    /// reported here, naming the op, as the internal error it is. No gradient flows to an
    /// integer or boolean input. `function` and `location` name the caller in errors.
    func checkedPullback(_ node: Apply, outputGradients: [Variable?], function: String,
                         location: SourceLocation) throws -> [Variable?] {
        let gradients = try pullback(node, outputGradients: outputGradients)
        guard gradients.count == node.inputs.count else {
            throw TheanoError.invalidArgument(function: function, reason: "the pullback of \(self) (node built at \(node.location)) gave "
                + "\(gradients.count) gradients for \(node.inputs.count) inputs: an internal error", location: location)
        }
        return try zip(node.inputs, gradients).enumerated().map { index, pair in
            let (input, gradient) = pair
            guard let gradient, input.dtype.isFloat else { return nil }
            guard let fitted = try gradient.fitted(toTypeOf: input) else {
                throw TheanoError.invalidArgument(function: function, reason: "the pullback of \(self) (node built at \(node.location)) gave "
                    + "a gradient of type \(gradient.type) for input \(index), of type \(input.type): an internal error", location: location)
            }
            return fitted
        }
    }
}

/// Throws unless there is one eval point per variable of `variables`, each of that
/// variable's type (the same dtype, and static size 1 in the same dimensions).
package func checkEvalPoints(_ evalPoints: [Variable], standingFor variables: [Variable], named name: String,
                     function: String, location: SourceLocation) throws {
    guard evalPoints.count == variables.count else {
        throw TheanoError.invalidArgument(function: function, reason: "\(evalPoints.count) eval point\(evalPoints.count == 1 ? "" : "s") for \(variables.count) variable\(variables.count == 1 ? "" : "s") of \(name)", location: location)
    }
    for (index, (point, variable)) in zip(evalPoints, variables).enumerated() where !variable.type.fits(point.type) {
        throw TheanoError.invalidArgument(function: function, reason: "evalPoints[\(index)] has type \(point.type), which does not fit \(name)[\(index)] (\(variable)): "
            + "it needs the same dtype and static size 1 in the same dimensions", location: location)
    }
}

/// `sources` and every variable computed from one of them by `order`'s nodes, through inputs
/// the ops connect to their outputs (``DifferentiableOp/isConnected(toInput:)``).
package func variablesDepending(on sources: Set<Variable>, in order: [Apply]) -> Set<Variable> {
    var depending = sources
    for node in order where node.inputs.indices.contains(where: { depending.contains(node.inputs[$0]) && node.connects(input: $0) }) {
        depending.formUnion(node.outputs)
    }
    return depending
}

/// `targets` and every variable that one of them is computed from by `order`'s nodes,
/// through connected inputs: the variables the targets depend on.
func variablesInfluencing(_ targets: Set<Variable>, in order: [Apply]) -> Set<Variable> {
    var influencing = targets
    for node in order.reversed() where node.outputs.contains(where: influencing.contains) {
        for (index, input) in node.inputs.enumerated() where node.connects(input: index) { influencing.insert(input) }
    }
    return influencing
}

extension Apply {
    /// Whether differentiation sees the outputs as depending on input `index`.
    func connects(input index: Int) -> Bool {
        (op as? any DifferentiableOp)?.isConnected(toInput: index) ?? true
    }
}
