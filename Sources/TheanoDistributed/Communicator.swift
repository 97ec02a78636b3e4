import Foundation
import TheanoCore

/// The processes of an MPI job and the collectives between them (MPI's `MPI_COMM_WORLD`).
///
/// Start the job with `mpirun -np N program …`; a program started on its own is a job of one
/// process. Every collective must be reached by every process, in the same order, with
/// arrays of the same dtype and size. Each waits at most ``timeout`` (`THEANO_MPI_TIMEOUT`
/// seconds, 120 by default): when another process died, hangs or took another path, the
/// collective throws ``DistributedError/timeout(operation:rank:size:seconds:)`` instead of
/// waiting forever, and ``abort(_:)`` then ends the whole job.
///
/// Calls are serialized by a lock, so a communicator may be used from any thread.
public final class Communicator: @unchecked Sendable {
    /// How a collective combines the processes' values.
    public enum Reduction: String, Sendable, Hashable, CaseIterable {
        /// Elementwise sum.
        case sum
        /// Elementwise mean (the sum divided by the number of processes; floats only).
        case mean
        /// Elementwise maximum.
        case max
    }

    /// This process's position in the job, `0 ..< size`.
    public let rank: Int
    /// The number of processes.
    public let size: Int
    /// How long a collective may wait for the other processes.
    public let timeout: Duration
    let library: MPILibrary
    private let lock = NSLock()
    private var traffic = Traffic()

    /// The job this process belongs to; initializes MPI on first use (and finalizes it when
    /// the process exits). Throws when no MPI library can be loaded, naming what to install.
    public static func world() throws -> Communicator { try sharedWorld.get() }

    private static let sharedWorld: Result<Communicator, Error> = Result {
        let library = try MPILibrary.load()
        var flag: Int32 = 0
        _ = library.initialized(&flag)
        if flag == 0 {
            var provided: Int32 = 0
            try check(library, "MPI_Init_thread", library.initialize(nil, nil, MPILibrary.threadSerialized, &provided))
            finalizingLibrary = library
            atexit { finalizeAtExit() }
        }
        // Errors (sizes that differ between processes, a dead peer) are thrown, not fatal.
        try check(library, "MPI_Comm_set_errhandler", library.setErrorHandler(library.world, library.errorsReturn))
        var rank: Int32 = 0, size: Int32 = 0
        try check(library, "MPI_Comm_rank", library.rank(library.world, &rank))
        try check(library, "MPI_Comm_size", library.size(library.world, &size))
        let seconds = ProcessInfo.processInfo.environment["THEANO_MPI_TIMEOUT"].flatMap(Double.init) ?? 120
        return Communicator(library: library, rank: Int(rank), size: Int(size), timeout: .milliseconds(Int64(seconds * 1000)))
    }

    private init(library: MPILibrary, rank: Int, size: Int, timeout: Duration) {
        (self.library, self.rank, self.size, self.timeout) = (library, rank, size, timeout)
    }

    /// The MPI implementation, as it names itself (`Open MPI v4.1.4, …`).
    public var implementation: String { "\(library.family.rawValue): \(library.version)" }

    /// What the collectives of this process have moved so far.
    public struct Traffic: Sendable, Equatable {
        /// Collectives called.
        public var collectives = 0
        /// Bytes this process contributed to them.
        public var bytes = 0
        /// Time spent in them, waiting for the others included.
        public var seconds = 0.0
    }

    /// What the collectives of this process have moved so far.
    public var statistics: Traffic { lock.withLock { traffic } }

    // MARK: Collectives

    /// Waits until every process has reached the barrier.
    public func barrier() throws {
        try collective("barrier", bytes: 0) { request in library.barrier(library.world, request) }
    }

    /// The value of process `root`: every process passes an array of the same dtype and
    /// shape, and gets `root`'s back.
    public func broadcast(_ value: NDArray, root: Int = 0) throws -> NDArray {
        guard (0..<size).contains(root) else { throw DistributedError.unsupported(operation: "broadcast", reason: "root \(root) is not a rank of 0..<\(size)") }
        let result = value.contiguousCopy()
        let bytes = result.count * result.dtype.byteSize
        try checkSameSize(bytes, "broadcast")
        let count = try int32(bytes, "broadcast")
        try result.withUnsafeMutableRawPointer { pointer in
            try collective("broadcast", bytes: bytes) { request in library.broadcast(pointer, count, library.byte, Int32(root), library.world, request) }
        }
        return result
    }

    /// The elementwise `reduction` of every process's `value` (all of one dtype and shape).
    public func allreduce(_ value: NDArray, _ reduction: Reduction) throws -> NDArray {
        try allreduce([value], reduction)[0]
    }

