import Foundation
import Synchronization
import TheanoCore
import TheanoOps

/// The C source of one module: a prelude every translation unit starts with, and the
/// kernels, split into units compiled at once on all cores.
package struct ModuleSource {
    /// Each translation unit: the prelude and some of the kernels.
    package let units: [String]

    /// The most kernel text one unit holds: a bigger module is split into more units than
    /// cores (they are compiled a core's worth at a time), so no compiler process is handed
    /// a file it takes long over.
    static let maximumUnitBytes = 256 << 10

    /// Spreads `kernels` over units of about equal compile time (``compileCost(of:)``): one
    /// per core (which cuts the compile's wall time about in proportion; small modules stay
    /// whole), more when a unit would exceed ``maximumUnitBytes``.
    package init(prelude: String, kernels: [String], parallelism: Int = cores) {
        let total = kernels.reduce(0) { $0 + $1.utf8.count }
        let count = Swift.max(1, Swift.min(kernels.count, Swift.max(Swift.min(parallelism, total / 2_000), total / Self.maximumUnitBytes + 1)))
        var groups = Array(repeating: [String](), count: count), costs = Array(repeating: 0, count: count)
        for (kernel, cost) in kernels.map({ ($0, Self.compileCost(of: $0)) }).sorted(by: { $0.1 > $1.1 }) {
            let cheapest = costs.indices.min { costs[$0] < costs[$1] }!
            groups[cheapest].append(kernel)
            costs[cheapest] += cost
        }
        units = groups.map { prelude + "\n\n" + $0.joined(separator: "\n\n") + "\n" }
    }

    /// A kernel's expected compile time, in bytes of vectorized code: its length, with the
    /// functions whose loops stay scalar (`THEANO_SCALAR_LOOPS`) counted at a quarter, which
    /// is about what GCC 12 at `-O3` spends on them per byte next to loops it vectorizes.
    static func compileCost(of kernel: String) -> Int {
        let scalarFunctions = Set(ByteSearch.offsets(of: "THEANO_SCALAR_LOOPS", in: kernel))
        var cost = 0, start = 0
        for end in ByteSearch.offsets(of: "\n\n", in: kernel) + [kernel.utf8.count] {
            cost += scalarFunctions.contains(start) ? (end - start) / 4 : end - start
            start = end + 2
        }
        return cost
    }

    /// The whole source, as the cache key sees it.
    package var text: String { units.joined(separator: "\n/* next translation unit */\n") }

    /// The symbol every module defines as its key (a C string), so that a module swapped
    /// for another is recognized after it is loaded.
    static let keySymbol = "theano_module_key"

    /// The units, the first also defining ``keySymbol`` as `key`.
    package func units(signedWith key: String) -> [String] {
        [units[0] + "\nconst char \(Self.keySymbol)[] = \"\(key)\";\n"] + units.dropFirst()
    }
}

/// Compiled kernel modules on disk, addressed by content: the key is the SHA-256 of the C
/// source, the compiler's identity, the flags, the CPU and the runtime ABI version, so an
/// entry never goes stale.
///
/// Writers compile to a unique temporary name and `rename` into place (atomic, no lock
/// files), so several processes may compile the same module at once. Each module has a
/// checksum beside it and carries its own key (the symbol `theano_module_key`); a module
/// whose checksum or key does not match (truncated, corrupted, half-replaced by a racing
/// writer, or swapped with another module) is compiled again.
///
/// A module is code that runs in the process that loads it, so the directory is made
/// readable by its owner only, and one that other users could write to is not used: the
/// modules then go to a private temporary directory for this process.
public struct ModuleCache: Sendable {
    /// Bumped whenever the calling convention of generated kernels changes.
    static let abiVersion = 2

    /// The directory holding the modules.
    public let directory: String

    /// The default location: `$XDG_CACHE_HOME/swift-theano` or `~/.cache/swift-theano`.
    public static var defaultDirectory: String { Environment.cacheHome + "/swift-theano" }

    /// The cache in `directory` (by default ``defaultDirectory``).
    public init(directory: String = ModuleCache.defaultDirectory) {
        self.directory = directory
    }

