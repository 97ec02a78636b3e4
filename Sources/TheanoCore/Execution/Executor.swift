import Foundation

/// Runs a compiled graph: given the values of the inputs (shared variables are read where
/// they live), computes the outputs. The reference `Interpreter` runs each op's Swift
/// implementation; the native backend runs generated code where it can.
public protocol Executor {
    /// Computes the graph's outputs from `inputs` (one per graph input).
    func run(inputs: [NDArray]) throws -> [NDArray]
    /// The same, writing output `i` into `outputTargets[i]` (where given, contiguous, and not
    /// overlapping the inputs) when the executor can; the caller compares addresses to know.
    func run(inputs: [NDArray], outputTargets: [NDArray?]) throws -> [NDArray]
}

extension Executor {
    public func run(inputs: [NDArray], outputTargets: [NDArray?]) throws -> [NDArray] { try run(inputs: inputs) }
}

/// Turns an optimized ``FunctionGraph`` into something that runs.
public protocol Linker: Sendable {
    /// Links `graph`, whose last `updates.count` outputs are the new values of `updates`
    /// (a linker may write those over the variables' memory), and whose inputs at
    /// `overwritableInputs` the caller hands over for good (a linker may write over them).
    /// The inner graphs of its ops (loop steps) are compiled by `innerGraphs`.
    func link(_ graph: FunctionGraph, updates: [SharedVariable], overwritableInputs: Set<Int>,
              innerGraphs: InnerGraphCompiler) throws -> LinkedGraph
}

extension Linker {
    /// Links `graph`, the inner graphs of its ops linked by this linker as they are built.
    public func link(_ graph: FunctionGraph, updates: [SharedVariable], overwritableInputs: Set<Int>) throws -> LinkedGraph {
        try link(graph, updates: updates, overwritableInputs: overwritableInputs, innerGraphs: .unoptimized(linkedBy: self))
    }

    /// Links a graph whose inputs stay the caller's.
    public func link(_ graph: FunctionGraph, updates: [SharedVariable]) throws -> LinkedGraph {
        try link(graph, updates: updates, overwritableInputs: [])
    }

    /// Links a graph that updates no shared variable.
    public func link(_ graph: FunctionGraph) throws -> LinkedGraph { try link(graph, updates: []) }
}

/// What a linker produced: the executor, and what happened on the way.
public struct LinkedGraph {
    /// Runs the linked graph.
    public let executor: any Executor
    /// Problems the linker worked around (no C compiler, a failed compile), each said once.
    public var warnings: [String] = []
    /// How many nodes run generated code.
    public var compiledNodes = 0
    /// How many nodes may write their result over an input's memory.
    public var inplaceNodes = 0
    /// Whether the compiled module came from the on-disk cache.
    public var cacheHit = false
    /// Seconds spent generating C, compiling it, and loading it.
    public var codegenSeconds = 0.0, compileSeconds = 0.0, loadSeconds = 0.0
    /// Whether nodes that will have compiled code run their reference implementations for
    /// now, their module not compiled yet (a first tier, linked without compiling).
    public var isProvisional = false

    /// What a linker produced: `executor`, with no warnings, compiled nodes or times.
    public init(executor: any Executor) { self.executor = executor }
}

/// How the inner graphs of ops (a loop's step) are compiled: optimized as the function that
/// contains them asks, then linked by its linker. `function` makes one from its options and
/// hands it to its linker, which hands it on to the ops that link graphs of their own
/// (`SelfLinkingOp`); the ops record what was done to their graphs, and the function's
/// ``RewriteReport`` shows it.
public struct InnerGraphCompiler: Sendable {
    /// Links the inner graphs.
    public let linker: any Linker
    /// Names the optimization: graphs optimized under equal names are interchangeable.
    package let optimization: String
    /// Rewrites an inner graph in place.
    package let optimize: @Sendable (FunctionGraph) -> RewriteReport
    /// The reports the ops recorded while linking.
    package let reports: InnerGraphReports

    package init(linker: any Linker, optimization: String, reports: InnerGraphReports = InnerGraphReports(),
                 optimize: @escaping @Sendable (FunctionGraph) -> RewriteReport) {
        (self.linker, self.optimization, self.reports, self.optimize) = (linker, optimization, reports, optimize)
    }

    /// This compiler with the graphs linked by `linker` instead (optimized the same, and
    /// recording into the same reports).
    package func linking(with linker: any Linker) -> InnerGraphCompiler {
        InnerGraphCompiler(linker: linker, optimization: optimization, reports: reports, optimize: optimize)
    }

    /// Inner graphs linked by `linker` as they are built.
    public static func unoptimized(linkedBy linker: any Linker) -> InnerGraphCompiler {
        InnerGraphCompiler(linker: linker, optimization: "none") { _ in RewriteReport() }
    }

    /// Links `graph` (already optimized) with this compiler.
    package func link(_ graph: FunctionGraph, overwritableInputs: Set<Int> = []) throws -> any Executor {
        try linker.link(graph, updates: [], overwritableInputs: overwritableInputs, innerGraphs: self).executor
    }
}

/// The reports of inner graphs recorded while a function links (once per name: a second
/// link of the same function records the same graphs again).
package final class InnerGraphReports: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [InnerGraphReport] = []

    package init() {}

    /// Records `report` under `name` unless a report of that name is there already.
    package func record(_ report: RewriteReport, as name: String) {
        lock.withLock {
            if !recorded.contains(where: { $0.name == name }) { recorded.append(InnerGraphReport(name: name, report: report)) }
        }
    }

    /// The reports recorded so far, in order.
    package var all: [InnerGraphReport] { lock.withLock { recorded } }
}

/// An op that runs a graph of its own (a loop's step), compiled the way the function that
/// runs the op asks: a linker asks the op for its node's runner instead of naming it.
package protocol SelfLinkingOp: Op {
    /// Runs `node`, its inner graph compiled by `compiler`.
    func runner(for node: Apply, compiledBy compiler: InnerGraphCompiler) throws -> any NodeRunner
}

/// Runs a node by a function its op made at link time (``SelfLinkingOp``).
package struct InnerGraphRunner: NodeRunner {
    package let node: Apply
    package let body: ([NDArray]) throws -> [NDArray]

    package init(node: Apply, body: @escaping ([NDArray]) throws -> [NDArray]) {
        self.node = node
        self.body = body
    }

    package func run(_ inputs: [NDArray]) throws -> [NDArray] {
        try node.op.validate(inputs, node: node)
        return try body(inputs)
    }
}
