import Foundation

/// The environment variables the library reads — all of them, in one place. They serve
/// diagnostics and the conventions of the system (`CC`, `XDG_CACHE_HOME`); everything else
/// is chosen with option values.
package enum Environment {
    private static var variables: [String: String] { ProcessInfo.processInfo.environment }

    /// `CC`: the C compiler to try first.
    package static var cCompiler: String? { variables["CC"] }

    /// `XDG_CACHE_HOME`, else `~/.cache`: where compiled kernels are kept.
    package static var cacheHome: String {
        variables["XDG_CACHE_HOME"] ?? (variables["HOME"] ?? NSTemporaryDirectory()) + "/.cache"
    }

    /// `OPENBLAS_CORETYPE`: set by the user to choose OpenBLAS's kernels.
    package static var openBLASCoreType: String? { variables["OPENBLAS_CORETYPE"] }

    /// `OPENBLAS_NUM_THREADS`: set by the user to fix OpenBLAS's thread count, which the
    /// native backend then leaves alone.
    package static var openBLASThreads: String? { variables["OPENBLAS_NUM_THREADS"] }
}
