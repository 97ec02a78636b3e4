import TheanoCore
import TheanoOps

/// Applies rules to a graph: to a fixpoint (equilibrium), or in one walk from the inputs to
/// the outputs or back.
///
/// Rules are indexed by the op types they look at, so each node is offered only the rules
/// that can apply to it and a pass costs time proportional to the graph's size.
package struct RewriteDriver {
    package enum Strategy: Sendable {
        /// Repeated passes until one changes nothing, at most `maxPasses`.
        case equilibrium(maxPasses: Int)
        /// One pass, from the inputs to the outputs.
        case inToOut
        /// One pass, from the outputs to the inputs.
        case outToIn
    }

    package let phase: String
    package let strategy: Strategy
    private let indexed: [ObjectIdentifier: [Rewrite]]
    private let general: [Rewrite]

    package init(phase: String, rules: [Rewrite], strategy: Strategy) {
        self.phase = phase
        self.strategy = strategy
        var indexed: [ObjectIdentifier: [Rewrite]] = [:]
        for rule in rules { for type in rule.opTypes ?? [] { indexed[type, default: []].append(rule) } }
        self.indexed = indexed
        general = rules.filter { $0.opTypes == nil }
    }

    package func run(on graph: FunctionGraph, report: inout RewriteReport, trace: Bool, check: Bool) {
        switch strategy {
        case .inToOut: pass(graph, order: graph.nodes, report: &report, trace: trace, check: check)
        case .outToIn: pass(graph, order: graph.nodes.reversed(), report: &report, trace: trace, check: check)
        case .equilibrium(let maxPasses):
            for _ in 0..<maxPasses {
                let before = graph.changeCount
                pass(graph, order: graph.nodes, report: &report, trace: trace, check: check)
                if graph.changeCount == before { return }
            }
            report.unfinishedPhases.append(phase)
        }
    }

    private func pass(_ graph: FunctionGraph, order: [Apply], report: inout RewriteReport, trace: Bool, check: Bool) {
        let context = RewriteContext(graph: graph)
        for node in order where graph.contains(node) {
            let rules = (indexed[ObjectIdentifier(type(of: node.op))] ?? []) + general
            for rule in rules where report.failures[rule.name] == nil {
                do {
                    guard let replacements = try SourceLocation.attributing(to: node.location, { try rule.transform(node, context) })
                    else { continue }
                    guard try replace(node, with: replacements, in: graph) else { continue }
                    report.counts[rule.name, default: 0] += 1
                    if trace { report.events.append(.init(phase: phase, rule: rule.name, op: node.op.description, location: node.location)) }
                    if check, let violation = GraphChecker.violation(in: graph) { report.violations.append("after \(rule.name): \(violation)") }
                    break
                } catch {
                    report.failures[rule.name] = "\(error)"
                }
            }
        }
    }

    /// Replaces `node`'s outputs, after fitting every replacement to the type it replaces
    /// (so a bad rule changes nothing). Returns `false`, changing nothing, when one cannot fit.
    private func replace(_ node: Apply, with replacements: [Variable], in graph: FunctionGraph) throws -> Bool {
        guard replacements.count == node.outputTypes.count else {
            throw OpError("returned \(replacements.count) replacements for \(node.outputTypes.count) outputs")
        }
        var pairs: [(Variable, Variable)] = []
        for (old, new) in zip(node.outputs, replacements) {
            guard let fitted = try fit(new, replacing: old) else { return false }
            pairs.append((old, fitted))
        }
        for (old, new) in pairs where old !== new { try graph.replace(old, with: new) }
        return true
    }
}

/// `new` made to stand where `old` stood: cast to its dtype, and broadcast to its shape
/// where `new` is broadcastable but `old` was not (a replacement can be narrower than what
/// it replaces, as `log1p(x)` for `log(ones(3) + x)`). `nil` when it cannot fit.
package func fit(_ new: Variable, replacing old: Variable) throws -> Variable? {
    let location = old.owner?.location ?? old.location
    var fitted = new.dtype == old.dtype ? new : try cast(new, to: old.dtype, at: location)
    guard fitted.ndim == old.ndim else { return nil }
    let narrower = zip(fitted.type.broadcastable, old.type.broadcastable).contains { $0 && !$1 }
    if narrower {
        guard let node = old.owner, let op = node.op as? any ShapeInferringOp else { return nil }
        let sizes = try op.inferShape(node, inputShapes: node.inputs.map { try $0.dimensionSizes() })[old.outputIndex]
        fitted = try alloc(fitted, sizes: sizes, at: location)
    }
    return old.type.fits(fitted.type) ? fitted : nil
}

/// Checks the invariants every rewrite must keep: each node's inputs are graph variables or
/// leaves, each node's output types are still what its op infers from its inputs, clients
/// are consistent, and there is no cycle.
package enum GraphChecker {
    /// A description of the first broken invariant, or `nil`.
    package static func violation(in graph: FunctionGraph) -> String? {
        let nodes = graph.nodes
        let position = Dictionary(uniqueKeysWithValues: nodes.enumerated().map { (ObjectIdentifier($1), $0) })
        for (index, node) in nodes.enumerated() {
            if node.inputs.contains(where: { input in input.owner.map { position[ObjectIdentifier($0)].map { $0 >= index } ?? false } ?? false }) {
                return "\(node.op) is part of a cycle"
            }
            guard graph.contains(node) else { return "\(node.op) is reachable but not a member" }
            for (position, input) in node.inputs.enumerated() {
                if let owner = input.owner, !graph.contains(owner) { return "\(node.op) reads \(input), whose node is not in the graph" }
                guard graph.readers(of: input).contains(where: { $0.node === node && $0.position == position }) else {
                    return "\(node.op) is not recorded as a client of its input \(position)"
                }
            }
            guard let types = try? node.op.outputTypes(node.inputs.map(\.type)), types.map(\.dtype) == node.outputTypes.map(\.dtype),
                  zip(types, node.outputTypes).allSatisfy({ $0.broadcastable == $1.broadcastable })
            else { return "\(node.op)'s output types no longer follow from its inputs \(node.inputs.map(\.type))" }
        }
        return nil
    }
}
