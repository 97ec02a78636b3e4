import Foundation

/// The C source of one module: a prelude every translation unit starts with, and the
/// kernels, split into units compiled at once on all cores.
struct ModuleSource {
    /// Each translation unit: the prelude and some of the kernels.
    let units: [String]

    /// Spreads `kernels` over up to `parallelism` units of about equal length (a unit per
    /// core cuts the compile's wall time about in proportion; small modules stay whole).
    init(prelude: String, kernels: [String], parallelism: Int = cores) {
        let total = kernels.reduce(0) { $0 + $1.utf8.count }
        let count = Swift.max(1, Swift.min(parallelism, kernels.count, total / 2_000))
        var groups = Array(repeating: [String](), count: count), lengths = Array(repeating: 0, count: count)
        for kernel in kernels.sorted(by: { $0.utf8.count > $1.utf8.count }) {
            let shortest = lengths.indices.min { lengths[$0] < lengths[$1] }!
            groups[shortest].append(kernel)
            lengths[shortest] += kernel.utf8.count
        }
        units = groups.map { prelude + "\n\n" + $0.joined(separator: "\n\n") + "\n" }
    }

    /// The whole source, as the cache key sees it.
    var text: String { units.joined(separator: "\n/* next translation unit */\n") }
}

/// Compiled kernel modules on disk, addressed by content: the key is the SHA-256 of the C
/// source, the compiler's identity, the flags, the CPU and the runtime ABI version, so an
/// entry never goes stale.
///
/// Writers compile to a unique temporary name and `rename` into place (atomic, no lock
/// files), so several processes may compile the same module at once. Each module has a
/// checksum beside it; a module whose checksum does not match (truncated, corrupted, or
/// half-replaced by a racing writer) is compiled again.
public struct ModuleCache: Sendable {
    /// Bumped whenever the calling convention of generated kernels changes.
    static let abiVersion = 1

    /// The directory holding the modules.
    public let directory: String

    /// The default location: `$XDG_CACHE_HOME/swift-theano` or `~/.cache/swift-theano`.
    public static var defaultDirectory: String { Environment.cacheHome + "/swift-theano" }

    public init(directory: String = ModuleCache.defaultDirectory) {
        self.directory = directory
    }

    /// One cached module.
    public struct Entry: Sendable {
        public let key: String
        public let path: String
        public let bytes: Int
        public let modified: Date
    }

    /// The key of a module.
    func key(source: ModuleSource, compiler: CCompiler, flags: [String]) -> String {
        var hasher = SHA256()
        for part in [source.text, compiler.identity, flags.joined(separator: " "), Self.cpuIdentity, "abi \(Self.abiVersion)"] {
            hasher.update(part)
            hasher.update([0])
        }
        return hasher.finalize()
    }

    /// The loaded module for `source`, compiled unless a valid cached copy exists; whether
    /// it came from the cache.
    func module(source: ModuleSource, compiler: CCompiler, flags: [String]) throws -> (library: DynamicLibrary, cached: Bool) {
        let key = key(source: source, compiler: compiler, flags: flags)
        let path = "\(directory)/\(key).so", checksumPath = "\(directory)/\(key).sha256"
        if let library = loadVerified(path: path, checksumPath: checksumPath) { return (library, true) }

        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let unique = "\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)"
        let temporary = "\(directory)/.\(key).\(unique)"
        let files = source.units.count == 1 ? ["\(directory)/\(key).c"] : source.units.indices.map { "\(directory)/\(key).\($0).c" }
        for (file, unit) in zip(files, source.units) { try write(Data(unit.utf8), to: file, via: temporary + ".c") }
        try compiler.compile(sources: files, output: temporary + ".so", flags: flags)
        let checksum = SHA256.hash(try Data(contentsOf: URL(fileURLWithPath: temporary + ".so")))
        try rename(temporary + ".so", to: path)
        try write(Data(checksum.utf8), to: checksumPath, via: temporary + ".sha256")
        switch DynamicLibrary.load(path) {
        case .success(let library): return (library, false)
        case .failure(let error): throw TheanoError.toolFailed(tool: "dlopen", reason: "\(path): \(error)")
        }
    }

    /// The module at `path` if its checksum matches the one recorded beside it.
    private func loadVerified(path: String, checksumPath: String) -> DynamicLibrary? {
        guard let recorded = try? String(contentsOfFile: checksumPath, encoding: .utf8),
              let contents = FileManager.default.contents(atPath: path),
              SHA256.hash(contents) == recorded.trimmingCharacters(in: .whitespacesAndNewlines),
              case .success(let library) = DynamicLibrary.load(path)
        else { return nil }
        return library
    }

    private func write(_ data: Data, to path: String, via temporary: String) throws {
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw TheanoError.toolFailed(tool: "module cache", reason: "cannot write \(temporary)")
        }
        try rename(temporary, to: path)
    }

    private func rename(_ from: String, to: String) throws {
        guard Foundation.rename(from, to) == 0 else {
            throw TheanoError.toolFailed(tool: "module cache", reason: "cannot rename \(from) to \(to): \(String(cString: strerror(errno)))")
        }
    }

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
