import Foundation
import Synchronization
import TheanoCore
import TheanoOps

/// The C compiler the native backend uses, found when it is first needed: `$CC`, then `cc`,
/// `gcc`, and the `clang` that ships with the Swift toolchain.
public struct CCompiler: Sendable, CustomStringConvertible {
    /// The program's path.
    public let path: String
    /// Words written after the program in `CC` (`CC='gcc -m64'`, as `make` allows), passed
    /// before every other argument.
    public let leadingArguments: [String]
    /// The first line of `--version`, and the leading arguments: part of every cache key.
    public let identity: String

    package init(path: String, leadingArguments: [String], identity: String) {
        self.path = path
        self.leadingArguments = leadingArguments
        self.identity = identity
    }

    /// Whether it is GCC (whose vectorizer uses glibc's vector math library for `exp`, `tanh`, …).
    public var isGCC: Bool { !identity.lowercased().contains("clang") }

    public var description: String { "\(identity) (\(([path] + leadingArguments).joined(separator: " ")))" }

    /// The first working compiler among `candidates` (by default `$CC`, `cc`, `gcc`,
    /// `clang`); each candidate is a command, split into words as a shell would. A program
    /// that does not answer `--version` within `timeout` does not work. The answer is found
    /// once per process for each list of candidates (each try starts a process).
    public static func discover(candidates: [String]? = nil, timeout: Duration = .seconds(30)) -> CCompiler? {
        let names = candidates ?? ([Environment.cCompiler].compactMap { $0 } + ["cc", "gcc", "clang"])
        if let known = discovered.withLock({ $0[names] }) { return known }
        var found: CCompiler?
        for name in names where found == nil {
            found = probe(name, timeout: timeout, explaining: candidates == nil && name == Environment.cCompiler)
        }
        discovered.withLock { $0[names] = found }
        return found
    }

    private static let discovered = Mutex<[[String]: CCompiler?]>([:])

    /// The compiler `command` names, if it answers `--version`; `nil` when the command is
    /// empty or names no program. With `explaining`, what is wrong with it is said once
    /// (for `$CC`, which the user set on purpose).
    private static func probe(_ command: String, timeout: Duration, explaining: Bool) -> CCompiler? {
        func skip(_ reason: String) -> CCompiler? {
            if explaining { Diagnostics.warnOnce("CC='\(command)' \(reason); trying cc, gcc and clang instead") }
            return nil
        }
        let words = shellWords(command)
        guard let program = words.first else { return skip("is empty") }
        guard let path = ExternalTool.find(program) else { return skip("names no program (\(program) is not an executable file on PATH)") }
        let answer: ExternalTool.Result
        do {
            answer = try ExternalTool.run(path, arguments: Array(words.dropFirst()) + ["--version"], captureOutput: true, timeout: timeout)
        } catch {
            return skip("does not work: \(error)")
        }
        guard answer.status == 0, let first = answer.standardOutput.split(separator: "\n").first else {
            return skip("does not work: `\(command) --version` exited with status \(answer.status)")
        }
        let leading = Array(words.dropFirst())
        return CCompiler(path: path, leadingArguments: leading, identity: ([String(first)] + leading).joined(separator: " "))
    }

    /// Flags for kernels: optimized for this CPU, IEEE semantics kept (`-fno-math-errno`
    /// only lets math calls vectorize, `-fno-trapping-math` lets loops with selects between
    /// floats vectorize — no kernel enables floating-point traps, so no value changes;
    /// `-fwrapv` makes integer overflow wrap, as NumPy), unless `fastMath` asks otherwise.
    ///
    /// Fast math is spelled out flag by flag: `-ffast-math` itself makes GCC link
    /// `crtfastmath.o`, which turns on flush-to-zero for the whole process when the module
    /// is loaded.
    public func flags(fastMath: Bool) -> [String] {
        ["-O3", "-march=native", "-std=c11", "-fPIC", "-fno-math-errno", "-fno-trapping-math", "-fwrapv"]
            + (fastMath ? ["-fassociative-math", "-freciprocal-math", "-fno-signed-zeros", "-ffinite-math-only"] : [])
    }

    /// Compiles the C files at `sources` into the shared library `output`: one file in one
    /// step; several each into an object file at once (one compiler process per file, so
    /// all cores work), then linked. Throws ``TheanoError/compilation(compiler:source:log:)``
    /// with the compiler's messages for the first file that fails, and
    /// ``TheanoError/toolFailed(tool:reason:)`` when a run takes longer than `timeout`.
    package func compile(sources: [String], output: String, flags: [String], timeout: Duration) throws {
        if sources.count == 1 {
            try run(flags + ["-shared", sources[0], "-o", output, "-lm"], source: sources[0], timeout: timeout)
            return
        }
        // Objects named after the output, which is unique: two compiles of the same sources
        // (two threads or processes filling one cache) must not share them.
        let objects = sources.indices.map { "\(output).\($0).o" }
        let failures = Mutex<[Int: any Error]>([:])
        DispatchQueue.concurrentPerform(iterations: sources.count) { index in
            do {
                try run(flags + ["-c", sources[index], "-o", objects[index]], source: sources[index], timeout: timeout)
            } catch {
                failures.withLock { $0[index] = error }
            }
        }
        defer { for object in objects { try? FileManager.default.removeItem(atPath: object) } }
        if let (_, error) = failures.withLock({ $0 }).min(by: { $0.key < $1.key }) { throw error }
        try run(flags + ["-shared"] + objects + ["-o", output, "-lm"], source: sources[0], timeout: timeout)
    }

    private func run(_ arguments: [String], source: String, timeout: Duration) throws {
        let result = try ExternalTool.run(path, arguments: leadingArguments + arguments, timeout: timeout)
        guard result.status == 0 else {
            throw TheanoError.compilation(compiler: path, source: source, log: result.errorOutput)
        }
    }
}

/// `command` split into words as a POSIX shell splits them: at unquoted blanks, with single
/// quotes, double quotes and backslashes removing the special meaning of what they cover.
func shellWords(_ command: String) -> [String] {
    var words: [String] = [], current = "", inWord = false
    var quote: Character?, escaped = false
    for character in command {
        if escaped {
            current.append(character)
            escaped = false
        } else if character == "\\" && quote != "'" {
            escaped = true
            inWord = true
        } else if let open = quote {
            if character == open { quote = nil } else { current.append(character) }
        } else if character == "'" || character == "\"" {
            quote = character
            inWord = true
        } else if character == " " || character == "\t" || character == "\n" {
            if inWord { words.append(current) }
            current = ""
            inWord = false
        } else {
            current.append(character)
            inWord = true
        }
    }
    if inWord { words.append(current) }
    return words
}
