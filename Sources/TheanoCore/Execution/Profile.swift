import Foundation
import Synchronization

/// Where a compiled function spends its time: per node and per kind of op, over all calls
/// since compilation (Theano's `profile=True`). Print it for a report.
public final class Profile: CustomStringConvertible, @unchecked Sendable {
    /// Time and calls of one node.
    public struct NodeTime: Sendable {
        /// The node's op, as it prints (`dot`, `composite{…}`).
        public let op: String
        /// Where the node was built.
        public let location: SourceLocation
        /// Seconds spent running the node, over all calls.
        public let seconds: Double
        /// How many calls of the function `seconds` is summed over.
        public let calls: Int

        package init(op: String, location: SourceLocation, seconds: Double, calls: Int) {
            self.op = op
            self.location = location
            self.seconds = seconds
            self.calls = calls
        }
    }

    private let labels: [(op: String, kind: String, location: SourceLocation)]
    private let nodeIdentifiers: [ObjectIdentifier]
    private let state: Mutex<(seconds: [Double], calls: Int)>
    /// Compile time by stage.
    public let compileTimes: CompileTimes

    package init(nodes: [Apply], compileTimes: CompileTimes) {
        labels = nodes.map { ("\($0.op)", String(describing: type(of: $0.op)), $0.location) }
        nodeIdentifiers = nodes.map(ObjectIdentifier.init)
        state = Mutex((Array(repeating: 0, count: nodes.count), 0))
        self.compileTimes = compileTimes
    }

    package func record(node index: Int, seconds: Double) { state.withLock { $0.seconds[index] += seconds } }
    func recordCall() { state.withLock { $0.calls += 1 } }

    /// How many times the function ran.
    public var calls: Int { state.withLock { $0.calls } }

    /// Every node, slowest first.
    public var nodes: [NodeTime] {
        let (seconds, calls) = state.withLock { ($0.seconds, $0.calls) }
        return zip(labels, seconds).map { NodeTime(op: $0.op, location: $0.location, seconds: $1, calls: calls) }
            .sorted { $0.seconds > $1.seconds }
    }

    /// Seconds spent in each node (of those the function runs), over all calls.
    package func secondsByNode() -> [ObjectIdentifier: Double] {
        let seconds = state.withLock { $0.seconds }
        return Dictionary(zip(nodeIdentifiers, seconds)) { first, _ in first }
    }

    /// Seconds per kind of op (`Dot`, `Composite`, …), slowest first.
    public var byKind: [(kind: String, seconds: Double)] {
        let seconds = state.withLock { $0.seconds }
        var totals: [String: Double] = [:]
        for (label, time) in zip(labels, seconds) { totals[label.kind, default: 0] += time }
        return totals.sorted { $0.value > $1.value }.map { ($0.key, $0.value) }
    }

    public var description: String {
        let calls = self.calls
        let total = nodes.reduce(0) { $0 + $1.seconds }
        func milliseconds(_ s: Double) -> String { String(format: "%9.3f ms", s * 1e3 / Double(Swift.max(calls, 1))) }
        var lines = ["\(calls) calls, \(milliseconds(total)) per call in nodes; compile: \(compileTimes)", "", "per op kind (per call):"]
        lines += byKind.map { "  \(milliseconds($0.seconds))  \(String(format: "%5.1f", 100 * $0.seconds / Swift.max(total, 1e-12)))%  \($0.kind)" }
        lines += ["", "slowest nodes (per call):"]
        lines += nodes.prefix(15).map { "  \(milliseconds($0.seconds))  \($0.op)  (\($0.location))" }
        return lines.joined(separator: "\n")
    }
}
