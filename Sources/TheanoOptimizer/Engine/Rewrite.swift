import TheanoCore
import TheanoOps

/// A rewrite rule: a named, located transformation of graph nodes.
///
/// A rule looks at one node and returns replacements for its outputs, or `nil` to leave it
/// alone. Rules are values assembled into phases in one place (`Pipeline.swift`); there is
/// no global registry. A rule says which op types it looks at, so drivers only offer it
/// those nodes. The nodes a rule builds record the source location of the node they
/// replace, so errors after rewriting still point at the user's line.
public struct Rewrite: Sendable, CustomStringConvertible {
    /// The name used in traces, reports and `CompileOptions.excluding`.
    public let name: String
    /// Where the rule is defined.
    public let location: SourceLocation
    /// The op types the rule looks at; `nil` for every node.
    let opTypes: [ObjectIdentifier]?
    let transform: @Sendable (Apply, RewriteContext) throws -> [Variable]?

    package init(name: String, location: SourceLocation, opTypes: [ObjectIdentifier]?, transform: @escaping @Sendable (Apply, RewriteContext) throws -> [Variable]?) {
        self.name = name
        self.location = location
        self.opTypes = opTypes
        self.transform = transform
    }

    public var description: String { "\(name) (\(location))" }

    /// A rule written as a function of the node.
    public static func node(
        _ name: String, on opTypes: [any Op.Type]? = nil, fileID: String = #fileID, line: Int = #line,
        _ transform: @escaping @Sendable (Apply, RewriteContext) throws -> [Variable]?
    ) -> Rewrite {
        Rewrite(name: name, location: SourceLocation(fileID: fileID, line: line),
                opTypes: opTypes?.map { ObjectIdentifier($0) }, transform: transform)
    }

    /// A rule that replaces the single output of nodes matching `pattern` by what `replace`
    /// builds from the match, given the dimshuffles, broadcasts and casts the match looked
    /// through (see ``Pattern/underCastsAndBroadcasts(_:)``).
    ///
    /// ```swift
    /// Rewrite.pattern("log1p", .op(Log.self, .op(Add.self, 1, "x"))) { try log1p($0["x"]) }
    /// ```
    public static func pattern(
        _ name: String, _ pattern: Pattern, fileID: String = #fileID, line: Int = #line,
        _ replace: @escaping @Sendable (Match) throws -> Variable?
    ) -> Rewrite {
        guard case .apply(let root, _) = pattern else { preconditionFailure("a rule's pattern must start with an op") }
        precondition(pattern.relaysOutSoundly, "\(name): only elementwise ops with constant operands may lie above underCastsAndBroadcasts")
        return Rewrite(name: name, location: SourceLocation(fileID: fileID, line: line), opTypes: [root.type]) { node, context in
            guard let match = pattern.match(node.output(0), in: context), let replacement = try replace(match) else { return nil }
            return [try match.relaidOut(replacement)]
        }
    }
}

/// What a rule may consult besides the node: the graph (clients, outputs) and helpers for
/// constants.
public struct RewriteContext {
    package let graph: FunctionGraph

    package init(graph: FunctionGraph) {
        self.graph = graph
    }

    /// The nodes reading `variable`.
    public func readerCount(of variable: Variable) -> Int {
        graph.readers(of: variable).count + (graph.isOutput(variable) ? 1 : 0)
    }
}
