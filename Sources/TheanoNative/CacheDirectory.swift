import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif
import TheanoCore
import TheanoOps

/// Checks that a directory may hold compiled modules, and says in words what is wrong when
/// it may not.
enum CacheDirectory {
    /// Why `path` cannot be used as a module cache — after making it (and missing parents)
    /// readable by its owner only, when it does not exist — or `nil` when it can.
    static func problem(with path: String) -> String? {
        if let failure = makeDirectories(path) { return failure }
        var status = stat()
        guard lstat(path, &status) == 0 else { return reason(errno) }
        guard status.st_mode & S_IFMT == S_IFDIR else {
            return status.st_mode & S_IFMT == S_IFLNK ? "is a symbolic link, not a directory" : "is a file, not a directory"
        }
        guard status.st_uid == geteuid() else { return "belongs to another user" }
        guard status.st_mode & (S_IWGRP | S_IWOTH) == 0 else {
            return "can be written by other users, and a module in it is code that would run in this process"
        }
        guard access(path, W_OK) == 0 else { return errno == EROFS ? "is on a read-only file system" : "is read-only (\(reason(errno)))" }
        return nil
    }

    /// Makes `path` and its missing parents with mode 0700; the problem in words, if any.
    private static func makeDirectories(_ path: String) -> String? {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) { return nil }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, parent != path, let problem = makeDirectories(parent) { return problem }
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else { return "cannot be made: \(reason(errno))" }
        return nil
    }

    /// A directory only this process uses, made (mode 0700) the first time it is asked for
    /// and removed when the process exits.
    static func privateTemporary() throws -> String {
        try temporary.withLock { made in
            if let made { return made }
            let base = FileManager.default.fileExists(atPath: NSTemporaryDirectory()) ? NSTemporaryDirectory() : "/tmp"
            var template = Array("\(base)/swift-theano-XXXXXX".utf8CString)
            guard let result = mkdtemp(&template) else {
                throw TheanoError.toolFailed(tool: "module cache", reason: "cannot make a temporary directory in \(base): \(reason(errno))")
            }
            let path = String(cString: result)
            made = path
            atexit { if let path = CacheDirectory.temporary.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: path) } }
            return path
        }
    }

    private static let temporary = Mutex<String?>(nil)

    /// `error` (an `errno` value) in words, for the problems a cache runs into.
    package static func reason(_ error: Int32) -> String {
        switch error {
        case ENOSPC: "the disk is full"
        case EDQUOT: "the disk quota is exceeded"
        case EROFS: "the file system is read-only"
        case EACCES, EPERM: "permission denied"
        case ENOTDIR: "a part of the path is a file, not a directory"
        case ENOENT: "a part of the path does not exist"
        default: String(cString: strerror(error))
        }
    }
}
