import Foundation
import Theano
import TheanoDistributed
import TheanoModels

extension Bench {
    /// One data-parallel SGD step of a classifier of `sizes` (``DataParallelTrainer``) in the
    /// MPI job this process belongs to: the global batch of `batch` random examples split
    /// across the processes, the gradients summed by one allreduce. Rank 0 prints the JSON
    /// line, with the processes, examples per second, and the bytes each process contributes
    /// to the collectives and the time spent in them per step (the step's one allreduce).
    func timeDataParallel(workload: String, variant: String, sizes: [Int], batch: Int, activation: Activation = .tanh) throws {
        let world = try Communicator.world()
        var random = RandomState(seed: 1234)
        let images = NDArray.uniform([batch, sizes[0]], using: &random)
        let labels = NDArray((0..<batch).map { _ in Int64(random.next() % UInt64(sizes.last!)) })
        let classifier = try Classifier(sizes: sizes, activation: activation, learningRate: 0.01, options: options)
        let x = matrix("x", shape: (nil, sizes[0])), y = vector("y", dtype: .int64)
        let trainer = try DataParallelTrainer(inputs: [x, y], losses: categoricalCrossentropy(softmax(classifier.network.logits(x)), y),
                                              parameters: classifier.parameters, optimizer: Optimizer(.sgd, learningRate: .constant(0.01)),
                                              communicator: world, options: options)
        let mine = Array(trainer.share(of: batch))
        let share = [images.rows(mine), labels.rows(mine)]
        try world.barrier()
        let before = world.statistics
        var steps = 0
        try report(workload: workload, variant: variant, extra: ["notes": backend], printing: world.rank == 0, annotate: { median in
            let after = world.statistics
            return ["processes": world.size, "samples_per_s": Double(batch) / (median / 1000), "bytes_per_step": (after.bytes - before.bytes) / steps,
                    "allreduce_ms_per_step": (after.seconds - before.seconds) / Double(steps) * 1000,
                    "blas_threads": ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] ?? "default"]
        }) {
            _ = try trainer.step(share, globalBatch: batch)
            steps += 1
        }
    }
}
