import TheanoCore
import TheanoOps
import TheanoOptimizer

/// The Jacobian-vector products `∂f/∂wrt · evalPoints`: for each output `f[i]`, how it
/// changes when every `wrt[j]` moves in the direction `evalPoints[j]` (Theano's `Rop`,
/// forward-mode automatic differentiation). `evalPoints[j]` must have the type of `wrt[j]`;
/// each result has the type of its output.
///
/// Tangents are built from each op's pushforward (``ForwardDifferentiableOp``), visiting the
/// graph from `wrt` toward `f`. An op with a pullback but no pushforward is handled by
/// transposing its pullback: the pullback is linear in the output gradients `u`, so the
/// gradient with respect to `u` of `sum(pullback(u) * v)` is the pushforward of `v` (the
/// double-pullback construction). As with ``grad(_:wrt:considerConstant:disconnected:fileID:line:)``,
/// `f` is first rewritten into its numerically stable form, and nodes built record the
/// source location of the node they differentiate.
///
/// An output that does not depend on any of `wrt` throws with `disconnected: .raise` and gets
/// zeros with `.zero`; one that depends on them without changing (an integer, a comparison,
/// `floor`) gets zeros.
///
/// ```swift
/// let jvp = try Rop([y], wrt: [x], evalPoints: [v])[0]   // J·v, of y's shape
/// ```
public func Rop(_ f: [Variable], wrt: [Variable], evalPoints: [Variable], disconnected: DisconnectedPolicy = .raise,
                fileID: String = #fileID, line: Int = #line) throws -> [Variable] {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    try checkEvalPoints(evalPoints, standingFor: wrt, named: "wrt", function: "Rop", location: location)
    guard Set(wrt).count == wrt.count else {
        throw TheanoError.invalidArgument(function: "Rop", reason: "a variable is listed twice in wrt", location: location)
    }
    let outputs = try stabilizedForm(f, keeping: wrt)
    let seeds = Dictionary(uniqueKeysWithValues: zip(wrt, evalPoints).filter { $0.0.dtype.isFloat })
    let tangents = try propagateTangents(to: outputs, from: seeds, function: "Rop", location: location)
    let connected = variablesDepending(on: Set(wrt), in: topologicalOrder(of: outputs, stoppingAt: Set(wrt)))
    return try outputs.map { output in
        if let tangent = tangents[output] { return tangent }
        guard connected.contains(output) || disconnected == .zero else {
            throw TheanoError.invalidArgument(function: "Rop", reason: "\(output) does not depend on any variable of wrt; pass disconnected: .zero to get zeros instead", location: location)
        }
        return try SourceLocation.attributing(to: location) { try zerosLike(output) }
    }
}

/// Forward mode over the nodes between the keys of `seeds` and `outputs`: the tangent of
/// every variable on the way (the seeds included) when each key moves along its value. A
/// variable that does not change has no entry; each tangent has its variable's type.
/// `function` and `location` name the caller in errors.
func propagateTangents(to outputs: [Variable], from seeds: [Variable: Variable], function: String,
                       location: SourceLocation) throws -> [Variable: Variable] {
    var tangents = seeds
    for node in topologicalOrder(of: outputs, stoppingAt: Set(seeds.keys)) {
        let inputTangents = node.inputs.indices.map { node.connects(input: $0) ? tangents[node.inputs[$0]] : nil }
        guard inputTangents.contains(where: { $0 != nil }) else { continue }
        try SourceLocation.attributing(to: node.location) {
            let outputTangents = try pushforward(node, inputTangents: inputTangents, function: function, location: location)
            for (output, tangent) in zip(node.outputs, outputTangents) where output.dtype.isFloat {
                guard let tangent else { continue }
                guard let fitted = try tangent.fitted(toTypeOf: output) else {
                    throw TheanoError.invalidArgument(function: function, reason: "the pushforward of \(node.op) (node built at \(node.location)) "
                        + "gave a tangent of type \(tangent.type) for an output of type \(output.type)", location: location)
                }
                tangents[output] = fitted
            }
        }
    }
    return tangents
}

/// The tangents of `outputs`, a graph over `inputs` standing for what `node` computes (an
/// op made of other ops), when each input changes by its tangent: forward mode inside the op.
package func tangents(of outputs: [Variable], over inputs: [Variable], inputTangents: [Variable?], at node: Apply) throws -> [Variable?] {
    var seeds: [Variable: Variable] = [:]
    for case let (input, tangent?) in zip(inputs, inputTangents) { seeds[input] = tangent }
    let tangents = try propagateTangents(to: outputs, from: seeds, function: "Rop", location: node.location)
    return outputs.map { tangents[$0] }
}

/// `node`'s output tangents: from its op's pushforward, else by transposing its pullback.
private func pushforward(_ node: Apply, inputTangents: [Variable?], function: String, location: SourceLocation) throws -> [Variable?] {
    if let op = node.op as? any ForwardDifferentiableOp {
        return try op.pushforward(node, inputTangents: inputTangents)
    }
    guard let op = node.op as? any DifferentiableOp else {
        throw TheanoError.invalidArgument(function: function, reason: "\(node.op) has no derivative (node built at \(node.location))", location: location)
    }
    return try transposedPullback(of: op, node, inputTangents: inputTangents, function: function, location: location)
}

/// The pushforward of an op that only has a pullback. The pullback maps output gradients
/// `u` linearly to input gradients, `uᵀJ`, so `sum(pullback(u) * v) = uᵀ(Jv)` and its
/// gradient with respect to `u` is `Jv`. That gradient does not depend on `u`'s value, only
/// on its shape: `u` is zeros of each output's shape.
private func transposedPullback(of op: any DifferentiableOp, _ node: Apply, inputTangents: [Variable?],
                                function: String, location: SourceLocation) throws -> [Variable?] {
    let cotangents = try node.outputs.map { $0.dtype.isFloat ? try zerosLike($0) : nil }
    let inputGradients = try op.checkedPullback(node, outputGradients: cotangents, function: function, location: location)
    var pairing: Variable?
    for (gradient, tangent) in zip(inputGradients, inputTangents) {
        guard let gradient, let tangent else { continue }
        pairing = try pairing.adding(sum(gradient * tangent))
    }
    let probes = cotangents.compactMap { $0 }
    guard let pairing, !probes.isEmpty else { return node.outputs.map { _ in nil } }
    var transposed = try grad(pairing, wrt: probes, disconnected: .zero)[...]
    return cotangents.map { $0 == nil ? nil : transposed.popFirst() }
}

extension Variable {
    /// `self`, a derivative computed for `variable` (a tangent of an output, a gradient of an
    /// input), cast to its dtype and broadcast to its shape where the derivative is narrower
    /// (as the tangent of one operand of a broadcast sum is); `nil` when it cannot stand for
    /// `variable`'s derivative — another rank, or a static size-1 dimension lost.
    package func fitted(toTypeOf variable: Variable) throws -> Variable? {
        guard ndim == variable.ndim else { return nil }
        var fitted = dtype == variable.dtype ? self : try cast(self, to: variable.dtype)
        if zip(fitted.type.broadcastable, variable.type.broadcastable).contains(where: { $0 && !$1 }) {
            fitted = try broadcast(fitted, like: variable)
        }
        return variable.type.fits(fitted.type) ? fitted : nil
    }
}