    /// One cached module.
    public struct Entry: Sendable {
        /// The module's cache key (its file name, without `.so`).
        public let key: String
        /// The module's file.
        public let path: String
        /// The module's size in bytes.
        public let bytes: Int
        /// When the module was written.
        public let modified: Date

        package init(key: String, path: String, bytes: Int, modified: Date) {
            self.key = key
            self.path = path
            self.bytes = bytes
            self.modified = modified
        }
    }

    /// The key of a module.
    package func key(source: ModuleSource, compiler: CCompiler, flags: [String]) -> String {
        var hasher = SHA256()
        for part in [source.text, compiler.identity, flags.joined(separator: " "), Self.cpuIdentity, "abi \(Self.abiVersion)"] {
            hasher.update(part)
            hasher.update([0])
        }
        return hasher.finalize()
    }

    /// A module found or compiled, and what the caller made of it.
    package struct Loaded<Contents> {
        package let library: DynamicLibrary
        /// Whether it came from the cache.
        package let cached: Bool
        package let contents: Contents
        /// Why the cache directory could not be used, when it could not.
        package let warning: String?

        package init(library: DynamicLibrary, cached: Bool, contents: Contents, warning: String?) {
            self.library = library
            self.cached = cached
            self.contents = contents
            self.warning = warning
        }
    }

