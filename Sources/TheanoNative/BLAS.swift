import Foundation
import TheanoCore
import TheanoOps

/// A CBLAS library (OpenBLAS from Debian's `libopenblas-dev`, or another) loaded at run
/// time, so the package builds and runs without one.
///
/// OpenBLAS 0.3.21 does not recognise recent CPUs and falls back to slow generic kernels;
/// on a CPU with AVX-512 the loader sets `OPENBLAS_CORETYPE=SkylakeX` before loading
/// unless the user chose a core type.
///
/// After each call OpenBLAS's worker threads spin (`sched_yield`) for 2²⁸ cycles by default,
/// holding the cores the compiled kernels between products split their work over — in a
/// LeNet training step a fifth of the CPU time went to that spinning. Unless the user set it,
/// the loader sets `OPENBLAS_THREAD_TIMEOUT=4` (2⁴ cycles: the workers sleep as soon as
/// they are done; waking them costs microseconds at the next product). Each product then
/// chooses its own thread count (``ProductThreading``).
public final class BLAS: @unchecked Sendable {
    package typealias SGemm = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>, Int32,
                                      UnsafePointer<Float>, Int32, Float, UnsafeMutablePointer<Float>, Int32) -> Void
    package typealias DGemm = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Double, UnsafePointer<Double>, Int32,
                                      UnsafePointer<Double>, Int32, Double, UnsafeMutablePointer<Double>, Int32) -> Void
    typealias SGemv = @convention(c) (Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>, Int32,
                                      UnsafePointer<Float>, Int32, Float, UnsafeMutablePointer<Float>, Int32) -> Void
    typealias DGemv = @convention(c) (Int32, Int32, Int32, Int32, Double, UnsafePointer<Double>, Int32,
                                      UnsafePointer<Double>, Int32, Double, UnsafeMutablePointer<Double>, Int32) -> Void

    /// CBLAS constants.
    static let rowMajor: Int32 = 101, noTranspose: Int32 = 111, transpose: Int32 = 112

    /// The library's path or name as loaded.
    public let path: String
    /// What the library says of itself (`openblas_get_config`), if it says.
    public let configuration: String?
    private let library: DynamicLibrary
    let sgemm: SGemm, dgemm: DGemm
    let sgemv: SGemv, dgemv: DGemv
    private let setThreads: (@convention(c) (Int32) -> Void)?

    /// The BLAS of this process, loaded on first use; `nil` when none can be loaded.
    public static let shared: BLAS? = load(candidates: ["libopenblas.so.0", "libopenblas.so", "libblas.so.3", "libcblas.so.3"])

    /// The first of `candidates` that loads and has the CBLAS routines needed.
    package static func load(candidates: [String]) -> BLAS? {
        if Environment.openBLASCoreType == nil, cpuHasAVX512 { setenv("OPENBLAS_CORETYPE", "SkylakeX", 0) }
        setenv("OPENBLAS_THREAD_TIMEOUT", "4", 0)
        for candidate in candidates {
            guard case .success(let library) = DynamicLibrary.load(candidate), let blas = BLAS(library: library, path: candidate) else { continue }
            return blas
        }
        return nil
    }

    private init?(library: DynamicLibrary, path: String) {
        guard let sgemm = library.symbol("cblas_sgemm"), let dgemm = library.symbol("cblas_dgemm"),
              let sgemv = library.symbol("cblas_sgemv"), let dgemv = library.symbol("cblas_dgemv")
        else { return nil }
        self.library = library
        self.path = path
        self.sgemm = unsafeBitCast(sgemm, to: SGemm.self)
        self.dgemm = unsafeBitCast(dgemm, to: DGemm.self)
        self.sgemv = unsafeBitCast(sgemv, to: SGemv.self)
        self.dgemv = unsafeBitCast(dgemv, to: DGemv.self)
        setThreads = library.symbol("openblas_set_num_threads").map { unsafeBitCast($0, to: (@convention(c) (Int32) -> Void).self) }
        configuration = library.symbol("openblas_get_config").map { symbol in
            let get = unsafeBitCast(symbol, to: (@convention(c) () -> UnsafePointer<CChar>?).self)
            return get().map { String(cString: $0) } ?? ""
        }
    }

    /// Limits the threads OpenBLAS uses (no effect on other libraries).
    public func setThreadCount(_ count: Int) { setThreads?(Int32(count)) }

    /// Sets OpenBLAS's thread count; `nil` for other libraries.
    var threadCountSetter: ((Int) -> Void)? {
        guard setThreads != nil else { return nil }
        return { [self] in setThreadCount($0) }
    }

    private static let cpuHasAVX512: Bool = {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        return info.contains(" avx512f")
    }()
}
