import Foundation
import Synchronization
import TheanoCore
import TheanoNative

/// What a function's linker made of it, as its properties report it: known at once, or —
/// for a function answering calls while its kernels compile — once the optimized code is
/// in place.
final class LinkedCode: @unchecked Sendable {
    /// The facts of one link.
    struct Summary {
        let warnings: [String]
        let compiledNodes: Int
        let inplaceNodes: Int
        let times: CompileTimes

        init(_ linked: LinkedGraph, times: CompileTimes) {
            (warnings, compiledNodes, inplaceNodes, self.times) = (linked.warnings, linked.compiledNodes, linked.inplaceNodes, times)
        }

        init(_ summary: Summary, warning: String) {
            (warnings, compiledNodes, inplaceNodes, times) = (summary.warnings + [warning], summary.compiledNodes, summary.inplaceNodes, summary.times)
        }
    }

    /// The first link's facts, final unless the optimized code is being compiled.
    private let first: Summary
    /// The optimized code's facts once it is in place; `nil` while it compiles.
    private let optimized = Mutex<Summary?>(nil)
    /// Entered while the optimized code compiles.
    private let compiling = DispatchGroup()

    init(_ linked: LinkedGraph, times: CompileTimes) { first = Summary(linked, times: times) }

    /// Whether calls run the final code.
    var isFinal: Bool { compiling.wait(timeout: .now()) == .success }

    /// The final code's facts, waiting for it while it compiles.
    var summary: Summary {
        compiling.wait()
        return optimized.withLock { $0 } ?? first
    }

    func startCompiling() { compiling.enter() }

    /// Records the optimized code's facts.
    func finish(_ summary: Summary) {
        optimized.withLock { $0 = summary }
        compiling.leave()
    }

    /// Records why the optimized code could not be made: calls go on running the first tier.
    func fail(_ warning: String) { finish(Summary(first, warning: warning)) }
}

extension Function {
    /// Whether calls run the function's final code: `false` only while the kernels of a
    /// function compiled with ``CompileOptions/waitsForOptimizedCode`` `false` are compiling,
    /// when calls run the first tier.
    public var isOptimizedCodeReady: Bool { linkedCode.isFinal }

    /// Returns once calls run the function's final code (at once when they already do).
    public func waitForOptimizedCode() { _ = linkedCode.summary }

    /// Links the optimized code by `link` on another thread, and swaps it in between calls.
    /// Should that fail, calls go on running the first tier, and ``linkWarnings`` says why.
    func compileOptimizedCode(rewriteSeconds: Double, link: @escaping () throws -> LinkedGraph) {
        linkedCode.startCompiling()
        let compilation = OptimizedCodeCompilation(function: name, rewriteSeconds: rewriteSeconds, link: link, executors: executors,
                                                   linkedCode: linkedCode)
        let turn = CompileTurns.shared.take()
        // A thread of its own: a pool's threads may all be busy calling this very function.
        Thread.detachNewThread {
            CompileTurns.shared.wait(for: turn)
            defer { CompileTurns.shared.finish() }
            compilation.run()
        }
    }
}

/// The work of linking a function's optimized code on another thread.
private final class OptimizedCodeCompilation: @unchecked Sendable {
    let function: String
    let rewriteSeconds: Double
    let link: () throws -> LinkedGraph
    let executors: ExecutorPool
    let linkedCode: LinkedCode

    init(function: String, rewriteSeconds: Double, link: @escaping () throws -> LinkedGraph, executors: ExecutorPool, linkedCode: LinkedCode) {
        (self.function, self.rewriteSeconds, self.link, self.executors, self.linkedCode) = (function, rewriteSeconds, link, executors, linkedCode)
    }

    /// Links, then hands the executors to the function's pool and the facts to its properties.
    func run() {
        let start = ContinuousClock.now
        do {
            let linked = try link()
            let times = CompileTimes(rewrite: rewriteSeconds, link: seconds(since: start), codegen: linked.codegenSeconds,
                                     compile: linked.compileSeconds, load: linked.loadSeconds, cacheHit: linked.cacheHit)
            executors.replace(first: linked.executor) { [link] in try link().executor }
            linkedCode.finish(LinkedCode.Summary(linked, times: times))
        } catch {
            let warning = "linking the compiled code of \(function) failed: \(error); calls go on running the reference implementations"
            Diagnostics.warnOnce(warning)
            linkedCode.fail(warning)
        }
    }
}

/// Background compiles take turns, in the order their functions were made. Each compile
/// already uses every core (a module's units compile at once), so two at once only delay
/// both: a model's training step and its prediction function compiling together had the
/// training step's code in place after both were done.
private final class CompileTurns: @unchecked Sendable {
    static let shared = CompileTurns()
    private let condition = NSCondition()
    private var issued = 0, serving = 0

    /// The next turn.
    func take() -> Int {
        condition.lock()
        defer { condition.unlock() }
        issued += 1
        return issued - 1
    }

    /// Returns when `turn` comes.
    func wait(for turn: Int) {
        condition.lock()
        while serving != turn { condition.wait() }
        condition.unlock()
    }

    /// Ends the current turn.
    func finish() {
        condition.lock()
        serving += 1
        condition.broadcast()
        condition.unlock()
    }
}