    /// The module for `source`, loaded and accepted by `accept` (which looks up what the
    /// caller needs and throws when something is missing): a valid cached copy, else one
    /// compiled now (each compiler run stopped after `timeout`). A cached module `accept`
    /// refuses is compiled again, once.
    package func module<Contents>(source: ModuleSource, compiler: CCompiler, flags: [String], timeout: Duration,
                          accept: (DynamicLibrary) throws -> Contents) throws -> Loaded<Contents> {
        if let cached = try cachedModule(source: source, compiler: compiler, flags: flags, accept: accept) { return cached }
        let key = key(source: source, compiler: compiler, flags: flags)
        let (directory, warning) = try usableDirectory()
        let path = "\(directory)/\(key).so", checksumPath = "\(directory)/\(key).sha256"
        Self.removeAbandonedFiles(in: directory)
        let unique = "\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)"
        let temporary = "\(directory)/.\(key).\(unique)"
        let units = source.units(signedWith: key)
        let files = units.count == 1 ? ["\(directory)/\(key).c"] : units.indices.map { "\(directory)/\(key).\($0).c" }
        for (file, unit) in zip(files, units) { try write(Data(unit.utf8), to: file, via: temporary + ".c") }
        do {
            try compiler.compile(sources: files, output: temporary + ".so", flags: flags, timeout: timeout)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary + ".so")
            throw error
        }
        let checksum = SHA256.hash(try Data(contentsOf: URL(fileURLWithPath: temporary + ".so")))
        try rename(temporary + ".so", to: path)
        try write(Data(checksum.utf8), to: checksumPath, via: temporary + ".sha256")
        let library: DynamicLibrary
        switch DynamicLibrary.load(path) {
        case .success(let loaded): library = loaded
        case .failure(let error): throw TheanoError.toolFailed(tool: "dlopen", reason: "\(path): \(error)")
        }
        guard Self.carries(key: key, library) else {
            throw TheanoError.toolFailed(tool: "module cache", reason: "\(path) was replaced by another module while it was being loaded")
        }
        return Loaded(library: library, cached: false, contents: try accept(library), warning: warning)
    }

    /// The module for `source` when a valid copy is in the cache and `accept` takes it; `nil`
    /// otherwise (nothing is compiled).
    package func cachedModule<Contents>(source: ModuleSource, compiler: CCompiler, flags: [String],
                                        accept: (DynamicLibrary) throws -> Contents) throws -> Loaded<Contents>? {
        let key = key(source: source, compiler: compiler, flags: flags)
        let (directory, warning) = try usableDirectory()
        guard let library = loadVerified(path: "\(directory)/\(key).so", checksumPath: "\(directory)/\(key).sha256", key: key),
              let contents = try? accept(library)
        else { return nil }
        return Loaded(library: library, cached: true, contents: contents, warning: warning)
    }

    /// The module at `path` if its checksum matches the one recorded beside it and it
    /// carries `key`.
    private func loadVerified(path: String, checksumPath: String, key: String) -> DynamicLibrary? {
        guard let recorded = try? String(contentsOfFile: checksumPath, encoding: .utf8),
              let contents = FileManager.default.contents(atPath: path),
              SHA256.hash(contents) == recorded.trimmingCharacters(in: .whitespacesAndNewlines),
              case .success(let library) = DynamicLibrary.load(path), Self.carries(key: key, library)
        else { return nil }
        return library
    }

    /// Whether `library` was compiled from the source of `key`.
    private static func carries(key: String, _ library: DynamicLibrary) -> Bool {
        guard let symbol = library.symbol(ModuleSource.keySymbol) else { return false }
        return String(cString: symbol.assumingMemoryBound(to: CChar.self)) == key
    }

    /// The directory to write modules to: this cache's, made if missing (readable by its
    /// owner only) — or, when it cannot be used safely or at all, a private temporary
    /// directory, with a warning that says why (also printed, once).
    private func usableDirectory() throws -> (path: String, warning: String?) {
        guard let problem = CacheDirectory.problem(with: directory) else { return (directory, nil) }
        let warning = "the kernel cache \(directory) \(problem); compiled kernels are kept in a private temporary directory "
            + "for this process instead"
        Diagnostics.warnOnce(warning)
        return (try CacheDirectory.privateTemporary(), warning)
    }

    private func write(_ data: Data, to path: String, via temporary: String) throws {
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw TheanoError.toolFailed(tool: "module cache", reason: "cannot write \(temporary): \(CacheDirectory.reason(errno))")
        }
        try rename(temporary, to: path)
    }

    private func rename(_ from: String, to: String) throws {
        guard Foundation.rename(from, to) == 0 else {
            throw TheanoError.toolFailed(tool: "module cache", reason: "cannot rename \(from) to \(to): \(CacheDirectory.reason(errno))")
        }
    }

    /// Deletes the temporary files (half-written sources and modules, the compiler's object
    /// files) that processes which no longer run left in `directory`: a process killed while
    /// compiling leaves them. Done once per directory per process.
    private static func removeAbandonedFiles(in directory: String) {
        guard swept.withLock({ $0.insert(directory).inserted }) else { return }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where name.hasPrefix(".") {
            // `.<key>.<pid>-<uuid>…`: the writer's process id.
            let parts = name.dropFirst().split(separator: ".")
            guard parts.count >= 2, let pid = pid_t(parts[1].prefix { $0 != "-" }), pid > 0,
                  kill(pid, 0) == -1 && errno == ESRCH else { continue }
            try? FileManager.default.removeItem(atPath: "\(directory)/\(name)")
        }
    }

    private static let swept = Mutex<Set<String>>([])

    /// The cached modules, newest first.
    public func entries() -> [Entry] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".so") && !$0.hasPrefix(".") }.compactMap { name in
            let path = "\(directory)/\(name)"
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
            return Entry(key: String(name.dropLast(3)), path: path, bytes: (attributes[.size] as? Int) ?? 0,
                         modified: (attributes[.modificationDate] as? Date) ?? .distantPast)
        }.sorted { $0.modified > $1.modified }
    }

    /// Deletes every cached module; returns how many files were removed.
    @discardableResult
    public func clear() throws -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names { try FileManager.default.removeItem(atPath: "\(directory)/\(name)") }
        return names.count
    }

    /// The CPU's model and features: code compiled with `-march=native` runs only there.
    private static let cpuIdentity: String = {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown cpu" }
        let lines = info.split(separator: "\n")
        let model = lines.first { $0.hasPrefix("model name") } ?? ""
        let flags = lines.first { $0.hasPrefix("flags") } ?? ""
        return "\(model) \(SHA256.hash(flags.utf8))"
    }()
}
