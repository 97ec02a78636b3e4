/// A 64-byte-aligned block of memory shared by arrays that view it.
///
/// Arrays copy-on-write: an array mutates its storage in place only when it holds the sole
/// reference (`isKnownUniquelyReferenced`).
final class Storage: @unchecked Sendable {
    static let alignment = 64

    private let data: UnsafeMutableRawPointer
    let byteCount: Int

    /// New memory, zero-filled unless the caller will write every byte itself.
    init(byteCount: Int, zeroed: Bool = true) {
        self.byteCount = byteCount
        data = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: Self.alignment)
        if zeroed { data.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 1)) }
    }

    /// Calls `body` with the address `byteOffset` bytes into the block, which stays
    /// allocated until `body` returns. The address must not leave `body`.
    @inline(__always)
    func withAddress<R>(at byteOffset: Int, _ body: (UnsafeMutableRawPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) { try body(data + byteOffset) }
    }

    deinit { data.deallocate() }
}
