import TheanoCore

/// How many BLAS threads each product of one node gets, chosen product by product.
///
/// Below ``smallProduct`` floating-point operations, one: measured with OpenBLAS 0.3.21 on a
/// 2-core AMD EPYC, a second thread makes a 0.6 MFLOP product 1.7–2× slower (waking it costs
/// more than it saves), while at 4 MFLOP it makes it 1.2–1.6× faster. Above, whichever count
/// has lately taken less time per operation: on an idle machine all the cores, but when other
/// work keeps a core busy, a thread waiting for that core holds up the whole product (a
/// 50 MFLOP product took 3.7 ms on two threads against 1.3 ms on one), so the node falls back
/// to one thread — and tries the others again every ``exploration``th product, to notice
/// when the machine is free again. Setting OpenBLAS's thread count costs about 5 ns.
final class ProductThreading {
    /// Products of fewer operations (2·m·n·k) run on one thread.
    static let smallProduct = 2e6
    /// One product in this many runs on the count not currently preferred.
    static let exploration = 64

    /// The thread counts tried: one, and every core.
    private let counts: [Int]
    /// The last few seconds per operation seen with each count (the newest last).
    private var samples: [[Double]]
    private var products = 0

    init(cores: Int) {
        counts = cores > 1 ? [1, cores] : [1]
        samples = Array(repeating: [], count: counts.count)
    }

    /// Runs `product` (of `operations` floating-point operations) after telling the BLAS
    /// library, by `setThreads`, how many threads to use.
    func run(operations: Double, setThreads: (Int) -> Void, _ product: () -> Void) {
        guard operations >= Self.smallProduct, counts.count > 1 else {
            setThreads(1)
            product()
            return
        }
        products += 1
        let best = samples.contains(where: \.isEmpty) ? nil : counts.indices.min { median(samples[$0]) < median(samples[$1]) }
        let choice = best.map { products % Self.exploration == 0 ? ($0 + 1) % counts.count : $0 } ?? samples.firstIndex(where: \.isEmpty)!
        setThreads(counts[choice])
        let start = ContinuousClock.now
        product()
        let rate = seconds(since: start) / operations
        // A count tried only now and then is judged by its latest try alone.
        samples[choice] = choice == best ? Array((samples[choice] + [rate]).suffix(3)) : [rate]
    }

    private func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
}
