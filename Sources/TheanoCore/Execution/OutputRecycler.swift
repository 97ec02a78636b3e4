/// The output buffer of one compiled node, reused from call to call: if nobody kept the
/// array the node returned last time (the storage is uniquely referenced again), its memory
/// is handed out anew instead of allocating — and faulting in — fresh pages.
package final class OutputRecycler: @unchecked Sendable {
    package init() {}

    /// The array handed out last (kept whole, so a call of the same shape allocates nothing).
    /// Only the executor running the node uses it, so accesses are not checked.
    @exclusivity(unchecked) private var last: NDArray?

    /// A contiguous array of `shape` and `dtype` whose elements the caller will write.
    package func array(_ shape: [Int], dtype: DType) throws -> NDArray {
        if last != nil, last!.hasUniqueStorage() {
            if last!.shape == shape && last!.dtype == dtype { return last! }
            if last!.storage.byteCount == shape.reduce(1, *) * dtype.byteSize {
                last = NDArray(dtype: dtype, shape: shape, strides: NDArray.contiguousStrides(shape), offset: 0, storage: last!.storage)
                return last!
            }
        }
        last = try NDArray.allocate(shape, dtype: dtype, zeroed: false)
        return last!
    }
}
