/// What can go wrong in distributed training; each message says what to do about it.
public enum DistributedError: Error, CustomStringConvertible {
    /// No MPI library could be loaded.
    case mpiMissing(tried: [String], reasons: [String])
    /// The library lacks a function or object every MPI has.
    case mpiIncomplete(path: String, missing: String)
    /// An MPI call returned an error code; `message` is the library's.
    case mpiFailed(call: String, code: Int32, message: String)
    /// A collective did not complete in time: another process died, hangs, or never reached it.
    case timeout(operation: String, rank: Int, size: Int, seconds: Double)
    /// Values that cannot take part in a collective (another dtype, sizes that differ).
    case unsupported(operation: String, reason: String)
    /// Processes that should hold the same values do not.
    case disagreement(what: String, detail: String)

    public var description: String {
        switch self {
        case let .mpiMissing(tried, reasons):
            return "distributed training needs an MPI library, and none could be loaded (tried \(tried.joined(separator: ", ")): "
                + "\(reasons.first ?? ""). Install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev) "
                + "or MPICH (apt-get install mpich libmpich-dev)"
        case let .mpiIncomplete(path, missing):
            return "\(path) lacks \(missing): it is not an MPI 3 library"
        case let .mpiFailed(call, code, message):
            return "\(call) failed (MPI error \(code)): \(message)"
        case let .timeout(operation, rank, size, seconds):
            return "\(operation) on rank \(rank) of \(size) did not complete within \(Int(seconds)) s: another process died, hangs, or did not "
                + "reach the same collective (THEANO_MPI_TIMEOUT sets the limit in seconds)"
        case let .unsupported(operation, reason):
            return "\(operation): \(reason)"
        case let .disagreement(what, detail):
            return "\(what) differ between processes: \(detail)"
        }
    }
}