    /// The elementwise `reduction` of each of `values` over the processes, in one collective:
    /// the arrays (all of one dtype) are packed into one buffer, reduced, and unpacked.
    public func allreduce(_ values: [NDArray], _ reduction: Reduction) throws -> [NDArray] {
        guard let dtype = values.first?.dtype else { return [] }
        guard values.allSatisfy({ $0.dtype == dtype }), let datatype = library.datatype(dtype) else {
            throw DistributedError.unsupported(operation: "allreduce", reason: "reduces float32, float64 or int64 arrays of one dtype, not \(values.map(\.dtype))")
        }
        guard reduction != .mean || dtype.isFloat else {
            throw DistributedError.unsupported(operation: "allreduce", reason: "the mean of \(dtype) values is not one; use .sum")
        }
        let total = values.reduce(0) { $0 + $1.count }
        let packed = NDArray(zeros: [total], dtype: dtype)
        var offset = 0
        for value in values {
            packed.sliced(axis: 0, start: offset, count: value.count, step: 1).assign(from: value.reshaped([value.count]))
            offset += value.count
        }
        let count = try int32(total, "allreduce")
        let operation = reduction == .max ? library.max : library.sum
        try packed.withUnsafeMutableRawPointer { pointer in
            try collective("allreduce", bytes: total * dtype.byteSize) { request in
                library.allReduce(library.inPlace, pointer, count, datatype, operation, library.world, request)
            }
        }
        let reduced = reduction == .mean ? mean(of: packed) : packed
        offset = 0
        return values.map { value in
            defer { offset += value.count }
            return reduced.sliced(axis: 0, start: offset, count: value.count, step: 1).contiguousCopy().reshaped(value.shape)
        }
    }

    /// Every process's `value` (all of one dtype and shape), stacked along a new first axis
    /// in rank order: `[size] + value.shape`.
    public func allgather(_ value: NDArray) throws -> NDArray {
        let source = value.contiguousCopy()
        let bytes = source.count * source.dtype.byteSize
        try checkSameSize(bytes, "allgather")
        return try gatherRaw(source, bytes: bytes)
    }

    /// Ends the whole job: prints `message` to standard error, with this process's rank, and
    /// calls `MPI_Abort`, which stops every process of the job.
    public func abort(_ message: String, code: Int32 = 1) -> Never {
        FileHandle.standardError.write(Data("rank \(rank) of \(size): \(message)\n".utf8))
        _ = library.abort(library.world, code)
        exit(code)
    }

    // MARK: Waiting with a deadline

    /// Starts a nonblocking collective with `start` (which fills in the request) and polls
    /// it until it completes or ``timeout`` passes.
    private func collective(_ operation: String, bytes: Int, _ start: (UnsafeMutableRawPointer) -> Int32) throws {
        try lock.withLock {
            let started = ContinuousClock.now
            let request = UnsafeMutableRawPointer.allocate(byteCount: MPILibrary.requestBytes, alignment: 8)
            let status = UnsafeMutableRawPointer.allocate(byteCount: MPILibrary.statusBytes, alignment: 8)
            defer { request.deallocate(); status.deallocate() }
            request.initializeMemory(as: UInt8.self, repeating: 0, count: MPILibrary.requestBytes)
            try Self.check(library, "MPI_I\(operation)", start(request))
            var done: Int32 = 0, polls = 0
            let deadline = started + timeout
            while true {
                try Self.check(library, "MPI_Test (\(operation))", library.test(request, &done, status))
                if done != 0 { break }
                polls += 1
                if polls & 0xff == 0, ContinuousClock.now > deadline {
                    throw DistributedError.timeout(operation: operation, rank: rank, size: size, seconds: Double(timeout.components.seconds))
                }
                // Spin first (a short collective answers in microseconds), then let others run.
                if polls > 2_000 { usleep(polls > 20_000 ? 200 : 20) } else if polls > 100 { sched_yield() }
            }
            let elapsed = ContinuousClock.now - started
            traffic.collectives += 1
            traffic.bytes += bytes
            traffic.seconds += Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        }
    }

    /// Throws, naming the sizes, unless every process passes `bytes` to `operation` (a small
    /// allgather first, so that a mismatch is a clear error rather than MPI's truncation).
    private func checkSameSize(_ bytes: Int, _ operation: String) throws {
        let sizes = try gatherRaw(NDArray([Int64(bytes)]), bytes: 8).elements(as: Int64.self)
        guard Set(sizes).count == 1 else {
            throw DistributedError.unsupported(operation: operation, reason: "the processes' arrays differ in size (bytes by rank: \(sizes))")
        }
    }

    /// The bytes of `source` (contiguous) from every process, stacked.
    private func gatherRaw(_ source: NDArray, bytes: Int) throws -> NDArray {
        let result = NDArray(zeros: [size] + source.shape, dtype: source.dtype)
        let count = try int32(bytes, "allgather")
        try source.withUnsafeRawPointer { input in
            try result.withUnsafeMutableRawPointer { output in
                try collective("allgather", bytes: bytes) { request in
                    library.allGather(input, count, library.byte, output, count, library.byte, library.world, request)
                }
            }
        }
        return result
    }

    /// A sum over the processes divided by their number.
    private func mean(of sum: NDArray) -> NDArray {
        let count = size
        return sum.dtype == .float32 ? map1(sum) { (x: Float) in x / Float(count) } : map1(sum) { (x: Double) in x / Double(count) }
    }

    private func int32(_ count: Int, _ operation: String) throws -> Int32 {
        guard let value = Int32(exactly: count) else {
            throw DistributedError.unsupported(operation: operation, reason: "\(count) elements is more than one MPI call moves (2³¹ − 1)")
        }
        return value
    }

    private static func check(_ library: MPILibrary, _ call: String, _ code: Int32) throws {
        guard code == 0 else { throw DistributedError.mpiFailed(call: call, code: code, message: library.message(for: code)) }
    }
}

/// The library to finalize when the process exits (set once, when MPI is initialized).
nonisolated(unsafe) private var finalizingLibrary: MPILibrary?

private func finalizeAtExit() {
    guard let library = finalizingLibrary else { return }
    var flag: Int32 = 0
    _ = library.finalized(&flag)
    if flag == 0 { _ = library.finalize() }
}
