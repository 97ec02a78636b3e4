/// What ``grad(_:wrt:considerConstant:disconnected:fileID:line:)`` does with a variable the
/// cost does not depend on.
public enum DisconnectedPolicy: Sendable {
    /// Throw ``TheanoError/disconnectedInput(variable:location:)``: usually a bug in the model.
    case raise
    /// Return zeros of the variable's shape.
    case zero
}

/// The gradients of a scalar `cost` with respect to each of `wrt`, as new graph (reverse-mode
/// automatic differentiation, Theano's `grad`).
///
/// Gradients are built from each op's pullback, visiting the graph from the cost back to the
/// inputs and summing the contributions of every path. Variables in `considerConstant` are
/// treated as constants: no gradient flows through them. Nodes the gradient builds record
/// the source location of the node they differentiate.
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
    let blocked = Set(considerConstant)
    let cost = try Pipeline.stabilized(cost, keeping: wrt + considerConstant)
    let order = topologicalOrder(of: [cost], stoppingAt: blocked)
    let connected = variablesDepending(on: Set(wrt), in: order)

    var gradients: [Variable: Variable] = [cost: constant(1, dtype: cost.dtype, fileID: fileID, line: line)]
    for node in order.reversed() {
        let outputGradients = node.outputs.map { gradients[$0] }
        guard outputGradients.contains(where: { $0 != nil }),
              node.inputs.contains(where: { connected.contains($0) && !blocked.contains($0) })
        else { continue }
        guard let op = node.op as? any DifferentiableOp else {
            throw TheanoError.invalidArgument(function: "grad", reason: "\(node.op) has no gradient (node built at \(node.location))", location: location)
        }
        let inputGradients = try SourceLocation.attributing(to: node.location) {
            try op.pullback(node, outputGradients: outputGradients)
        }
        for (input, gradient) in zip(node.inputs, inputGradients) {
            guard let gradient, connected.contains(input), !blocked.contains(input) else { continue }
            try SourceLocation.attributing(to: node.location) {
                gradients[input] = try gradients[input].map { try $0 + gradient } ?? gradient
            }
        }
    }

    return try wrt.map { variable in
        if let gradient = gradients[variable] { return gradient }
        if connected.contains(variable) && order.contains(where: { $0.inputs.contains(variable) }) || variable == cost {
            return try zerosLike(variable, fileID: fileID, line: line)
        }
        switch disconnected {
        case .raise: throw TheanoError.disconnectedInput(variable: variable.description, location: location)
        case .zero: return try zerosLike(variable, fileID: fileID, line: line)
        }
    }
}

/// The nodes that compute `outputs`, each after the nodes computing its inputs. The walk
/// does not go past variables in `stoppingAt`.
func topologicalOrder(of outputs: [Variable], stoppingAt stops: Set<Variable> = []) -> [Apply] {
    var order: [Apply] = []
    var visited = Set<ObjectIdentifier>()
    // Iterative depth-first search: deep graphs (long unrolled loops) must not overflow the stack.
    var stack: [(Apply, Bool)] = outputs.compactMap { v in stops.contains(v) ? nil : v.owner.map { ($0, false) } }
    while let (node, expanded) = stack.popLast() {
        if expanded {
            order.append(node)
            continue
        }
        guard visited.insert(ObjectIdentifier(node)).inserted else { continue }
        stack.append((node, true))
        for input in node.inputs.reversed() where !stops.contains(input) {
            if let owner = input.owner, !visited.contains(ObjectIdentifier(owner)) { stack.append((owner, false)) }
        }
    }
    return order
}

/// `sources` and every variable computed from one of them by `order`'s nodes.
private func variablesDepending(on sources: Set<Variable>, in order: [Apply]) -> Set<Variable> {
    var depending = sources
    for node in order where node.inputs.contains(where: depending.contains) {
        depending.formUnion(node.outputs)
    }
    return depending
}
