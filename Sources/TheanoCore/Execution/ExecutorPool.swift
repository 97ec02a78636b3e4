import Foundation

/// The executors of one compiled function, so that calls running at once never share
/// memory: a call takes an idle executor — or, when every one is busy, links the graph
/// again (the native backend finds its module in the cache: milliseconds) — and gives it
/// back when it returns. Up to `limit` idle executors are kept, each with the buffers it
/// reuses from call to call.
///
/// A function that answers calls while its kernels compile replaces its executors when
/// they are ready (``replace(first:link:)``): calls that start later take the new ones, and
/// executors of the first tier still running are dropped when they come back.
package final class ExecutorPool: @unchecked Sendable {
    private let lock = NSLock()
    // Accessed only under `lock`, so accesses are not checked again.
    @exclusivity(unchecked) private var idle: [any Executor]
    @exclusivity(unchecked) private var link: () throws -> any Executor
    /// Counts the replacements: an executor taken before one is not kept after.
    @exclusivity(unchecked) private var generation = 0
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
        let (taken, generation) = lock.withLock { (idle.popLast(), self.generation) }
        let executor = try taken ?? lock.withLock { self.link }()
        defer { lock.withLock { if generation == self.generation, idle.count < limit { idle.append(executor) } } }
        return try body(executor)
    }

    /// From now on, calls run `first` and the executors `link` makes.
    package func replace(first: any Executor, link: @escaping () throws -> any Executor) {
        lock.withLock {
            idle = [first]
            self.link = link
            generation += 1
        }
    }
}
