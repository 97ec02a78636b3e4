/// What the optimizer did to a graph: the rules that fired where (when tracing), the rules
/// that failed (each reported once and skipped), phases that hit their pass bound, and the
/// time spent — and the same for the graphs inside the graph's ops (a loop's construction
/// and its step).
public struct RewriteReport: CustomStringConvertible, Sendable {
    package init() {}

    /// One rule firing: which rule, in which phase, on which op, for the node built where.
    public struct Event: Sendable, CustomStringConvertible {
        /// The phase the rule ran in (a ``RewritePhase`` raw value).
        public let phase: String
        /// The rule's name.
        public let rule: String
        /// The op of the node rewritten, as it prints.
        public let op: String
        /// Where the node rewritten was built.
        public let location: SourceLocation

        package init(phase: String, rule: String, op: String, location: SourceLocation) {
            self.phase = phase
            self.rule = rule
            self.op = op
            self.location = location
        }
        public var description: String { "\(phase): \(rule) rewrote \(op) (built at \(location))" }
    }

    /// Rule firings, in order (recorded when `CompileOptions.trace` is on).
    public package(set) var events: [Event] = []
    /// How often each rule fired.
    public package(set) var counts: [String: Int] = [:]
    /// The first error of each rule that failed; the rule was skipped.
    public package(set) var failures: [String: String] = [:]
    /// Phases that stopped at their pass bound before reaching a fixpoint.
    public package(set) var unfinishedPhases: [String] = []
    /// Graph invariants found broken after a rule (only checked when asked).
    public package(set) var violations: [String] = []
    /// Seconds spent rewriting.
    public package(set) var seconds: Double = 0
    /// The reports of the graphs inside the graph's ops, in the order they were compiled:
    /// what was done to a loop's step as the loop was built (`scan{name} construction`),
    /// and the step and its pullback optimized as the function asks (`scan{name} step`).
    public package(set) var innerGraphs: [InnerGraphReport] = []

    /// Whether any rule, pass or construction step failed here or in an inner graph.
    public var hasFailures: Bool { !failures.isEmpty || innerGraphs.contains { $0.report.hasFailures } }

    public var description: String {
        var lines = events.map(\.description)
        lines += counts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)×" }
        lines += failures.sorted { $0.key < $1.key }.map { "rule \($0.key) failed and was skipped: \($0.value)" }
        lines += unfinishedPhases.map { "phase \($0) stopped at its pass bound before a fixpoint" }
        lines += violations.map { "invariant broken: \($0)" }
        for inner in innerGraphs where !inner.report.description.isEmpty {
            lines.append("\(inner.name):")
            lines += inner.report.description.split(separator: "\n").map { "  \($0)" }
        }
        return lines.joined(separator: "\n")
    }
}

/// The report of a graph inside an op, named after the op and the graph.
public struct InnerGraphReport: Sendable {
    /// `scan{name} construction`, `scan{name} step`, `scan{name} gradient step`.
    public let name: String
    /// What was done to the graph.
    public let report: RewriteReport

    package init(name: String, report: RewriteReport) {
        self.name = name
        self.report = report
    }
}
