import Foundation

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

    /// Flags for a shared library of kernels: optimized for this CPU, IEEE semantics kept
    /// (`-fno-math-errno` only lets math calls vectorize; `-fwrapv` makes integer overflow
    /// wrap, as NumPy), unless `fastMath` asks otherwise.
    ///
    /// Fast math is spelled out flag by flag: `-ffast-math` itself makes GCC link
    /// `crtfastmath.o`, which turns on flush-to-zero for the whole process when the module
    /// is loaded.
    public func flags(fastMath: Bool) -> [String] {
        ["-O3", "-march=native", "-std=c11", "-fPIC", "-shared", "-fno-math-errno", "-fwrapv"]
            + (fastMath ? ["-fassociative-math", "-freciprocal-math", "-fno-signed-zeros", "-fno-trapping-math", "-ffinite-math-only"] : [])
    }

    /// Compiles the C file at `source` into the shared library `output`. Throws
    /// ``TheanoError/compilation(compiler:source:log:)`` with the compiler's messages.
    func compile(source: String, output: String, flags: [String]) throws {
        let result = try ExternalTool.run(path, arguments: flags + [source, "-o", output, "-lm"])
        guard result.status == 0 else {
            throw TheanoError.compilation(compiler: path, source: source, log: result.errorOutput)
        }
    }
}
