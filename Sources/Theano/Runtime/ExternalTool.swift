import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Finding and running programs of the system (`dot`, later the C compiler) with
/// `posix_spawn`, which costs about a millisecond where `Foundation.Process` costs fifty.
enum ExternalTool {
    struct Result {
        let status: Int32
        let errorOutput: String
        /// What it wrote to standard output, when asked to capture it.
        let standardOutput: String
    }

    /// The full path of `name` on `PATH`, or `nil`.
    static func find(_ name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `program` with `arguments`, waits for it, and returns its exit status and what it
    /// wrote to standard error.
    static func run(_ program: String, arguments: [String], captureOutput: Bool = false) throws -> Result {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("theano-\(UUID().uuidString)").path
        let errorPath = scratch + ".err", outputPath = captureOutput ? scratch + ".out" : "/dev/null"
        defer {
            try? FileManager.default.removeItem(atPath: errorPath)
            if captureOutput { try? FileManager.default.removeItem(atPath: outputPath) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, program, &actions, nil, argv, environ)
        guard spawned == 0 else { throw TheanoError.toolFailed(tool: program, reason: "cannot start: \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let errors = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
        let output = captureOutput ? (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" : ""
        return Result(status: exit, errorOutput: errors.trimmingCharacters(in: .whitespacesAndNewlines), standardOutput: output)
    }
}
