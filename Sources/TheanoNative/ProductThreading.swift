import TheanoCore

/// How many BLAS threads each product of one linked graph gets, chosen product by product.
///
/// By default (not `adaptive`) the count depends on the product's size alone: every core
/// from ``multithreadedProduct`` operations up, else one thread. 4 MFLOP is where a second thread
/// starts to pay on its own (below); inside loops, whose steps run products of that size one
/// after another, it made a W4 step (4.2 MFLOP products) 1.2× faster and a GRU step 1.2×,
/// with LSTM (17 MFLOP, on every core either way) and W1/W2 unchanged. The same product then always runs
/// the same way, so its result has the same bits (OpenBLAS's sums are ordered differently on
/// one thread and on several).
///
/// Adaptive (``NativeLinker/adaptiveThreading``), a graph whose products are all below
/// ``smallProduct`` floating-point operations runs them on one thread: measured with
/// OpenBLAS 0.3.21 on a 2-core AMD EPYC, a second thread makes a 0.6 MFLOP product 1.7–2×
/// slower (waking it costs more than it saves); alone, a 4 MFLOP product is 1.2–1.6× faster
/// on two threads, but in the W1 training step, whose products are of that size, the step
/// took 0.84–3.3 ms from process to process with two threads against a steady 0.72 ms with
/// one. A graph with larger products gives them whichever count has lately taken less time
/// per operation: on an idle machine all the cores, but when other work keeps a core busy, a
/// thread waiting for that core holds up the whole product (a 50 MFLOP product took 3.7 ms on
/// two threads against 1.3 ms on one), so the graph falls back to one thread — and tries the
/// others again every ``exploration``th product, to notice when the machine is free again.
/// Its small products use the same count: switching them to one thread made the large
/// products after them 1.6× slower (OpenBLAS's idle worker sleeps deeper). Each count is
/// judged by the median of its last few tries on that node, so that one slow try does not
/// decide. Setting OpenBLAS's thread count costs about 5 ns. One per executor: calls running
/// at once never share it.
final class ProductThreading {
    /// Adaptive, products of fewer operations (2·m·n·k) run on one thread.
    static let smallProduct = 1e7
    /// By size (not adaptive), products of at least this many operations run on every core.
    static let multithreadedProduct = 4e6
    /// One product in this many runs on the count not currently preferred.
    static let exploration = 16
    /// How many tries of each count are remembered.
    static let window = 5
    /// How many tries each count gets before the medians decide.
    static let firstTries = 3

    /// The thread counts tried: one, and every core.
    private let counts: [Int]
    /// What each large product's node has seen.
    private struct History {
        /// The last few seconds per operation with each count (the newest last).
        var tries: [[Double]]
        var products = 0
    }
    private var histories: [ObjectIdentifier: History] = [:]
    /// The most operations of a product seen.
    private var largest = 0.0
    /// The count the last large product ran on.
    private var lastLargeCount: Int
    /// Whether the counts follow measured times.
    private let adaptive: Bool

    init(cores: Int, adaptive: Bool) {
        counts = cores > 1 ? [1, cores] : [1]
        lastLargeCount = counts[counts.count - 1]
        self.adaptive = adaptive
    }

    /// Runs `product` (of `operations` floating-point operations, computing `node`) after
    /// telling the BLAS library, by `setThreads`, how many threads to use; products of fewer
    /// than `small` operations are small.
    func run(operations: Double, node: ObjectIdentifier, small: Double = smallProduct, setThreads: (Int) -> Void, _ product: () -> Void) {
        guard adaptive else {
            setThreads(operations >= Swift.min(small, Self.multithreadedProduct) ? counts[counts.count - 1] : 1)
            return product()
        }
        largest = Swift.max(largest, operations)
        guard operations >= small, counts.count > 1 else {
            setThreads(largest >= Self.smallProduct ? lastLargeCount : 1)
            product()
            return
        }
        var history = histories[node] ?? History(tries: Array(repeating: [], count: counts.count))
        history.products += 1
        let tries = history.tries
        // Every count is tried a few times first: the first try on a new thread count pays
        // for waking its threads, and one slow try must not decide for the next ``exploration``.
        let leastTried = counts.indices.min { tries[$0].count < tries[$1].count }!
        let best = tries[leastTried].count < Self.firstTries ? nil : counts.indices.min { median(tries[$0]) < median(tries[$1]) }
        let choice = best.map { history.products % Self.exploration == 0 ? ($0 + 1) % counts.count : $0 } ?? leastTried
        setThreads(counts[choice])
        lastLargeCount = counts[choice]
        let start = ContinuousClock.now
        product()
        history.tries[choice] = Array((tries[choice] + [seconds(since: start) / operations]).suffix(Self.window))
        histories[node] = history
    }

    private func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
}
