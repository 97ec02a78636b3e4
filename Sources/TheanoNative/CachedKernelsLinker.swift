import Synchronization
import TheanoCore
import TheanoOps

/// The first tier of a function that answers calls while its kernels compile: the native
/// linker's program with the kernels already in the cache, and the reference
/// implementations (matrix products on BLAS) for the others. Linking compiles nothing, so
/// it takes milliseconds; the inner graphs of loops are linked the same way.
package final class CachedKernelsLinker: Linker {
    /// The linker whose cache is read.
    package let base: NativeLinker
    private let provisional = Mutex(false)

    package init(base: NativeLinker) { self.base = base }

    /// Whether some graph it linked (a function's or a loop step's) lacks compiled kernels.
    package var linkedProvisionally: Bool { provisional.withLock { $0 } }

    package func link(_ graph: FunctionGraph, updates: [SharedVariable], overwritableInputs: Set<Int>,
                      innerGraphs: InnerGraphCompiler) throws -> LinkedGraph {
        let linked = try base.link(graph, updates: updates, overwritableInputs: overwritableInputs, innerGraphs: innerGraphs,
                                   compiling: false)
        if linked.isProvisional { provisional.withLock { $0 = true } }
        return linked
    }
}
