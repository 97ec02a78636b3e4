import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Finding and running programs of the system (the C compiler, Graphviz's `dot`) with
/// `posix_spawn`, which costs about a millisecond where `Foundation.Process` costs fifty.
///
/// What a program writes is read through pipes (no temporary files: a missing `TMPDIR`
/// does not stop it), and a program that runs past its time limit is killed with every
/// process it started (it runs in a process group of its own).
package enum ExternalTool {
    package struct Result {
        package let status: Int32
        package let errorOutput: String
        /// What it wrote to standard output, when asked to capture it.
        package let standardOutput: String

        package init(status: Int32, errorOutput: String, standardOutput: String) {
            self.status = status
            self.errorOutput = errorOutput
            self.standardOutput = standardOutput
        }
    }

    /// The full path of `name` on `PATH`, or `nil`.
    package static func find(_ name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `program` with `arguments`, waits for it — at most `timeout`, after which it is
    /// killed and ``TheanoError/toolFailed(tool:reason:)`` thrown — and returns its exit
    /// status and what it wrote to standard error (and to standard output, if captured).
    package static func run(_ program: String, arguments: [String], captureOutput: Bool = false,
                    timeout: Duration? = nil) throws -> Result {
        let errors = try FilePipe(), output = captureOutput ? try FilePipe() : nil
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, errors.write, 2)
        if let output {
            posix_spawn_file_actions_adddup2(&actions, output.write, 1)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        for pipe in [errors, output].compactMap({ $0 }) {
            posix_spawn_file_actions_addclose(&actions, pipe.read)
            posix_spawn_file_actions_addclose(&actions, pipe.write)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)

        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        var spawned = posix_spawn(&pid, program, &actions, &attributes, argv, environ)
        // A program file just written (a compiler wrapper script) is "busy" while a process
        // forked meanwhile, by any thread, still holds it open for writing: it closes soon.
        for _ in 0..<100 where spawned == ETXTBSY {
            usleep(10_000)
            spawned = posix_spawn(&pid, program, &actions, &attributes, argv, environ)
        }
        errors.closeWrite()
        output?.closeWrite()
        guard spawned == 0 else {
            errors.closeRead()
            output?.closeRead()
            throw TheanoError.toolFailed(tool: program, reason: "cannot start: \(String(cString: strerror(spawned)))")
        }
        // Both pipes are drained while the program runs, so it never waits on a full pipe —
        // on threads of their own: the dispatch pool's may all be busy (a parallel loop
        // waiting for the function this program compiles), and waiting here for a pool
        // thread would never end.
        let reading = DispatchGroup()
        let errorText = PipeText(), outputText = PipeText()
        for (pipe, text) in [(errors, errorText), (output, outputText)] {
            guard let pipe else { continue }
            reading.enter()
            Thread.detachNewThread {
                text.set(pipe.readAll())
                reading.leave()
            }
        }
        let watchdog = timeout.map { Watchdog(processGroup: pid, after: $0) }
        let status = waitForExit(pid, beforeReaping: { watchdog?.disarm() })
        reading.wait()
        if let timeout, watchdog?.fired == true {
            throw TheanoError.toolFailed(tool: program, reason: "did not finish within \(timeout.seconds) s and was stopped")
        }
        return Result(status: status, errorOutput: errorText.value.trimmingCharacters(in: .whitespacesAndNewlines),
                      standardOutput: outputText.value)
    }

    /// Waits until `pid` has exited, calls `beforeReaping` while its id is still reserved
    /// (no other process can have it yet), then reaps it and returns its exit status
    /// (128 + the signal's number when a signal ended it).
    private static func waitForExit(_ pid: pid_t, beforeReaping: () -> Void) -> Int32 {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == -1 && errno == EINTR {}
        beforeReaping()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}

/// Kills a process group unless disarmed before its time is up.
private final class Watchdog: Sendable {
    private let state = Mutex<(armed: Bool, fired: Bool)>((true, false))

    init(processGroup: pid_t, after timeout: Duration) {
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout.seconds) { [self] in
            state.withLock { state in
                guard state.armed else { return }
                kill(-processGroup, SIGKILL)
                state = (false, true)
            }
        }
    }

    /// Stops the watchdog (the process has exited but is not yet reaped).
    func disarm() { state.withLock { $0.armed = false } }

    /// Whether it killed the process group.
    var fired: Bool { state.withLock { $0.fired } }
}

/// What a program wrote to one pipe, filled in by the thread reading it.
private final class PipeText: Sendable {
    private let text = Mutex("")
    func set(_ value: String) { text.withLock { $0 = value } }
    var value: String { text.withLock { $0 } }
}

/// The two ends of a pipe, as file descriptors that programs started by other threads do
/// not inherit (`O_CLOEXEC`).
private struct FilePipe: Sendable {
    let read: Int32, write: Int32

    init() throws {
        var ends: [Int32] = [0, 0]
        let made = Self.pipe2.map { $0(&ends, O_CLOEXEC) } ?? Glibc.pipe(&ends)
        guard made == 0 else { throw TheanoError.toolFailed(tool: "pipe", reason: String(cString: strerror(errno))) }
        (read, write) = (ends[0], ends[1])
        if Self.pipe2 == nil {
            _ = fcntl(read, F_SETFD, FD_CLOEXEC)
            _ = fcntl(write, F_SETFD, FD_CLOEXEC)
        }
    }

    /// glibc's `pipe2`, which makes both ends close-on-exec atomically (Swift's Glibc module
    /// does not declare it): with `pipe` and then `fcntl`, a program another thread starts
    /// in between would inherit the write end and hold the reader until it exits.
    private static let pipe2: (@convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32)? =
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pipe2").map { unsafeBitCast($0, to: (@convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32).self) }

    func closeWrite() { close(write) }
    func closeRead() { close(read) }

    /// Everything written until the other end is closed, as text; closes this end.
    func readAll() -> String {
        var bytes: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(read, $0.baseAddress, $0.count) }
            if count > 0 {
                bytes += buffer[..<count]
            } else if count == 0 || errno != EINTR {
                break
            }
        }
        closeRead()
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Duration {
    /// The duration in seconds.
    package var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
