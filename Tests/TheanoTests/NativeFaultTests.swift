import Foundation
import Testing
@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoLoops
@testable import TheanoNative
@testable import TheanoOps
@testable import TheanoOptimizer
#if canImport(Glibc)
import Glibc
#endif

// What the native backend does when the machine misbehaves: a C compiler that hangs, one
// given with arguments or not there at all, a cache whose modules were swapped or lack
// their kernels, a cache directory that others could write to or that is a file, files
// left by a process killed while compiling, a missing TMPDIR. Every case must end with
// correct results — compiled, or from the reference implementations with a warning.

@Suite("Native backend faults")
struct NativeFaultTests {
    /// A function whose one kernel is `exp(x) * 2 + 1`, and its input.
    static func smallFunction(linker: NativeLinker, options: (NativeLinker) -> CompileOptions = { CompileOptions(linker: $0) }) throws
        -> (function: Function, input: NDArray, expected: NDArray) {
        let x = vector("x", dtype: .float64)
        let f = try function(inputs: [x], outputs: [try exp(x) * 2 + 1], options: options(linker))
        let input = NDArray([0, 1, -2.5] as [Double])
        return (f, input, NDArray(input.elements(as: Double.self).map { Foundation.exp($0) * 2 + 1 }))
    }

    /// An executable shell script at a fresh path.
    static func script(_ name: String, _ body: String) throws -> String {
        let path = Scratch.freshPath(name)
        try ("#!/bin/sh\n" + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    static let hasGCC = ExternalTool.find("gcc") != nil

    // MARK: The compiler

    @Test func aCompilerThatNeverFinishesIsStoppedAndTheReferenceRuns() throws {
        let pidFile = Scratch.freshPath("hanging-cc-pid")
        let compiler = try Self.script("hanging-cc", """
            if [ "$1" = "--version" ]; then echo "hanging-cc 1.0"; exit 0; fi
            sleep 600 &
            echo $! > \(pidFile)
            wait
            """)
        // Asked its version first with time to spare: on a busy machine starting the script
        // alone can take a second, and only the compile is to time out here.
        #expect(CCompiler.discover(candidates: [compiler]) != nil)
        let start = ContinuousClock.now
        var linker = Scratch.linker(cache: ModuleCache(directory: Scratch.freshPath("hanging")), compilers: [compiler])
        linker.compileTimeout = .seconds(1)
        let (f, input, expected) = try Self.smallFunction(linker: linker)
        #expect(ContinuousClock.now - start < .seconds(30), "the compiler was not stopped in time")
        #expect(f.compiledNodes == 0)
        #expect(f.linkWarnings.count == 1 && f.linkWarnings[0].contains("did not finish within 1.0 s"), "\(f.linkWarnings)")
        #expect(try f(input)[0].isClose(to: expected))
        // The compiler's own child was stopped with it.
        let child = try #require(pid_t(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        var stopped = false
        for _ in 0..<100 where !stopped {
            stopped = kill(child, 0) == -1 && errno == ESRCH
            if !stopped { usleep(20_000) }
        }
        #expect(stopped, "the compiler's child process \(child) still runs")
    }

    @Test func aCompilerThatNeverAnswersItsVersionIsNotUsed() throws {
        let compiler = try Self.script("mute-cc", "sleep 600")
        let start = ContinuousClock.now
        #expect(CCompiler.discover(candidates: [compiler], timeout: .milliseconds(500)) == nil)
        #expect(ContinuousClock.now - start < .seconds(20))
    }

    @Test func theCompilerIsAskedItsVersionOncePerProcess() throws {
        let count = Scratch.freshPath("version-count")
        let compiler = try Self.script("counted-cc", """
            if [ "$1" = "--version" ]; then echo asked >> \(count); echo "counted-cc 1.0"; exit 0; fi
            exit 1
            """)
        let first = CCompiler.discover(candidates: [compiler]), second = CCompiler.discover(candidates: [compiler])
        #expect(first?.identity == "counted-cc 1.0" && second?.identity == first?.identity)
        let asked = try String(contentsOfFile: count, encoding: .utf8)
        #expect(asked == "asked\n", "\(asked.debugDescription)")
    }

    @Test(arguments: [
        ("gcc", ["gcc"]), ("gcc -m64", ["gcc", "-m64"]), ("  cc\t-O1  ", ["cc", "-O1"]),
        ("'/opt/my cc/bin/gcc' -DNAME=\"a b\"", ["/opt/my cc/bin/gcc", "-DNAME=a b"]), (#"gcc -DX=a\ b"#, ["gcc", "-DX=a b"]),
        ("", []), ("''", [""]),
    ])
    func commandsSplitIntoWordsAsAShellSplitsThem(command: String, words: [String]) {
        #expect(shellWords(command) == words)
    }

    @Test(.enabled(if: hasGCC)) func aCompilerGivenWithArgumentsKeepsThem() throws {
        let compiler = try #require(CCompiler.discover(candidates: ["gcc -DTHEANO_FROM_CC=1 -m64"]))
        #expect(compiler.leadingArguments == ["-DTHEANO_FROM_CC=1", "-m64"])
        #expect(compiler.identity.hasSuffix("-DTHEANO_FROM_CC=1 -m64"), "the arguments are part of the cache key")
        let (f, input, expected) = try Self.smallFunction(linker: Scratch.linker(compilers: ["gcc -DTHEANO_FROM_CC=1 -m64"]))
        #expect(f.compiledNodes == 1 && f.linkWarnings.isEmpty, "\(f.linkWarnings)")
        #expect(try f(input)[0].isClose(to: expected))
    }

    /// `CC` naming a program that is not there is said (once), and the next compiler is used.
    @Test func aMissingCompilerInCCIsReported() throws {
        let result = try Tool.start(["cache", "warm", "--directory", Scratch.freshPath("missing-cc")],
                                    environment: ["CC": "/nonexistent/bin/cc -O2"]).finish()
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.errors.contains("CC='/nonexistent/bin/cc -O2' names no program"), "\(result.errors)")
        #expect(Tool.WarmReport(result.output)?.isCorrect == true, "\(result.output)")
    }

    /// Nothing of compiling goes through `TMPDIR`: a missing one is no reason to fall back.
    @Test func aMissingTemporaryDirectoryDoesNotStopCompiling() throws {
        let result = try Tool.start(["cache", "warm", "--directory", Scratch.freshPath("no-tmpdir")],
                                    environment: ["TMPDIR": "/nonexistent/tmp"]).finish()
        #expect(result.status == 0, "\(result.errors)")
        #expect(!result.output.contains("warning"), "\(result.output)")
        #expect(Tool.WarmReport(result.output).map { !$0.hit && $0.isCorrect } == true, "\(result.output)")
    }

    // MARK: The module cache

    /// Two modules swapped in the cache, checksums too (each file is a valid module, just
    /// not the one its name promises), then read by a new process: each module is
    /// recognized by the key it carries, and compiled again. (A process that loaded a path
    /// before keeps its copy, so the swap needs a second process to show.)
    @Test func swappedModulesAreCompiledAgain() throws {
        let directory = Scratch.freshPath("swapped")
        let cache = ModuleCache(directory: directory)
        #expect(try Tool.warm(directory).hit == false)
        let warmKey = try #require(cache.entries().first?.key)
        // The same kernel names computing something else: `tanh(x) * 3 - 1`.
        let x = vector("x")
        _ = try function(inputs: [x], outputs: [try tanh(x) * 3 - 1], options: CompileOptions(linker: Scratch.linker(cache: cache)))
        let otherKey = try #require(cache.entries().map(\.key).first { $0 != warmKey })
        for suffix in [".so", ".sha256"] {
            let (a, b) = ("\(directory)/\(warmKey)\(suffix)", "\(directory)/\(otherKey)\(suffix)")
            try FileManager.default.moveItem(atPath: a, toPath: a + ".swap")
            try FileManager.default.moveItem(atPath: b, toPath: a)
            try FileManager.default.moveItem(atPath: a + ".swap", toPath: b)
        }
        let report = try Tool.warm(directory)
        #expect(!report.hit && report.isCorrect, "\(report)")
    }

    /// A module that carries the right key and checksum but lacks the kernels (`dlsym`
    /// fails), read by a new process: compiled again, never an error.
    @Test(.enabled(if: hasGCC)) func aModuleWithoutItsKernelsIsCompiledAgain() throws {
        let directory = Scratch.freshPath("no-kernels")
        let cache = ModuleCache(directory: directory)
        #expect(try Tool.warm(directory).hit == false)
        let key = try #require(cache.entries().first?.key)
        let hollow = directory + "/hollow.c"
        try "const char theano_module_key[] = \"\(key)\";\n".write(toFile: hollow, atomically: true, encoding: .utf8)
        let built = try ExternalTool.run(try #require(ExternalTool.find("gcc")), arguments: ["-shared", "-fPIC", hollow, "-o", "\(directory)/\(key).so"])
        try #require(built.status == 0, "\(built.errorOutput)")
        try FileManager.default.removeItem(atPath: hollow)
        let checksum = SHA256.hash(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(key).so")))
        try checksum.write(toFile: "\(directory)/\(key).sha256", atomically: true, encoding: .utf8)

        let report = try Tool.warm(directory)
        #expect(!report.hit && report.isCorrect, "\(report)")
    }

    @Test func aNewCacheDirectoryIsReadableByItsOwnerOnly() throws {
        let directory = Scratch.freshPath("private") + "/nested/cache"
        let (f, input, expected) = try Self.smallFunction(linker: Scratch.linker(cache: ModuleCache(directory: directory)))
        #expect(f.compiledNodes == 1)
        #expect(try f(input)[0].isClose(to: expected))
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: directory)[.posixPermissions] as? Int)
        #expect(mode & 0o777 == 0o700, "mode \(String(mode, radix: 8))")
    }

    /// A module is code the process runs: a cache others can write to is refused, and the
    /// kernels go to a private directory instead.
    @Test func aCacheOthersCanWriteToIsNotUsed() throws {
        let directory = Scratch.freshPath("shared-cache")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: directory)
        let (f, input, expected) = try Self.smallFunction(linker: Scratch.linker(cache: ModuleCache(directory: directory)))
        #expect(f.compiledNodes == 1)
        #expect(f.linkWarnings.contains { $0.contains("\(directory) can be written by other users") }, "\(f.linkWarnings)")
        #expect(try f(input)[0].isClose(to: expected))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    @Test func aCacheThatIsAFileIsReportedInWords() throws {
        let path = Scratch.freshPath("cache-file")
        try "not a directory".write(toFile: path, atomically: true, encoding: .utf8)
        let (f, input, expected) = try Self.smallFunction(linker: Scratch.linker(cache: ModuleCache(directory: path)))
        #expect(f.linkWarnings.contains { $0.contains("\(path) is a file, not a directory") }, "\(f.linkWarnings)")
        #expect(!f.linkWarnings.joined().contains("NSCocoaErrorDomain"))
        #expect(try f(input)[0].isClose(to: expected))
    }

    /// Files a killed process left (its temporary module and object files) are removed;
    /// those of a process still running are not.
    @Test func filesOfProcessesKilledWhileCompilingAreRemoved() throws {
        let directory = Scratch.freshPath("abandoned")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        let dead = finished.processIdentifier, alive = getpid()
        let abandoned = ".0123abcd.\(dead)-\(UUID().uuidString).so.0.o", current = ".4567ef.\(alive)-\(UUID().uuidString).c"
        for name in [abandoned, current] { #expect(FileManager.default.createFile(atPath: "\(directory)/\(name)", contents: Data())) }
        _ = try Self.smallFunction(linker: Scratch.linker(cache: ModuleCache(directory: directory)))
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(!names.contains(abandoned), "\(names)")
        #expect(names.contains(current), "\(names)")
    }
}
