import TheanoCore

/// An op the native backend computes with a C kernel that fills a fresh contiguous output
/// element by element, each element from its position and the (small) inputs alone: random
/// draws. The op gives the kernel's C text; the backend compiles it, splits the elements
/// across cores and calls it.
///
/// The kernel's signature is
///
///     void name(int64_t begin, int64_t end, const void *const *in, void *out)
///
/// and it writes elements `begin ..< end` (row-major) of `out`. `in[0]` points at the op's
/// ``fillKernelArguments`` (so that ops differing only in them share one kernel), the node's
/// inputs follow, each contiguous.
package protocol CFillKernelOp: Op {
    /// The kernel's source, named `name`; `nil` when C cannot express it.
    func cFillKernel(name: String) -> String?
    /// The output's shape for these input values; throws for values the op refuses.
    func fillShape(_ inputs: [NDArray]) throws -> [Int]
    /// Numbers the kernel reads at run time rather than from its text (a draw's number).
    var fillKernelArguments: [Int64] { get }
    /// The cost of one element relative to an addition (what splitting the work weighs).
    var workPerElement: Int { get }
}
