/// Applies rules to a graph: to a fixpoint (equilibrium), or in one walk from the inputs to
/// the outputs or back.
///
/// Rules are indexed by the op types they look at, so each node is offered only the rules
/// that can apply to it and a pass costs time proportional to the graph's size.
struct RewriteDriver {
    enum Strategy: Sendable {
        /// Repeated passes until one changes nothing, at most `maxPasses`.
        case equilibrium(maxPasses: Int)
        /// One pass, from the inputs to the outputs.
        case inToOut
        /// One pass, from the outputs to the inputs.
        case outToIn
    }

    let phase: String
    let strategy: Strategy
    private let indexed: [ObjectIdentifier: [Rewrite]]
    private let general: [Rewrite]

    init(phase: String, rules: [Rewrite], strategy: Strategy) {
        self.phase = phase
        self.strategy = strategy
        var indexed: [ObjectIdentifier: [Rewrite]] = [:]
        for rule in rules { for type in rule.opTypes ?? [] { indexed[type, default: []].append(rule) } }
        self.indexed = indexed
        general = rules.filter { $0.opTypes == nil }
    }

    func run(on graph: FunctionGraph, report: inout RewriteReport, trace: Bool, check: Bool) {
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
                    try replace(node, with: replacements, in: graph)
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

    /// Replaces `node`'s outputs, after checking every replacement fits (so a bad rule
    /// changes nothing). Dtypes are cast to the originals'.
    private func replace(_ node: Apply, with replacements: [Variable], in graph: FunctionGraph) throws {
        guard replacements.count == node.outputTypes.count else {
            throw OpError("returned \(replacements.count) replacements for \(node.outputTypes.count) outputs")
        }
        let pairs = try zip(node.outputs, replacements).map { old, new in
            let fitted = new.dtype == old.dtype ? new : try cast(new, to: old.dtype, at: node.location)
            guard old.type.fits(fitted.type) else {
                throw OpError("replacement of type \(new.type) does not fit \(old.type)")
            }
            return (old, fitted)
        }
        for (old, new) in pairs where old !== new { try graph.replace(old, with: new) }
    }
}

/// Checks the invariants every rewrite must keep: each node's inputs are graph variables or
/// leaves, each node's output types are still what its op infers from its inputs, clients
/// are consistent, and there is no cycle.
enum GraphChecker {
    /// A description of the first broken invariant, or `nil`.
    static func violation(in graph: FunctionGraph) -> String? {
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
