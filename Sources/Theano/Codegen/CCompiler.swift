import Foundation
import Synchronization

/// The C compiler the native backend uses, found when it is first needed: `$CC`, then `cc`,
/// `gcc`, and the `clang` that ships with the Swift toolchain.
public struct CCompiler: Sendable, CustomStringConvertible {
    /// The program's path.
    public let path: String
    /// The first line of `--version`: part of every cache key.
    public let identity: String

    /// Whether it is GCC (whose vectorizer uses glibc's vector math library for `exp`, `tanh`, …).
    public var isGCC: Bool { !identity.lowercased().contains("clang") }

    public var description: String { "\(identity) (\(path))" }

    /// The first working compiler among `candidates` (by default `$CC`, `cc`, `gcc`, `clang`).
    public static func discover(candidates: [String]? = nil) -> CCompiler? {
        let names = candidates ?? ([Environment.cCompiler].compactMap { $0 } + ["cc", "gcc", "clang"])
        for name in names {
            guard let path = ExternalTool.find(name),
                  let output = try? ExternalTool.run(path, arguments: ["--version"], captureOutput: true), output.status == 0,
                  let first = output.standardOutput.split(separator: "\n").first
            else { continue }
            return CCompiler(path: path, identity: String(first))
        }
        return nil
    }

    /// Flags for kernels: optimized for this CPU, IEEE semantics kept (`-fno-math-errno`
    /// only lets math calls vectorize; `-fwrapv` makes integer overflow wrap, as NumPy),
    /// unless `fastMath` asks otherwise.
    ///
    /// Fast math is spelled out flag by flag: `-ffast-math` itself makes GCC link
    /// `crtfastmath.o`, which turns on flush-to-zero for the whole process when the module
    /// is loaded.
    public func flags(fastMath: Bool) -> [String] {
        ["-O3", "-march=native", "-std=c11", "-fPIC", "-fno-math-errno", "-fwrapv"]
            + (fastMath ? ["-fassociative-math", "-freciprocal-math", "-fno-signed-zeros", "-fno-trapping-math", "-ffinite-math-only"] : [])
    }

    /// Compiles the C files at `sources` into the shared library `output`: one file in one
    /// step; several each into an object file at once (one compiler process per file, so
    /// all cores work), then linked. Throws ``TheanoError/compilation(compiler:source:log:)``
    /// with the compiler's messages for the first file that fails.
    func compile(sources: [String], output: String, flags: [String]) throws {
        if sources.count == 1 {
            try run(flags + ["-shared", sources[0], "-o", output, "-lm"], source: sources[0])
            return
        }
        // Objects named after the output, which is unique: two compiles of the same sources
        // (two threads or processes filling one cache) must not share them.
        let objects = sources.indices.map { "\(output).\($0).o" }
        let failures = Mutex<[Int: any Error]>([:])
        DispatchQueue.concurrentPerform(iterations: sources.count) { index in
            do {
                try run(flags + ["-c", sources[index], "-o", objects[index]], source: sources[index])
            } catch {
                failures.withLock { $0[index] = error }
            }
        }
        defer { for object in objects { try? FileManager.default.removeItem(atPath: object) } }
        if let (_, error) = failures.withLock({ $0 }).min(by: { $0.key < $1.key }) { throw error }
        try run(flags + ["-shared"] + objects + ["-o", output, "-lm"], source: sources[0])
    }

    private func run(_ arguments: [String], source: String) throws {
        let result = try ExternalTool.run(path, arguments: arguments)
        guard result.status == 0 else {
            throw TheanoError.compilation(compiler: path, source: source, log: result.errorOutput)
        }
    }
}
