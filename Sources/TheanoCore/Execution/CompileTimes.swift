import Foundation

/// Where the time of compiling a function went.
public struct CompileTimes: Sendable, CustomStringConvertible {
    /// Seconds spent in the optimizer's rewrite phases.
    public let rewrite: Double
    /// Seconds spent linking the optimized graph into an executor (the next three included).
    public let link: Double
    /// Seconds spent generating C, running the C compiler, and loading the module.
    public let codegen: Double, compile: Double, load: Double
    /// Whether the compiled module came from the on-disk cache.
    public let cacheHit: Bool

    package init(rewrite: Double, link: Double, codegen: Double, compile: Double, load: Double, cacheHit: Bool) {
        self.rewrite = rewrite
        self.link = link
        self.codegen = codegen
        self.compile = compile
        self.load = load
        self.cacheHit = cacheHit
    }

    public var description: String {
        String(format: "rewrite %.1f ms, link %.1f ms (codegen %.1f, C compile %.1f, load %.1f%@)",
               rewrite * 1e3, link * 1e3, codegen * 1e3, compile * 1e3, load * 1e3, cacheHit ? ", cache hit" : "")
    }
}
