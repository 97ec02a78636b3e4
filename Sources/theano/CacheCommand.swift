import ArgumentParser
import Foundation
import Theano

/// `theano cache list|size|clear|warm`: the on-disk cache of compiled kernel modules.
struct CacheCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "List, size, clear or warm the cache of compiled kernel modules.",
        subcommands: [List.self, Size.self, Clear.self, Warm.self]
    )

    struct Location: ParsableArguments {
        @Option(help: "The cache directory (default: $XDG_CACHE_HOME/swift-theano or ~/.cache/swift-theano).")
        var directory: String?

        var cache: ModuleCache { directory.map { ModuleCache(directory: $0) } ?? ModuleCache() }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One line per cached module: key, size, date.")
        @OptionGroup var location: Location

        func run() {
            let formatter = ISO8601DateFormatter()
            for entry in location.cache.entries() {
                print("\(entry.key)  \(entry.bytes) bytes  \(formatter.string(from: entry.modified))")
            }
        }
    }

    struct Size: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The number of cached modules and their total size.")
        @OptionGroup var location: Location

        func run() {
            let entries = location.cache.entries()
            print("\(entries.count) modules, \(entries.reduce(0) { $0 + $1.bytes }) bytes in \(location.cache.directory)")
        }
    }

    struct Clear: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete every cached module.")
        @OptionGroup var location: Location

        func run() throws {
            let removed = try location.cache.clear()
            print("removed \(removed) files from \(location.cache.directory)")
        }
    }

    /// Compiles a small fused kernel into the cache; prints `hit` or `miss` (and its
    /// result), so scripts and tests can see the cache work across processes.
    struct Warm: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Compile a small kernel into the cache and say whether it was cached.")
        @OptionGroup var location: Location

        func run() throws {
            let x = vector("x")
            let f = try function(inputs: [x], outputs: [exp(x) * 2 + 1],
                                 options: CompileOptions(linker: NativeLinker(cache: location.cache)))
            let value = try f(NDArray([0, 1] as [Float]))[0]
            for warning in f.linkWarnings { print("warning: \(warning)") }
            print(f.compileTimes.cacheHit ? "hit" : "miss", value.elements(as: Float.self).map { String($0) }.joined(separator: " "))
        }
    }
}
