#if canImport(Glibc)
import Glibc
#endif
import TheanoCore

/// The LAPACK routines the matrix-algebra ops run on, loaded at run time like BLAS: from
/// OpenBLAS (Debian's `libopenblas0` exports LAPACK too) or the reference `liblapack3`.
///
/// Every routine takes float64 matrices in column-major order (Fortran's convention), with
/// 32-bit integers; the ops copy each matrix of a stack into that layout. Character
/// arguments are followed by their hidden Fortran lengths, as gfortran expects.
///
/// There is no hand-written fallback: without a LAPACK library an op that needs one throws
/// ``TheanoError/toolMissing(tool:purpose:hint:)`` naming the packages that provide it.
package final class LAPACK: @unchecked Sendable {
    typealias Integer = Int32
    typealias Pointer = UnsafeMutablePointer<Double>
    typealias IntegerPointer = UnsafeMutablePointer<Integer>
    typealias Text = UnsafePointer<CChar>

    typealias Potrf = @convention(c) (Text, IntegerPointer, Pointer, IntegerPointer, IntegerPointer, Int) -> Void
    typealias Potrs = @convention(c) (Text, IntegerPointer, IntegerPointer, Pointer, IntegerPointer, Pointer, IntegerPointer,
                                      IntegerPointer, Int) -> Void
    typealias Getrf = @convention(c) (IntegerPointer, IntegerPointer, Pointer, IntegerPointer, IntegerPointer, IntegerPointer) -> Void
    typealias Getrs = @convention(c) (Text, IntegerPointer, IntegerPointer, Pointer, IntegerPointer, IntegerPointer, Pointer,
                                      IntegerPointer, IntegerPointer, Int) -> Void
    typealias Trtrs = @convention(c) (Text, Text, Text, IntegerPointer, IntegerPointer, Pointer, IntegerPointer, Pointer,
                                      IntegerPointer, IntegerPointer, Int, Int, Int) -> Void
    typealias Syevd = @convention(c) (Text, Text, IntegerPointer, Pointer, IntegerPointer, Pointer, Pointer, IntegerPointer,
                                      IntegerPointer, IntegerPointer, IntegerPointer, Int, Int) -> Void
    typealias Geev = @convention(c) (Text, Text, IntegerPointer, Pointer, IntegerPointer, Pointer, Pointer, Pointer,
                                     IntegerPointer, Pointer, IntegerPointer, Pointer, IntegerPointer, IntegerPointer, Int, Int) -> Void
    typealias Gesdd = @convention(c) (Text, IntegerPointer, IntegerPointer, Pointer, IntegerPointer, Pointer, Pointer,
                                      IntegerPointer, Pointer, IntegerPointer, Pointer, IntegerPointer, IntegerPointer,
                                      IntegerPointer, Int) -> Void
    typealias Geqrf = @convention(c) (IntegerPointer, IntegerPointer, Pointer, IntegerPointer, Pointer, Pointer, IntegerPointer,
                                      IntegerPointer) -> Void
    typealias Orgqr = @convention(c) (IntegerPointer, IntegerPointer, IntegerPointer, Pointer, IntegerPointer, Pointer, Pointer,
                                      IntegerPointer, IntegerPointer) -> Void
    typealias Gelsd = @convention(c) (IntegerPointer, IntegerPointer, IntegerPointer, Pointer, IntegerPointer, Pointer,
                                      IntegerPointer, Pointer, UnsafeMutablePointer<Double>, IntegerPointer, Pointer,
                                      IntegerPointer, IntegerPointer, IntegerPointer) -> Void

    /// The library's path or name as loaded.
    package let path: String
    private let library: DynamicLibrary
    let potrf: Potrf, potrs: Potrs, getrf: Getrf, getrs: Getrs, trtrs: Trtrs
    let syevd: Syevd, geev: Geev, gesdd: Gesdd, geqrf: Geqrf, orgqr: Orgqr, gelsd: Gelsd

    /// The libraries tried, in order.
    static let candidates = ["libopenblas.so.0", "libopenblas.so", "liblapack.so.3", "liblapack.so"]

    /// The LAPACK of this process, loaded on first use; `nil` when none can be loaded.
    package static let shared: LAPACK? = candidates.lazy.compactMap { candidate -> LAPACK? in
        guard case .success(let library) = DynamicLibrary.load(candidate) else { return nil }
        return LAPACK(library: library, path: candidate)
    }.first

    /// The shared library, or an error naming the packages that provide one.
    package static func required(by op: String) throws -> LAPACK {
        guard let shared else {
            throw TheanoError.toolMissing(
                tool: "LAPACK", purpose: "to compute \(op)",
                hint: "install OpenBLAS or the reference LAPACK (Debian: apt-get install libopenblas0 or liblapack3)")
        }
        return shared
    }

    private init?(library: DynamicLibrary, path: String) {
        func load<T>(_ name: String, as type: T.Type) -> T? { library.symbol(name).map { unsafeBitCast($0, to: type) } }
        guard let potrf = load("dpotrf_", as: Potrf.self), let potrs = load("dpotrs_", as: Potrs.self),
              let getrf = load("dgetrf_", as: Getrf.self), let getrs = load("dgetrs_", as: Getrs.self),
              let trtrs = load("dtrtrs_", as: Trtrs.self), let syevd = load("dsyevd_", as: Syevd.self),
              let geev = load("dgeev_", as: Geev.self), let gesdd = load("dgesdd_", as: Gesdd.self),
              let geqrf = load("dgeqrf_", as: Geqrf.self), let orgqr = load("dorgqr_", as: Orgqr.self),
              let gelsd = load("dgelsd_", as: Gelsd.self)
        else { return nil }
        (self.library, self.path) = (library, path)
        (self.potrf, self.potrs, self.getrf, self.getrs, self.trtrs) = (potrf, potrs, getrf, getrs, trtrs)
        (self.syevd, self.geev, self.gesdd, self.geqrf, self.orgqr, self.gelsd) = (syevd, geev, gesdd, geqrf, orgqr, gelsd)
    }
}
