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

    @Argument(help: """
        Workloads to run: W1 (logistic regression SGD step, batch 256), W2 (MLP 784-500-10 SGD step, batch \
        64/256/1024), rewrite (optimizer time for N-hidden-layer tanh MLPs with their gradients, N = 5, 20, 80).
        """)
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
            case "rewrite": for layers in [5, 20, 80] { try reportRewrite(layers: layers) }
            default: throw ValidationError("unknown workload \(workload); known: W1, W2, rewrite")
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
        try printLine(workload: workload, variant: variant, times: times, extra: ["notes": "reference interpreter"])
    }

    /// Times the optimizer on the SGD step of a tanh MLP with `layers` hidden layers of 100
    /// units (graph built once, compiled `runs` times), and counts nodes before and after.
    private func reportRewrite(layers: Int) throws {
        let x = matrix("x", shape: (nil, 100)), y = vector("y", dtype: .int64)
        var random = RandomState(seed: 1)
        var parameters: [SharedVariable] = []
        var hidden = x
        for layer in 0...layers {
            let width = layer == layers ? 10 : 100
            let W = try shared(NDArray.uniform([100, width], low: -0.1, high: 0.1, using: &random), name: "W\(layer)")
            let b = try shared(NDArray(zeros: [width], dtype: .float32), name: "b\(layer)")
            parameters += [W, b]
            let preActivation = try dot(hidden, W) + b
            hidden = layer == layers ? try softmax(preActivation) : try tanh(preActivation)
        }
        let cost = try mean(categoricalCrossentropy(hidden, y))
        var updates: [SharedVariable: Variable] = [:]
        for (parameter, gradient) in zip(parameters, try grad(cost, wrt: parameters)) { updates[parameter] = try parameter - 0.01 * gradient }
        let before = try function(inputs: [x, y], outputs: [cost], updates: updates, options: .unoptimized).graph.nodes.count
        var times: [Double] = []
        var after = 0
        for _ in 0..<Swift.max(runs / 4, 3) {
            let compiled = try function(inputs: [x, y], outputs: [cost], updates: updates)
            times.append(compiled.compileTimes.rewrite * 1e3)
            after = compiled.graph.nodes.count
        }
        try printLine(workload: "rewrite_time", variant: "N\(layers)", times: times, extra: ["nodes_before": before, "nodes_after": after])
    }

    /// One JSON line in the peer harness's schema.
    private func printLine(workload: String, variant: String, times: [Double], extra: [String: Any]) throws {
        let sorted = times.sorted()
        let line: [String: Any] = [
            "workload": workload, "system": "swift_theano", "variant": variant, "threads": 1,
            "median_ms": sorted[sorted.count / 2], "min_ms": sorted.first!, "max_ms": sorted.last!, "n": sorted.count,
        ].merging(extra) { $1 }
        let json = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }
}
