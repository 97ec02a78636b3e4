#if canImport(Glibc)
import Glibc
#endif

/// A lock that many readers may hold at once, or one writer (POSIX's `pthread_rwlock`).
final class ReadWriteLock: @unchecked Sendable {
    private let lock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)

    package init() { pthread_rwlock_init(lock, nil) }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    func lockForReading() { pthread_rwlock_rdlock(lock) }
    func lockForWriting() { pthread_rwlock_wrlock(lock) }
    func unlock() { pthread_rwlock_unlock(lock) }

    /// `body`'s result, computed holding the lock for reading.
    package func reading<R>(_ body: () throws -> R) rethrows -> R {
        lockForReading()
        defer { unlock() }
        return try body()
    }

    /// `body`'s result, computed holding the lock for writing.
    package func writing<R>(_ body: () throws -> R) rethrows -> R {
        lockForWriting()
        defer { unlock() }
        return try body()
    }
}
