import TheanoCore

/// An op the native backend computes with a C kernel that fills a fresh contiguous output
/// element by element, each element from its position and the inputs alone: random draws,
/// image patches, pooling. The op gives the kernel's C text; the backend compiles it, splits the elements
/// across cores and calls it.
///
/// The kernel's signature is
///
///     void name(int64_t begin, int64_t end, const void *const *in, void *out)
///
/// and it writes elements `begin ..< end` (row-major) of `out`. `in[0]` points at the op's
/// ``fillKernelArguments(for:)`` (numbers read at run time: input sizes, or a draw's number,
/// so that ops differing only in them share one kernel), the node's inputs follow, each
/// contiguous (or what ``withFillKernelOperands(_:_:)`` gives).
package protocol CFillKernelOp: Op {
    /// The kernel's source for `node`, named `name`; `nil` when C cannot express it.
    func cFillKernel(name: String, node: Apply) -> String?
    /// The output's shape for these input values; throws for values the op refuses.
    func fillShape(_ inputs: [NDArray]) throws -> [Int]
    /// Numbers the kernel reads at run time rather than from its text, for these input
    /// values (a draw's number, the sizes of an image).
    func fillKernelArguments(for inputs: [NDArray]) -> [Int64]
    /// The cost of one element relative to an addition (what splitting the work weighs).
    var workPerElement: Int { get }
    /// Calls `body` with what the kernel reads after its arguments: by default each input's
    /// elements, contiguous; an op whose input is more than one array (a sparse matrix's
    /// parts) gives its own.
    func withFillKernelOperands<R>(_ inputs: [NDArray], _ body: ([UnsafeRawPointer?]) throws -> R) rethrows -> R
}

extension CFillKernelOp {
    package func withFillKernelOperands<R>(_ inputs: [NDArray], _ body: ([UnsafeRawPointer?]) throws -> R) rethrows -> R {
        let arrays = inputs.map { $0.contiguous() }
        // The pointers stay valid while `arrays` keeps every storage alive.
        return try withExtendedLifetime(arrays) { try body(arrays.map { $0.withUnsafeRawPointer { $0 } }) }
    }
}
