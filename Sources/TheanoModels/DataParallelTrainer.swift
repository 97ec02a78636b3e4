import Foundation
import Theano
import TheanoDistributed

/// Synchronous data-parallel training over the processes of an MPI job: every process holds
/// the whole model, takes its share of each global minibatch, and one collective per step
/// sums the gradients (and the loss) of all shares, so every process applies the same update
/// and the parameters stay identical everywhere — equal, to the rounding of the summation
/// order, to one process training on the whole minibatch.
///
/// The parameters start from rank 0's values (broadcast when the trainer is made); the cost
/// of a share is the sum of its examples' losses divided by the size of the global batch,
/// so that the summed gradient is the gradient of the global batch's mean loss even when the
/// shares differ in size. Checkpoints (the parameters and the optimizer's state) are written
/// by rank 0 alone and read by rank 0, which gives them to the others.
public final class DataParallelTrainer {
    /// The job.
    public let communicator: Communicator
    /// What training moves, the same on every process.
    public let parameters: [SharedVariable]
    /// The optimizer's state (its step count, momenta, moment estimates), the same on every
    /// process, by name.
    public let optimizerState: [SharedVariable]
    private let trainStep: Function

    /// A trainer of `parameters` by `optimizer` on `losses` (one per example of the local
    /// share, a vector) computed from `inputs` (the share's data, examples along the first
    /// axis). `layerUpdates` are the layers' own updates (batch norm's running averages),
    /// applied by each process from its share. Compiles the step and broadcasts rank 0's
    /// parameters.
    public init(inputs: [Variable], losses: Variable, parameters: [SharedVariable], optimizer: Optimizer, communicator: Communicator,
                layerUpdates: [SharedVariable: Variable] = [:], options: CompileOptions = .native) throws {
        (self.communicator, self.parameters) = (communicator, parameters)
        let globalBatch = scalar("global_batch", dtype: losses.dtype)
        let total = try sum(losses)
        let gradients = try grad(total / globalBatch, wrt: parameters)
        // One collective per dtype (normally one): every gradient and the loss in one buffer.
        var reduced = [Variable?](repeating: nil, count: gradients.count + 1)
        let all = gradients + [total]
        for dtype in Set(all.map(\.dtype)).sorted(by: { $0.rawValue < $1.rawValue }) {
            let members = all.indices.filter { all[$0].dtype == dtype }
            for (index, value) in zip(members, try allreduce(members.map { all[$0] }, .sum)) { reduced[index] = value }
        }
        let updates = try optimizer.updates(gradients: reduced.dropLast().map { $0! }, parameters: parameters)
        let trained = Set(parameters)
        optimizerState = updates.keys.filter { !trained.contains($0) }.sorted { ($0.name ?? "") < ($1.name ?? "") }
        trainStep = try function(inputs: inputs + [globalBatch], outputs: [reduced.last!! / globalBatch],
                                 updates: updates.merging(layerUpdates) { optimizer, _ in optimizer }, name: "train_data_parallel", options: options)
        try synchronize()
    }

    /// Sets every process's parameters and optimizer state to rank 0's.
    public func synchronize() throws {
        for variable in parameters + optimizerState { try variable.setValue(communicator.broadcast(variable.value, root: 0)) }
    }

    /// The examples of a global batch of `count` this process takes: a contiguous range,
    /// the ranks' ranges in rank order covering the batch, their sizes differing by at most one.
    public func share(of count: Int) -> Range<Int> {
        let (rank, size) = (communicator.rank, communicator.size)
        return (count * rank / size)..<(count * (rank + 1) / size)
    }

    /// One step: this process's share of the data (`inputs`' values) out of a global batch
    /// of `globalBatch` examples. Returns the global batch's mean loss (the same everywhere).
    public func step(_ share: [NDArray], globalBatch: Int) throws -> Double {
        let dtype = trainStep.inputs.last!.dtype
        return try trainStep(share + [NDArray(scalar: Double(globalBatch)).cast(to: dtype)])[0].scalar(as: Double.self)
    }

    /// The sums over the processes of `values` (metrics: counts of correct predictions,
    /// losses summed over shares of a test set).
    public func summedOverProcesses(_ values: [Double]) throws -> [Double] {
        try communicator.allreduce(NDArray(values), .sum).elements(as: Double.self)
    }

    /// Whether every process holds the same parameters, bit for bit: a digest of their bytes
    /// gathered from every process.
    public func parametersAgree() throws -> Bool {
        var digest: UInt64 = 0xcbf2_9ce4_8422_2325
        for parameter in parameters {
            parameter.value.contiguous().withBytes { bytes in
                for byte in bytes { digest = (digest ^ UInt64(byte)) &* 0x100_0000_01b3 }
            }
        }
        let digests = try communicator.allgather(NDArray([Int64(bitPattern: digest)])).elements(as: Int64.self)
        return Set(digests).count == 1
    }

    /// Writes the parameters and the optimizer's state to `path` from rank 0 (the others wait
    /// until it is written).
    public func save(to path: String) throws {
        if communicator.rank == 0 { try Checkpoint.save(parameters + optimizerState, to: path) }
        try communicator.barrier()
    }

    /// Reads the parameters and the optimizer's state from `path` (as ``save(to:)`` wrote
    /// them) on rank 0 and gives them to every process, so only rank 0 needs the file and
    /// training goes on where it stopped. A failure on rank 0 is thrown there; the others
    /// then wait, until the job is aborted or their collective times out.
    public func resume(from path: String) throws {
        if communicator.rank == 0 { try Checkpoint.load(parameters + optimizerState, from: path) }
        try synchronize()
    }
}
