import ArgumentParser
import Foundation
import Synchronization
import Theano
import TheanoModels

/// `theano bench W1 W2 …`: times workloads defined as in the peer benchmark harness
/// (`shared/bench/peers/common.py`: same sizes, float32, warm-up, medians) and prints one
/// JSON line per workload variant in the harness's schema, so the figures can be joined with
/// the peers'. Build in release mode (`swift run -c release theano bench …`).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time benchmark workloads and print JSON lines (workload, variant, median_ms, …)."
    )

    @Argument(help: """
        Workloads: W1 (logistic regression SGD step, batch 256), W2 (MLP 784-500-10 SGD step, batch 64/256/1024), \
        W3 (MLP 784-2048-2048-10 relu SGD step, batch 512), W4 and W5 (Elman and LSTM networks by scan, 50 steps of \
        batch 32, 128 → 256 → 16, one SGD step with BPTT; variants: masked sequences of 25–50 steps, and a GRU for W5), scan (per-step time of a 10-element loop), W6 (fused 5-op elementwise, 10M float32), W7 (call \
        overhead of x + 1), W8 (compiling the W2 training function with a cold and a warm kernel cache, and answering at once: time to the first result and to the compiled code), W9 (row \
        softmax and column sums of 4096×4096), W10 (one SGD step of LeNet-5 on 28×28 images, batch 64/256), W11 (10M float32 uniform, normal and Bernoulli(0.3) draws), W12 (a float32 CSR matrix of 20,000×20,000 at 0.1 % density times a dense 20,000×64, and the gradient w.r.t. the dense one), W13 (float64 linear algebra: a Cholesky solve of 512×512 by 512×16 with its gradient, the singular values of 512×256, log|det| of 256×256 with its gradient), rewrite (optimizer time for N-hidden-layer tanh MLPs with \
        gradients, N = 5, 20, 80, 320; and the whole compile of chains of 1,000 and 10,000 `c = c + v` or \
        `y = tanh(y) * 0.5 + v` with their gradient), threads (one function called 2,000 times from one thread, then from \
        two at once).
        """)
    var workloads: [String] = ["W1", "W2", "W6", "W7", "W9"]

    @Option(help: "Timed runs per workload (after warm-up runs).")
    var runs = 20

    @Flag(help: "Use the reference interpreter instead of the native backend.")
    var reference = false

    @Flag(help: "Print where the training workloads spend their time.")
    var profile = false

    @Flag(help: "W2 and W3 by data-parallel SGD in the MPI job this process belongs to (mpirun -np N theano bench W2 W3 --distributed), the global batch split across the processes.")
    var distributed = false

    @Flag(help: "Let each large matrix product run on the BLAS thread count lately faster for it (results then depend on timing).")
    var adaptiveThreading = false

    var options: CompileOptions { reference ? .default : CompileOptions(linker: NativeLinker(adaptiveThreading: adaptiveThreading)) }
    var backend: String { reference ? "reference interpreter" : adaptiveThreading ? "native, adaptive threading" : "native" }

    func validate() throws {
        if runs < 1 { throw ValidationError("--runs must be at least 1, not \(runs)") }
    }

    func run() throws {
        for workload in workloads {
            switch workload {
            case "W1": try timeTraining(workload: "logreg_step", variant: "b256", sizes: [784, 10], batch: 256)
            case "W2" where distributed:
                for batch in [64, 256, 1024] {
                    try timeDataParallel(workload: "mlp_step", variant: "b\(batch)", sizes: [784, 500, 10], batch: batch)
                }
            case "W2":
                for batch in [64, 256, 1024] {
                    try timeTraining(workload: "mlp_step", variant: "b\(batch)", sizes: [784, 500, 10], batch: batch)
                }
            case "W3" where distributed:
                try timeDataParallel(workload: "mlp_big", variant: "b512", sizes: [784, 2048, 2048, 10], batch: 512, activation: .relu)
            case "W3": try timeTraining(workload: "mlp_big", variant: "b512", sizes: [784, 2048, 2048, 10], batch: 512, activation: .relu)
            case "W4":
                try timeRecurrent(workload: "rnn_scan", cell: .elman)
                try timeSequencer(workload: "rnn_scan", variant: "masked", cell: "elman")
            case "W5":
                try timeRecurrent(workload: "lstm_scan", cell: .lstm)
                try timeSequencer(workload: "lstm_scan", variant: "masked", cell: "lstm")
                try timeSequencer(workload: "lstm_scan", variant: "gru", cell: "gru")
            case "scan": try timeScanOverhead()
            case "W6": try timeElementwise()
            case "W7": try timeCallOverhead()
            case "W8": try timeCompiling()
            case "W9": try timeSoftmaxAndSums()
            case "W10": for batch in [64, 256] { try timeLeNet(batch: batch) }
            case "W11": try timeRandomDraws()
            case "W12": try timeSparseProducts()
            case "W13": try timeLinearAlgebra()
            case "threads": try timeConcurrentCalls()
            case "rewrite":
                for layers in [5, 20, 80, 320] { try timeRewriting(layers: layers) }
                for chain in Chain.allCases { for length in [1_000, 10_000] { try timeChain(chain, length: length) } }
            default: throw ValidationError("unknown workload \(workload); known: W1, W2, W3, W4, W5, scan, W6, W7, W8, W9, W10, W11, W12, W13, rewrite, threads")
            }
        }
    }

    /// One SGD step of a classifier of `sizes` on a random minibatch. The JSON line carries
    /// the step's matrix-product rate (the peers' `gflops_exact`).
    private func timeTraining(workload: String, variant: String, sizes: [Int], batch: Int,
                              activation: Activation = .tanh) throws {
        var random = RandomState(seed: 1234)
        let images = NDArray.uniform([batch, sizes[0]], using: &random)
        let labels = NDArray((0..<batch).map { _ in Int64(random.next() % UInt64(sizes.last!)) })
        let model = try Classifier(sizes: sizes, activation: activation, learningRate: 0.01, options: options, profile: profile)
        // Forward and weight-gradient products for every layer, input gradients for all but the first.
        let weights = zip(sizes, sizes.dropFirst()).map { $0 * $1 }
        let flops = 2.0 * Double(batch) * Double(2 * weights.reduce(0, +) + weights.dropFirst().reduce(0, +))
        try report(workload: workload, variant: variant, extra: ["notes": backend], flops: flops) {
            _ = try model.step(images: images, labels: labels)
        }
        if let profile = model.trainingProfile { print(profile) }
    }

    /// One SGD step (forward and backpropagation through time) of an Elman or LSTM network:
    /// 50 steps, batch 32, 128 inputs, 256 hidden units, a linear readout to 16 outputs
    /// trained for squared error, as in the peer harness.
    private func timeRecurrent(workload: String, cell: RecurrentNetwork.Cell) throws {
        let (steps, batch, inputs, hidden, outputs) = (50, 32, 128, 256, 16)
        var random = RandomState(seed: 600)
        let x = NDArray.uniform([steps, batch, inputs], low: -1, high: 1, using: &random)
        let targets = NDArray.uniform([steps, batch, outputs], low: -1, high: 1, using: &random)
        let model = try RecurrentNetwork(cell: cell, inputs: inputs, hidden: hidden, outputs: outputs, loss: .squaredError,
                                         learningRate: 0.01, options: options, profile: profile)
        let gates = cell == .elman ? 1 : 4
        let perStep = Double(batch * (inputs + hidden) * gates * hidden), readout = Double(batch * hidden * outputs)
        let forward = 2 * (perStep + readout) * Double(steps)
        let flops = 2 * forward + 2 * Double(steps) * (Double(batch * hidden * gates * hidden) + readout)
        try report(workload: workload, variant: "default", extra: ["notes": backend], flops: flops) { try model.step(x, targets) }
        if let profile = model.trainingProfile { print(profile) }
    }

    /// The time per step of a loop whose step is tiny (`h = tanh(h + x_t)` on 10 elements),
    /// over 1000 steps.
    private func timeScanOverhead() throws {
        let x = matrix("x", shape: (nil, 10)), h0 = vector("h0", length: 10)
        let h = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(h0)]) { v in [try tanh(v[0] + v[1])] }[0]
        let f = try function(inputs: [x, h0], outputs: [h[-1]], options: options)
        var random = RandomState(seed: 900)
        let (xs, start) = (NDArray.uniform([1000, 10], using: &random), NDArray(zeros: [10], dtype: .float32))
        try report(workload: "scan_overhead", variant: "1000x10", extra: ["notes": backend + ", per step"], callsPerSample: 1000) {
            _ = try f(xs, start)
        }
    }

    /// Compiling the W2 training step (batch 256) from the graph: with an empty kernel cache,
    /// then with the cache that compile filled; and with an empty cache again, answering at
    /// once (``CompileOptions/waitsForOptimizedCode`` `false`): the time to the first step's
    /// result, and to the compiled code being in place.
    private func timeCompiling() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("theano-bench-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cache = ModuleCache(directory: directory)
        var random = RandomState(seed: 1234)
        let images = NDArray.uniform([256, 784], using: &random)
        let labels = NDArray((0..<256).map { _ in Int64(random.next() % 10) })
        var cold: [Double] = [], warm: [Double] = [], firstResult: [Double] = [], optimized: [Double] = []
        for _ in 0..<Swift.max(runs / 4, 3) {
            try cache.clear()
            for phase in 0..<2 {
                let start = ContinuousClock.now
                _ = try Classifier(sizes: [784, 500, 10], learningRate: 0.01, options: CompileOptions(linker: NativeLinker(cache: cache)))
                let elapsed = milliseconds(since: start)
                if phase == 0 { cold.append(elapsed) } else { warm.append(elapsed) }
            }
            try cache.clear()
            let start = ContinuousClock.now
            let model = try Classifier(sizes: [784, 500, 10], learningRate: 0.01,
                                       options: CompileOptions(linker: NativeLinker(cache: cache), waitsForOptimizedCode: false))
            _ = try model.step(images: images, labels: labels)
            firstResult.append(milliseconds(since: start))
            model.trainingFunction.waitForOptimizedCode()
            optimized.append(milliseconds(since: start))
            // Its turn comes after the training step's; the next round clears the cache.
            model.predictionFunction.waitForOptimizedCode()
        }
        try printLine(workload: "compile_time", variant: "cold", times: cold, extra: ["notes": "graph, gradient, optimizer, C compile, load"])
        try printLine(workload: "compile_time", variant: "warm", times: warm, extra: ["notes": "kernel module from the cache"])
        try printLine(workload: "compile_time", variant: "first_result", times: firstResult,
                      extra: ["notes": "cold cache, answering at once: graph to the first step's result on the first tier"])
        try printLine(workload: "compile_time", variant: "optimized_in_place", times: optimized,
                      extra: ["notes": "cold cache, answering at once: graph to the compiled code swapped in"])
    }

    private func milliseconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18) * 1e3
    }

    /// `exp(-x·x)·sin(y) + sqrt(|z|)·0.5 - tanh(x·y)` over 10⁷ float32 elements.
    private func timeElementwise() throws {
        let (x, y, z) = (vector("x"), vector("y"), vector("z"))
        let output = try exp(-(x * x)) * sin(y) + sqrt(abs(z)) * 0.5 - tanh(x * y)
        let f = try function(inputs: [x, y, z], outputs: [output], options: options)
        var random = RandomState(seed: 700)
        let values = (0..<3).map { _ in NDArray.uniform([10_000_000], low: -3, high: 3, using: &random) }
        try report(workload: "elemwise_fusion", variant: "default", extra: ["notes": backend, "kernels": f.compiledNodes]) { _ = try f(values) }
    }

    /// `x + 1` on a one-element vector: the cost of a call.
    private func timeCallOverhead() throws {
        let x = vector("x")
        let f = try function(inputs: [x], outputs: [x + 1], options: options)
        let value = NDArray([1] as [Float])
        let calls = 100_000
        try report(workload: "call_overhead", variant: "default", extra: ["notes": backend], callsPerSample: calls) {
            for _ in 0..<calls { _ = try f(value) }
        }
    }

    /// One compiled function (the predictions of the W2 MLP for a batch of 64: two matrix
    /// products and fused activations) called 2,000 times by one thread, then by two threads
    /// at once sharing the calls: the time for all of them, and the calls per second.
    private func timeConcurrentCalls() throws {
        let x = matrix("x", shape: (nil, 784))
        var random = RandomState(seed: 950)
        let W1 = try shared(NDArray.uniform([784, 500], low: -0.05, high: 0.05, using: &random), name: "W1")
        let W2 = try shared(NDArray.uniform([500, 10], low: -0.05, high: 0.05, using: &random), name: "W2")
        let f = try function(inputs: [x], outputs: [try argmax(softmax(dot(tanh(dot(x, W1)), W2)), axis: 1)], options: options)
        let batch = NDArray.uniform([64, 784], using: &random)
        let calls = 2_000
        for threads in [1, 2] {
            let failures = Atomic<Int>(0)
            try report(workload: "concurrent_calls", variant: "\(threads)_threads",
                       extra: ["notes": backend + ", \(calls) calls of the W2 prediction, batch 64"]) {
                DispatchQueue.concurrentPerform(iterations: threads) { _ in
                    for _ in 0..<(calls / threads) where (try? f(batch)) == nil { failures.add(1, ordering: .relaxed) }
                }
            }
            guard failures.load(ordering: .relaxed) == 0 else { throw ValidationError("concurrent calls failed") }
        }
    }

    /// Row softmax and column sums of a 4096×4096 float32 matrix.
    private func timeSoftmaxAndSums() throws {
        let x = matrix("x")
        var random = RandomState(seed: 800)
        let value = NDArray.uniform([4096, 4096], low: -4, high: 4, using: &random)
        for (variant, output) in [("softmax", try softmax(x)), ("sum0", try sum(x, axis: 0))] {
            let f = try function(inputs: [x], outputs: [output], options: options)
            try report(workload: "softmax_reduce", variant: variant, extra: ["notes": backend]) { _ = try f(value) }
        }
    }

    /// One SGD step (learning rate 0.01) of the peers' LeNet-5: 5×5 convolutions of 20 and
    /// 50 filters, each rectified and max-pooled 2×2, a rectified layer of 500 units and 10
    /// class scores, on random 28×28 images. The rate counts the convolution and matrix
    /// product flops of the forward pass, every weight gradient and the input gradients of
    /// all layers but the first (the peers' `lenet_flops`).
    private func timeLeNet(batch: Int) throws {
        var random = RandomState(seed: 900)
        let network = try lenet(size: 28, random: &random)
        let model = try ConvolutionalClassifier(network: network, imageShape: [1, 28, 28], optimizer: Optimizer(.sgd, learningRate: .constant(0.01)),
                                                options: options, profile: profile)
        let images = NDArray.uniform([batch, 1, 28, 28], dtype: .float32, using: &random)
        let labels = NDArray((0..<batch).map { _ in Int64(random.next() % 10) })
        let conv1: Double = 2 * 24 * 24 * 20 * 25
        let rest: Double = 2 * (8 * 8 * 50 * 20 * 25 + 800 * 500 + 500 * 10)
        let flops = Double(batch) * (2 * conv1 + 3 * rest)
        try report(workload: "lenet_step", variant: "b\(batch)", extra: ["notes": backend], flops: flops) {
            _ = try model.step(images: images, labels: labels)
        }
        if let profile = model.trainingProfile { print(profile) }
    }

    /// 10M float32 draws per call from a stream that advances every call: uniform on [0, 1),
    /// standard normal, and a Bernoulli(0.3) mask as float32 0/1 (the peers' `binomial`).
    private func timeRandomDraws() throws {
        let streams = RandomStreams(seed: 11), shape: DrawShape = [10_000_000]
        let draws = [("uniform", try streams.uniform(shape: shape, dtype: .float32)),
                     ("normal", try streams.normal(shape: shape, dtype: .float32)),
                     ("binomial", try streams.bernoulli(shape: shape, p: 0.3, dtype: .float32))]
        for (variant, draw) in draws {
            let f = try function(inputs: [], outputs: [draw], options: options)
            try report(workload: "random_draws", variant: variant, extra: ["notes": backend], bytes: 40e6) { _ = try f([]) }
        }
    }

    /// The optimizer on the SGD step of a tanh MLP with `layers` hidden layers of 100 units
    /// (graph built once, compiled several times), and the node counts before and after.
    private func timeRewriting(layers: Int) throws {
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

    /// The chains a loop builds: `c = c + v` (`add`) or `y = tanh(y) * 0.5 + v` (`tanh`),
    /// repeated `length` times.
    enum Chain: String, CaseIterable { case add, tanh }

    /// Compiling a chain with its gradient (the cost is the chain's sum) into one function:
    /// the whole compile time (optimizer, code generation, C compiler with a cold cache,
    /// loading), and the optimizer's share.
    private func timeChain(_ chain: Chain, length: Int) throws {
        let v = vector("v", length: 16)
        var y = v
        for _ in 0..<length { y = chain == .add ? try y + v : try tanh(y) * 0.5 + v }
        let cost = try Theano.sum(y)
        let gradient = try grad(cost, wrt: [v])[0]
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("theano-bench-chain-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let options = reference ? CompileOptions.default : CompileOptions(linker: NativeLinker(cache: ModuleCache(directory: directory)))
        let before = try function(inputs: [v], outputs: [cost, gradient], options: .unoptimized).graph.nodes.count
        var times: [Double] = [], rewrite: [Double] = [], after = 0, compiledNodes = 0
        for _ in 0..<3 {
            _ = try? ModuleCache(directory: directory).clear()
            let start = ContinuousClock.now
            let compiled = try function(inputs: [v], outputs: [cost, gradient], options: options)
            times.append(milliseconds(since: start))
            rewrite.append(compiled.compileTimes.rewrite * 1e3)
            (after, compiledNodes) = (compiled.graph.nodes.count, compiled.compiledNodes)
            for warning in compiled.linkWarnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        }
        try printLine(workload: "compile_chain", variant: "\(chain)_n\(length)", times: times,
                      extra: ["nodes_before": before, "nodes_after": after, "compiled_nodes": compiledNodes, "rewrite_ms": rewrite.sorted()[1],
                              "notes": backend])
    }

    /// Runs `body` 3 times to warm up, then `runs` times, and prints the median, with the
    /// rate in GFLOP/s when `flops` is given. When one run of `body` makes `callsPerSample`
    /// calls, the times are per call (still in ms, as every workload's are) and the line
    /// adds `us_per_call`, as the peers' W7 does.
    func report(workload: String, variant: String, extra: [String: Any], callsPerSample: Int = 1, flops: Double? = nil,
                        bytes: Double? = nil, printing: Bool = true, annotate: (Double) throws -> [String: Any] = { _ in [:] },
                        _ body: () throws -> Void) throws {
        for _ in 0..<3 { try body() }
        var times: [Double] = []
        for _ in 0..<runs {
            let start = ContinuousClock.now
            try body()
            times.append(milliseconds(since: start) / Double(callsPerSample))
        }
        let median = times.sorted()[times.count / 2]
        var rate: [String: Any] = flops.map { ["gflops_exact": $0 / (median * 1e-3) / 1e9] } ?? [:]
        if let bytes { rate["gb_per_s"] = bytes / (median * 1e-3) / 1e9 }
        if callsPerSample > 1 { rate.merge(["us_per_call": median * 1e3, "inner": callsPerSample]) { $1 } }
        let annotations = try annotate(median)
        guard printing else { return }
        try printLine(workload: workload, variant: variant, times: times, extra: extra.merging(rate) { $1 }.merging(annotations) { $1 })
    }

    /// One JSON line in the peer harness's schema.
    private func printLine(workload: String, variant: String, times: [Double], extra: [String: Any]) throws {
        let sorted = times.sorted()
        let line: [String: Any] = [
            "workload": workload, "system": "swift_theano", "variant": variant, "threads": ProcessInfo.processInfo.activeProcessorCount,
            "median_ms": sorted[sorted.count / 2], "min_ms": sorted.first!, "max_ms": sorted.last!, "n": sorted.count,
        ].merging(extra) { $1 }
        let json = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }
}
