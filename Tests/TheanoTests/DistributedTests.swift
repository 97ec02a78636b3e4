import Foundation
import Testing
@testable import Theano
import TheanoDistributed
import TheanoModels
import TheanoTestSupport

// Distributed training over MPI: the collectives, the graph's allreduce and the data-parallel
// trainer, each run as real MPI jobs of one to three processes (`mpirun` starting the
// `theano` tool, or this test binary for the checks that need the test library). Without
// MPI these are skipped, and the rest of the suite runs.

/// MPI jobs started from the tests.
enum MPIJob {
    /// `mpirun`, if installed.
    static let launcher: String? = {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return paths.map { "\($0)/mpirun" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()
    static let available = launcher != nil && Tool.executable != nil
    static let skipReason: Comment = "needs MPI: apt-get install openmpi-bin libopenmpi-dev"

    /// Open MPI's `mpirun` needs flags to run as root and to place more processes than cores.
    private static let launcherFlags: [String] = {
        guard let launcher else { return [] }
        let version = Process(), output = Pipe()
        version.executableURL = URL(fileURLWithPath: launcher)
        version.arguments = ["--version"]
        version.standardOutput = output
        version.standardError = Pipe()
        guard (try? version.run()) != nil else { return [] }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        version.waitUntilExit()
        return text.contains("Open MPI") ? ["--allow-run-as-root", "--oversubscribe"] : []
    }()

    /// Starts `program arguments` in `processes` processes.
    static func start(_ processes: Int, _ program: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Tool.Running {
        // Containers often forbid the single-copy transport between processes.
        let variables = environment.merging(["OMPI_MCA_btl_vader_single_copy_mechanism": "none"]) { given, _ in given }
        return try Tool.launch(try #require(launcher), launcherFlags + ["-np", "\(processes)", program] + arguments, environment: variables)
    }

    /// Runs the `theano` tool in `processes` processes, to completion.
    static func tool(_ processes: Int, _ arguments: [String], environment: [String: String] = [:]) throws -> Tool.Result {
        try start(processes, try #require(Tool.executable), arguments, environment: environment).finish()
    }
}

@Suite("Distributed training", .enabled(if: MPIJob.available, MPIJob.skipReason))
struct DistributedTests {
    /// `theano mpi` in jobs of one, two and three processes: every collective's result on
    /// every rank, checked here from the ranks' values.
    @Test(arguments: [1, 2, 3])
    func collectivesGiveTheExpectedValues(processes n: Int) throws {
        let result = try MPIJob.tool(n, ["mpi"])
        #expect(result.status == 0, "\(result.errors)")
        let lines = result.output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(Set(lines.compactMap { $0["rank"] as? Int }) == Set(0..<n), "\(result.output)")
        let triangle = Double(n * (n + 1) / 2)
        for line in lines {
            #expect(line["size"] as? Int == n && line["ok"] as? Bool == true)
            #expect(line["broadcast"] as? [Double] == [1.5, -2, 3] && line["broadcast_last_root"] as? [Int] == [(n - 1) * 10])
            #expect(line["allreduce_sum"] as? [Double] == [triangle, Double(n * (n + 1) * (2 * n + 1) / 6)])
            #expect(line["allreduce_mean"] as? [Double] == [Double(n - 1) / 2] && line["allreduce_max"] as? [Int] == [n - 1, 0])
            #expect(line["allgather"] as? [Int] == (0..<n).flatMap { [$0, $0 * $0] })
            #expect(line["graph_sums"] as? [Double] == [1, 2, 3, 2, 4, 6].map { $0 * triangle })
            #expect(line["graph_gradient"] as? [Double] == [triangle, triangle, triangle])
        }
    }

    /// The data-parallel MLP (SGD) in two and three processes, LeNet-5 (Adam) and the Reber
    /// LSTM (SGD through time, its examples windows of a stream) in two, end
    /// with the parameters and optimizer state of one process training on the same global
    /// batches (to float32 rounding of the summation order, which Adam's division by small
    /// second moments magnifies; a global batch of 31 splits unevenly), every process holding
    /// the same parameters after every step.
    @Test(arguments: [("mlp", [2, 3], 2, 88), ("lenet", [2], 1, 44), ("lstm", [2], 1, 97)])
    func dataParallelTrainingEqualsOneProcess(model: String, jobs: [Int], epochs: Int, steps: Int) throws {
        let directory = Scratch.freshPath("distributed-\(model)")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func train(_ processes: Int) throws -> [(name: String, array: NDArray)] {
            let path = "\(directory)/\(processes).npz"
            let arguments = ["train", model, "--distributed", "--epochs", "\(epochs)", "--batch-size", "31", "--verify-every-step", "--save", path]
            let result = processes == 1 ? try Tool.start(arguments).finish() : try MPIJob.tool(processes, arguments)
            #expect(result.status == 0, "\(result.errors)")
            #expect(result.output.contains("parameters identical on all \(processes) process\(processes == 1 ? "" : "es") after every one of the \(steps) steps"),
                    "\(result.output)")
            return try NPZArchive.read(path)
        }
        let single = try train(1)
        #expect(single.contains { $0.name == "optimizer_step" && $0.array.scalar(as: Double.self) == Double(steps) })
        for processes in jobs {
            let job = try train(processes)
            #expect(job.map(\.name) == single.map(\.name))
            for ((name, a), (_, b)) in zip(single, job) {
                #expect(a.isClose(to: b, rtol: 1e-4, atol: 1e-5), "\(name), \(processes) processes")
            }
        }
    }

    /// A checkpoint written by rank 0 carries the optimizer's state, and a job resuming from it
    /// starts where the first ended (the same test accuracy), with the step count carried on.
    @Test func trainingResumesFromRankZerosCheckpoint() throws {
        let path = Scratch.freshPath("resume") + ".npz"
        let first = try MPIJob.tool(2, ["train", "mlp", "--distributed", "--epochs", "1", "--save", path])
        #expect(first.status == 0, "\(first.errors)")
        let accuracy = try #require(first.output.split(separator: "\n").last { $0.hasPrefix("test accuracy: ") }).dropFirst("test accuracy: ".count)
        let step = try shared(NDArray(scalar: Float(0)), name: "optimizer_step")
        try Checkpoint.load([step], from: path)
        #expect(step.value.scalar(as: Double.self) == 43, "one epoch of 1,348 examples in global batches of 32")
        let second = try MPIJob.tool(2, ["train", "mlp", "--distributed", "--epochs", "1", "--resume", path])
        #expect(second.status == 0, "\(second.errors)")
        #expect(second.output.contains("resumed from \(path): test accuracy \(accuracy)"), "\(second.output)")
    }

    /// A process killed in the middle of training ends the job, with a message naming it,
    /// well within a bounded time.
    @Test func aKilledProcessStopsTheJob() throws {
        let running = try MPIJob.start(2, try #require(Tool.executable), ["train", "mlp", "--distributed", "--epochs", "100000"])
        let started = ContinuousClock.now
        var errors = "", pid: Int32?
        while pid == nil, ContinuousClock.now - started < .seconds(60) {
            let data = running.errors.fileHandleForReading.availableData
            if data.isEmpty { break }
            errors += String(decoding: data, as: UTF8.self)
            pid = errors.split(separator: "\n").first { $0.hasPrefix("rank 1 of 2: pid ") }.flatMap { Int32($0.split(separator: " ").last!) }
        }
        let victim = try #require(pid, "rank 1 printed its process id: \(errors)")
        Thread.sleep(forTimeInterval: 0.5)
        kill(victim, SIGKILL)
        let killed = ContinuousClock.now
        while running.process.isRunning, ContinuousClock.now - killed < .seconds(60) { Thread.sleep(forTimeInterval: 0.1) }
        if running.process.isRunning { running.process.terminate() }
        let result = running.finish()
        #expect(ContinuousClock.now - killed < .seconds(60), "the job stopped within a minute of the kill")
        #expect(result.status != 0)
        let message = errors + result.errors + result.output
        #expect(message.contains("signal 9") || message.contains("Killed") || message.contains("rank 1"), "\(message)")
    }

    /// An error on one process (rank 0 cannot read the checkpoint to resume from) ends the
    /// whole job with that error, instead of leaving the others waiting.
    @Test func anErrorOnOneProcessStopsTheJob() throws {
        let started = ContinuousClock.now
        let result = try MPIJob.tool(2, ["train", "mlp", "--distributed", "--resume", "/nonexistent/checkpoint.npz"])
        #expect(ContinuousClock.now - started < .seconds(60))
        #expect(result.status != 0)
        #expect(result.errors.contains("rank 0 of 2: error: ") && result.errors.contains("/nonexistent/checkpoint.npz"), "\(result.errors)")
    }

    /// The checks that need the test library (finite differences of the gradient, forward
    /// mode), run by this test binary in jobs of one and two processes.
    @Test(arguments: [1, 2])
    func gradientChecksPassInsideAJob(processes: Int) throws {
        let binary = CommandLine.arguments[0]
        let result = try MPIJob.start(processes, binary, ["--testing-library", "swift-testing", "--filter", "DistributedInnerTests"],
                                      environment: ["THEANO_DISTRIBUTED_INNER": "1"]).finish()
        #expect(result.status == 0, "\(result.output)\n\(result.errors)")
        // Swift Testing reports on standard error; each process runs the five tests.
        let report = result.output + result.errors
        #expect(!report.contains("✘") && report.components(separatedBy: "Test run with 5 tests").count - 1 == processes, "\(report)")
    }
}

/// Two "machines" on one: network namespaces joined by a virtual Ethernet pair, each with its
/// own address, Open MPI starting the second one's process through `ip netns exec` (in place
/// of ssh) and moving data over TCP only. Needs root and `ip`; skipped otherwise.
@Suite("Distributed training across hosts", .enabled(if: MPIJob.available && NetworkNamespaces.usable, "needs MPI, root and ip netns"))
struct DistributedHostsTests {
    /// The data-parallel MLP trains across the two hosts, its gradients crossing the virtual
    /// link: the link carries at least every step's allreduce.
    @Test func trainingRunsOverTCPBetweenTwoHosts() throws {
        let hosts = try NetworkNamespaces()
        defer { hosts.remove() }
        let before = try hosts.bytesSent()
        let result = try hosts.run(["train", "mlp", "--distributed", "--epochs", "1", "--verify-every-step"])
        #expect(result.status == 0, "\(result.output)\n\(result.errors)")
        #expect(result.output.contains("on 2 processes") && result.output.contains("parameters identical on all 2 processes after every one of the 43 steps"),
                "\(result.output)")
        // 43 steps, each sending at least half of the 9.6 kB of gradients each way.
        #expect(try hosts.bytesSent() - before > 43 * 4_800, "bytes sent over the link")
    }
}

/// Run only by ``DistributedTests/gradientChecksPassInsideAJob(processes:)``, inside an MPI
/// job; one test at a time, since every process must reach the collectives in one order.
@Suite("Distributed, inside an MPI job", .serialized, .enabled(if: ProcessInfo.processInfo.environment["THEANO_DISTRIBUTED_INNER"] == "1"))
struct DistributedInnerTests {
    /// Finite differences of a cost that every process computes from the reduction agree
    /// with the gradient (each process perturbs its input at once, so the reduction moves by
    /// the sum of the perturbations, as the gradient's sum over processes says); the same for
    /// forward mode.
    @Test(arguments: [Communicator.Reduction.sum, .mean])
    func gradientsAndTangentsMatchFiniteDifferences(reduction: Communicator.Reduction) throws {
        let world = try Communicator.world()
        var random = RandomState(seed: 7 + UInt64(world.rank))
        let point = [NDArray.uniform([3, 2], low: -0.5, high: 0.5, dtype: .float64, using: &random)]
        let f = { (x: [Variable]) throws -> Variable in try sqr(tanh(allreduce(x[0], reduction))) * 1.5 }
        try verifyGrad(f, at: point)
        try verifyRop(f, at: point)
    }

    /// The gradient of each process's own cost `Σ allreduce(x) · w_rank` is the sum of every
    /// process's `w`, on both backends.
    @Test func theGradientSumsEveryProcesssOutputGradient() throws {
        let world = try Communicator.world()
        let x = vector("x", dtype: .float64), w = vector("w", dtype: .float64)
        let gradient = try grad(sum(allreduce(x, .sum) * w), wrt: [x])[0]
        let weight = Double(world.rank + 1), expected = Double(world.size * (world.size + 1) / 2)
        for options in [CompileOptions.default, .native] {
            let result = try function(inputs: [x, w], outputs: [gradient], options: options)(NDArray([1, 2] as [Double]), NDArray([weight, weight]))[0]
            #expect(result == NDArray([expected, expected]))
        }
    }

    /// Gradients through the collective have their inputs' static types (size-1 dimensions
    /// kept), and the shapes it infers are those it computes, for inputs of every dtype it takes.
    @Test func gradientsKeepTheirTypesAndShapesAreInferred() throws {
        let x = tensor("x", dtype: .float64, shape: [1, nil]), y = tensor("y", dtype: .float64, shape: [nil, nil, 1])
        let reduced = try allreduce([x, y], .mean)
        let gradients = try grad(sum(reduced[0]) + sum(reduced[1] * reduced[1]), wrt: [x, y])
        #expect(gradients.map(\.type) == [x.type, y.type])
        var random = RandomState(seed: 8)
        let values = [NDArray.uniform([1, 3], low: -1, high: 1, dtype: .float64, using: &random),
                      NDArray.uniform([2, 4, 1], low: -1, high: 1, dtype: .float64, using: &random)]
        #expect(try function(inputs: [x, y], outputs: gradients)(values).map(\.shape) == [[1, 3], [2, 4, 1]])

        for dtype in [DType.float32, .float64, .int64] {
            let a = tensor("a", dtype: dtype, shape: [nil, 2]), b = vector("b", dtype: dtype)
            let node = try #require(try allreduce([a, b], .sum)[0].owner)
            let inferred = try #require(node.op as? any ShapeInferringOp).inferShape(node, inputShapes: try node.inputs.map { try $0.dimensionSizes() })
            let results = try function(inputs: [a, b], outputs: inferred.flatMap { $0 } + node.outputs)(
                [NDArray(zeros: [3, 2], dtype: dtype), NDArray(zeros: [5], dtype: dtype)])
            #expect(results.prefix(3).map { Int($0.scalar(as: Int64.self)) } == [3, 2, 5] && results[3].shape == [3, 2] && results[4].shape == [5])
        }
    }

    /// Processes passing arrays of different sizes to a broadcast or an allgather get a
    /// thrown error naming the sizes, and the job goes on.
    @Test func arraysOfDifferentSizesAreErrors() throws {
        let world = try Communicator.world()
        let value = NDArray(zeros: [world.rank + 1], dtype: .float32)
        if world.size == 1 {
            #expect(try world.broadcast(value) == value && world.allgather(value).shape == [1, 1])
        } else {
            expectFailure(mentioning: ["broadcast", "differ in size", "[4, 8"]) { _ = try world.broadcast(value) }
            expectFailure(mentioning: ["allgather", "differ in size"]) { _ = try world.allgather(value) }
        }
        try world.barrier()
        #expect(try world.allreduce(NDArray([Float(1)]), .sum) == NDArray([Float(world.size)]))
    }

    /// `.max` reduces but has no derivative: asking for one is an error naming the reduction.
    @Test func theMaximumHasNoGradient() throws {
        let world = try Communicator.world()
        let x = vector("x", dtype: .float64)
        let reduced = try function(inputs: [x], outputs: [allreduce(x, .max)])(NDArray([Double(world.rank), -Double(world.rank)]))[0]
        #expect(reduced == NDArray([Double(world.size - 1), 0]))
        expectFailure(mentioning: ["grad", "allreduce(.max) has no gradient", "DistributedTests.swift"]) { _ = try grad(sum(allreduce(x, .max)), wrt: [x]) }
    }
}

/// What needs no MPI: building graphs with the collective, and the error without MPI.
@Suite("Distributed training without a job")
struct DistributedGraphTests {
    /// Inputs of several dtypes, or the mean of integers, are refused when the graph is built.
    @Test func badOperandsAreErrorsAtConstruction() {
        expectFailure(mentioning: ["allreduce{sum}", "one dtype"]) { _ = try allreduce([vector(dtype: .float32), vector(dtype: .float64)], .sum) }
        expectFailure(mentioning: ["allreduce{mean}", "int64"]) { _ = try allreduce(vector(dtype: .int64), .mean) }
        expectFailure(mentioning: ["allreduce{sum}", "bool"]) { _ = try allreduce(vector(dtype: .bool), .sum) }
    }

    /// A collective of constants is not computed when compiling: every process must reach it
    /// when the function runs. (Compiling runs nothing, so no MPI is needed.)
    @Test func collectivesAreNotFoldedAtCompileTime() throws {
        let f = try function(inputs: [], outputs: [allreduce(constant(NDArray([1, 2] as [Float])), .sum)], options: .native)
        #expect(f.graph.nodes.contains { $0.op is AllReduce })
    }

    /// With no MPI library, using one says what to install.
    @Test(.enabled(if: Tool.executable != nil)) func withoutMPIAnErrorNamesThePackages() throws {
        let result = try Tool.start(["mpi"], environment: ["THEANO_MPI_LIBRARY": "/nonexistent/libmpi.so"]).finish()
        #expect(result.status != 0)
        #expect(result.errors.contains("apt-get install openmpi-bin libopenmpi-dev") && result.errors.contains("/nonexistent/libmpi.so"), "\(result.errors)")
    }
}
