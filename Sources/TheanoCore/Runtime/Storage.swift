#if canImport(Glibc)
import Glibc
#endif

/// A 64-byte-aligned block of memory shared by arrays that view it.
///
/// Arrays copy-on-write: an array mutates its storage in place only when it holds the sole
/// reference (`isKnownUniquelyReferenced`).
@usableFromInline package final class Storage: @unchecked Sendable {
    static let alignment = 64

    /// Read only by ``withAddress(at:_:)``; visible to the package so that loops in other
    /// modules can inline it.
    @usableFromInline let data: UnsafeMutableRawPointer
    package let byteCount: Int

    /// New memory, zero-filled unless the caller will write every byte itself; `nil` when the
    /// system cannot provide it.
    package init?(byteCount: Int, zeroed: Bool = true) {
        var memory: UnsafeMutableRawPointer?
        guard byteCount >= 0, posix_memalign(&memory, Self.alignment, Swift.max(byteCount, 1)) == 0, let memory else { return nil }
        self.byteCount = byteCount
        data = memory
        if zeroed { data.initializeMemory(as: UInt8.self, repeating: 0, count: Swift.max(byteCount, 1)) }
    }

    /// Calls `body` with the address `byteOffset` bytes into the block, which stays
    /// allocated until `body` returns. The address must not leave `body`.
    @inline(__always) @inlinable func withAddress<R>(at byteOffset: Int, _ body: (UnsafeMutableRawPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) { try body(data + byteOffset) }
    }

    deinit { free(data) }
}
