import Foundation

/// The executors of one compiled function, so that calls running at once never share
/// memory: a call takes an idle executor — or, when every one is busy, links the graph
/// again (the native backend finds its module in the cache: milliseconds) — and gives it
/// back when it returns. Up to `limit` idle executors are kept, each with the buffers it
/// reuses from call to call.
package final class ExecutorPool: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [any Executor]
    private let link: () throws -> any Executor
    private let limit: Int

    /// A pool holding `first`, which makes more with `link`.
    package init(first: any Executor, limit: Int = Swift.max(cores, 2), link: @escaping () throws -> any Executor) {
        idle = [first]
        self.limit = limit
        self.link = link
    }

    /// Runs `body` with an executor no other running call has.
    // Specialized for the calls of functions (in another module).
    @_specialize(exported: true, where R == [NDArray])
    package func withExecutor<R>(_ body: (any Executor) throws -> R) throws -> R {
        let taken = lock.withLock { idle.popLast() }
        let executor = try taken ?? link()
        defer { lock.withLock { if idle.count < limit { idle.append(executor) } } }
        return try body(executor)
    }
}
