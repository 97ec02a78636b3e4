import TheanoCore
import TheanoOps

/// A rewrite that looks at the whole graph at once (merging, for example) rather than at
/// one node.
public struct GraphPass: Sendable {
    /// The name used in traces, reports and `CompileOptions.excluding`.
    public let name: String
    /// Where the pass is defined.
    public let location: SourceLocation
    /// Rewrites the graph; returns how many replacements it made.
    package let run: @Sendable (FunctionGraph) throws -> Int

    /// A pass named `name` that rewrites a graph with `run`, which returns how many
    /// replacements it made.
    public init(_ name: String, fileID: String = #fileID, line: Int = #line, _ run: @escaping @Sendable (FunctionGraph) throws -> Int) {
        self.name = name
        location = SourceLocation(fileID: fileID, line: line)
        self.run = run
    }
}
