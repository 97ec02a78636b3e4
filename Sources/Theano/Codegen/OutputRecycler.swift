/// The output buffer of one compiled node, reused from call to call: if nobody kept the
/// array the node returned last time (the storage is uniquely referenced again), its memory
/// is handed out anew instead of allocating — and faulting in — fresh pages.
final class OutputRecycler: @unchecked Sendable {
    private var storage: Storage?

    /// A contiguous array of `shape` and `dtype` whose elements the caller will write.
    func array(_ shape: [Int], dtype: DType) -> NDArray {
        let bytes = shape.reduce(1, *) * dtype.byteSize
        if storage != nil, isKnownUniquelyReferenced(&storage!), storage!.byteCount == bytes {
            return NDArray(dtype: dtype, shape: shape, strides: NDArray.contiguousStrides(shape), offset: 0, storage: storage!)
        }
        let fresh = NDArray(uninitialized: shape, dtype: dtype)
        storage = fresh.storage
        return fresh
    }
}
