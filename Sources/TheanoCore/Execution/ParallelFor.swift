import Dispatch
import Foundation

/// Runs `body` over `0 ..< count` split into contiguous chunks, on all cores when the work
/// is large enough to pay for the threads (about 10⁵ elements), else inline.
///
/// There are a few chunks per core, taken in turn by whichever thread is free: when other
/// work holds a core, the thread waiting for it would hold up the whole loop if it had been
/// given a fixed share; the calling thread takes the chunks it has not started.
package func parallelFor(_ count: Int, workPerItem: Int, _ body: (Int, Int) -> Void) {
    guard cores > 1, count > 1, count * workPerItem >= 1 << 17 else {
        body(0, count)
        return
    }
    let chunks = Swift.min(cores * chunksPerCore, count)
    withoutActuallyEscaping(body) { body in
        // The chunks write disjoint parts of the output; the callers' pointers stay valid
        // until concurrentPerform returns.
        let shared = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            shared.value(count * chunk / chunks, count * (chunk + 1) / chunks)
        }
    }
}

/// Chunks per core of a parallel loop: more balance the load between busy and free cores,
/// fewer cost less to hand out.
private let chunksPerCore = 4

/// A value handed to other threads under the caller's guarantee that it is safe to.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// The cores available, read once (asking Foundation each time costs microseconds).
package let cores = ProcessInfo.processInfo.activeProcessorCount
