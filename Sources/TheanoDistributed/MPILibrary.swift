import Foundation
import TheanoCore

/// The MPI library of this machine, loaded at run time (`dlopen`), as BLAS is: the package
/// builds, and everything but distributed training runs, without MPI installed.
///
/// The two families of implementations differ in their binary interface, not in their C
/// API: Open MPI's handles (communicators, datatypes, reduction operations, requests) are
/// pointers to the library's own objects (`&ompi_mpi_comm_world`), MPICH's are 32-bit
/// integers fixed in its `mpi.h` (`MPI_COMM_WORLD` is `0x44000000`). Both are held here as a
/// machine word and passed in a register either way, so one set of function types serves
/// both (a 32-bit `int` argument is the low half of the register on x86-64 and arm64).
struct MPILibrary: @unchecked Sendable {
    /// Which binary interface the library has.
    enum Family: String { case openMPI = "Open MPI", mpich = "MPICH" }

    typealias Handle = Int
    typealias Initialize = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, Int32, UnsafeMutablePointer<Int32>) -> Int32
    typealias Flag = @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
    typealias Query = @convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32
    typealias Finalize = @convention(c) () -> Int32
    typealias Abort = @convention(c) (Handle, Int32) -> Int32
    typealias Barrier = @convention(c) (Handle, UnsafeMutableRawPointer) -> Int32
    typealias Broadcast = @convention(c) (UnsafeMutableRawPointer?, Int32, Handle, Int32, Handle, UnsafeMutableRawPointer) -> Int32
    typealias AllReduce = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, Handle, Handle, Handle, UnsafeMutableRawPointer) -> Int32
    typealias AllGather = @convention(c) (UnsafeRawPointer?, Int32, Handle, UnsafeMutableRawPointer?, Int32, Handle, Handle, UnsafeMutableRawPointer) -> Int32
    typealias Test = @convention(c) (UnsafeMutableRawPointer, UnsafeMutablePointer<Int32>, UnsafeMutableRawPointer) -> Int32
    typealias LibraryVersion = @convention(c) (UnsafeMutablePointer<CChar>, UnsafeMutablePointer<Int32>) -> Int32
    typealias SetErrorHandler = @convention(c) (Handle, Handle) -> Int32
    typealias ErrorString = @convention(c) (Int32, UnsafeMutablePointer<CChar>, UnsafeMutablePointer<Int32>) -> Int32

    let family: Family
    let path: String
    let initialize: Initialize, initialized: Flag, finalized: Flag, finalize: Finalize, abort: Abort
    let rank: Query, size: Query
    let barrier: Barrier, broadcast: Broadcast, allReduce: AllReduce, allGather: AllGather, test: Test
    let libraryVersion: LibraryVersion
    let setErrorHandler: SetErrorHandler, errorString: ErrorString
    /// `MPI_ERRORS_RETURN`: errors come back as codes (thrown) instead of ending the job.
    let errorsReturn: Handle
    /// `MPI_COMM_WORLD`.
    let world: Handle
    /// `MPI_FLOAT`, `MPI_DOUBLE`, `MPI_INT64_T`, `MPI_BYTE`.
    let float32: Handle, float64: Handle, int64: Handle, byte: Handle
    /// `MPI_SUM`, `MPI_MAX`.
    let sum: Handle, max: Handle
    /// `MPI_IN_PLACE`: `(void *) 1` in Open MPI, `(void *) -1` in MPICH.
    let inPlace: UnsafeRawPointer
    private let library: DynamicLibrary

    /// `MPI_THREAD_SERIALIZED`: any thread may call MPI, one at a time (the same in both families).
    static let threadSerialized: Int32 = 2
    /// The bytes reserved for an `MPI_Request` (a pointer or an `int`) and an `MPI_Status`
    /// (24 bytes in Open MPI, 20 in MPICH).
    static let requestBytes = 8, statusBytes = 64

    /// The library names tried: `THEANO_MPI_LIBRARY` alone when set (a path or a name),
    /// else Open MPI's and MPICH's.
    static var candidates: [String] {
        ProcessInfo.processInfo.environment["THEANO_MPI_LIBRARY"].map { [$0] } ?? ["libmpi.so.40", "libmpi.so", "libmpich.so.12", "libmpich.so"]
    }

    /// The first of ``candidates`` that loads, or an error naming what to install.
    static func load() throws -> MPILibrary {
        var reasons: [String] = []
        let candidates = self.candidates
        for candidate in candidates {
            switch DynamicLibrary.load(candidate, global: true) {
            case .success(let library): return try MPILibrary(library, path: candidate)
            case .failure(let error): reasons.append(error.message)
            }
        }
        throw DistributedError.mpiMissing(tried: candidates, reasons: reasons)
    }

    private init(_ library: DynamicLibrary, path: String) throws {
        self.library = library
        self.path = path
        func symbol(_ name: String) throws -> UnsafeMutableRawPointer {
            guard let symbol = library.symbol(name) else { throw DistributedError.mpiIncomplete(path: path, missing: name) }
            return symbol
        }
        func function<T>(_ name: String, _ type: T.Type) throws -> T { unsafeBitCast(try symbol(name), to: type) }
        /// An Open MPI handle: the address of the library's object.
        func object(_ name: String) throws -> Handle { Int(bitPattern: try symbol(name)) }
        initialize = try function("MPI_Init_thread", Initialize.self)
        initialized = try function("MPI_Initialized", Flag.self)
        finalized = try function("MPI_Finalized", Flag.self)
        finalize = try function("MPI_Finalize", Finalize.self)
        abort = try function("MPI_Abort", Abort.self)
        rank = try function("MPI_Comm_rank", Query.self)
        size = try function("MPI_Comm_size", Query.self)
        barrier = try function("MPI_Ibarrier", Barrier.self)
        broadcast = try function("MPI_Ibcast", Broadcast.self)
        allReduce = try function("MPI_Iallreduce", AllReduce.self)
        allGather = try function("MPI_Iallgather", AllGather.self)
        test = try function("MPI_Test", Test.self)
        libraryVersion = try function("MPI_Get_library_version", LibraryVersion.self)
        setErrorHandler = try function("MPI_Comm_set_errhandler", SetErrorHandler.self)
        errorString = try function("MPI_Error_string", ErrorString.self)
        if library.symbol("ompi_mpi_comm_world") != nil {
            family = .openMPI
            world = try object("ompi_mpi_comm_world")
            (float32, float64, int64, byte) = (try object("ompi_mpi_float"), try object("ompi_mpi_double"), try object("ompi_mpi_int64_t"), try object("ompi_mpi_byte"))
            (sum, max) = (try object("ompi_mpi_op_sum"), try object("ompi_mpi_op_max"))
            errorsReturn = try object("ompi_mpi_errors_return")
            inPlace = UnsafeRawPointer(bitPattern: 1)!
        } else {
            // MPICH and its derivatives (Intel MPI, MVAPICH): the constants of its mpi.h.
            family = .mpich
            world = 0x4400_0000
            (float32, float64, int64, byte) = (0x4c00_040a, 0x4c00_080b, 0x4c00_083a, 0x4c00_010d)
            (sum, max) = (0x5800_0003, 0x5800_0001)
            errorsReturn = 0x5400_0001
            inPlace = UnsafeRawPointer(bitPattern: -1)!
        }
    }

    /// The MPI datatype of `dtype`'s elements (`nil`: no reduction for it).
    func datatype(_ dtype: DType) -> Handle? {
        switch dtype {
        case .float32: float32
        case .float64: float64
        case .int64: int64
        default: nil
        }
    }

    /// What the library says of error `code` (`MPI_Error_string`).
    func message(for code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 1024), length: Int32 = 0
        guard errorString(code, &buffer, &length) == 0 else { return "MPI error \(code)" }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// What the library says it is (`MPI_Get_library_version`), first line.
    var version: String {
        var buffer = [CChar](repeating: 0, count: 8192), length: Int32 = 0
        _ = libraryVersion(&buffer, &length)
        let text = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return text.split(whereSeparator: \.isNewline).first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? text
    }
}
