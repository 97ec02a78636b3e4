import ArgumentParser
import Foundation
import Theano
import TheanoModels

/// `theano bench W1 W2`: times workloads defined as in the peer benchmark harness and prints
/// one JSON line per workload variant, in the harness's schema, so the figures can be joined
/// with the peers'. Build in release mode (`swift run -c release theano bench …`).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time benchmark workloads and print JSON lines (workload, variant, median_ms, …)."
    )

    @Argument(help: "Workloads to run: W1 (logistic regression SGD step, batch 256), W2 (MLP 784-500-10 SGD step, batch 64/256/1024).")
    var workloads: [String] = ["W1", "W2"]

    @Option(help: "Timed runs per workload (after 3 warm-up runs).")
    var runs = 20

    func run() throws {
        for workload in workloads {
            switch workload {
            case "W1": try report(workload: "logreg_step", variant: "b256", sizes: [784, 10], batch: 256)
            case "W2":
                for batch in [64, 256, 1024] {
                    try report(workload: "mlp_step", variant: "b\(batch)", sizes: [784, 500, 10], batch: batch)
                }
            default: throw ValidationError("unknown workload \(workload); known: W1, W2")
            }
        }
    }

    /// Times one SGD step of a classifier of `sizes` on a random minibatch.
    private func report(workload: String, variant: String, sizes: [Int], batch: Int) throws {
        var random = RandomState(seed: 1234)
        let images = NDArray.uniform([batch, sizes[0]], using: &random)
        let labels = NDArray((0..<batch).map { _ in Int64(random.next() % UInt64(sizes.last!)) })
        let model = try Classifier(sizes: sizes, learningRate: 0.01)
        for _ in 0..<3 { _ = try model.step(images: images, labels: labels) }
        var times: [Double] = []
        for _ in 0..<runs {
            let start = ContinuousClock.now
            _ = try model.step(images: images, labels: labels)
            let elapsed = ContinuousClock.now - start
            times.append(Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) * 1e-15)
        }
        times.sort()
        let line: [String: Any] = [
            "workload": workload, "system": "swift_theano", "variant": variant, "threads": 1,
            "median_ms": times[times.count / 2], "min_ms": times.first!, "max_ms": times.last!, "n": runs,
            "notes": "reference interpreter",
        ]
        let json = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }
}
