import Runtime

/// Where in the user's source a graph node was built.
///
/// Named builders (`dot`, `tanh`, `reshape`, …) take the caller's `#fileID` and `#line` as
/// default arguments. Swift operators cannot take default arguments, so `+`, `*`, … record
/// the caller's return address instead (a frame-pointer walk of a few µs) and resolve it to a
/// file and line only when an error message needs it. Code that builds graph on the user's
/// behalf (gradients, rewrites) runs under ``SourceLocation/attributing(to:_:)`` so the
/// nodes it creates point at the user's node they came from.
public struct SourceLocation: Sendable, CustomStringConvertible {
    package enum Origin: Sendable {
        case known(fileID: String, line: Int)
        case callSite(Backtrace)
        case unknown
    }

    package let origin: Origin

    /// A known file and line.
    public init(fileID: String, line: Int) { origin = .known(fileID: fileID, line: line) }

    package init(origin: Origin) { self.origin = origin }

    /// A location nobody recorded.
    public static let unknown = SourceLocation(origin: .unknown)

    /// The location to record for a node a named builder is about to create.
    package static func resolve(fileID: String, line: Int) -> SourceLocation {
        attributed ?? SourceLocation(fileID: fileID, line: line)
    }

    /// The location to record for a node built by an operator: the attribution in force, or
    /// the caller of the operator function that calls this.
    @inline(never)
    package static func operatorCaller() -> SourceLocation {
        if let attributed { return attributed }
        // A few frames from here up; the user's is the first outside this library (found
        // when the location is printed). Optimized builds may omit a frame or two, so the
        // depth is not fixed. The limit counts the marker that ends a truncated trace.
        guard let trace = try? Backtrace.capture(algorithm: .fast, limit: 6, offset: 0, top: 0, images: images)
        else { return .unknown }
        return SourceLocation(origin: .callSite(trace))
    }

    /// Runs `body` so that every node it builds records `location`.
    public static func attributing<R>(to location: SourceLocation, _ body: () throws -> R) rethrows -> R {
        try $attributed.withValue(location, operation: body)
    }

    @TaskLocal package static var attributed: SourceLocation?

    private static let images = ImageMap.capture()

    /// The prefixes of the mangled names of the library's symbols: one per module (layer).
    private static let libraryMangledPrefixes = ["Theano", "TheanoCore", "TheanoOps", "TheanoOptimizer", "TheanoAutodiff",
                                                 "TheanoNative", "TheanoLoops"].map { "$s\($0.utf8.count)\($0)" }

    /// `File.swift:12`, resolved from debug information for operator-built nodes.
    public var description: String {
        switch origin {
        case .known(let fileID, let line): return "\(fileID):\(line)"
        case .unknown: return "<unknown location>"
        case .callSite(let trace):
            guard let symbolicated = trace.symbolicated(with: Self.images),
                  let frame = symbolicated.frames.first(where: { frame in
                      frame.symbol.map { symbol in !Self.libraryMangledPrefixes.contains { symbol.rawName.hasPrefix($0) } } ?? false
                  })
            else { return "<unknown location>" }
            if let source = frame.symbol?.sourceLocation {
                return "\(source.path.split(separator: "/").suffix(2).joined(separator: "/")):\(source.line)"
            }
            return frame.symbol.map { "in \($0.name)" } ?? "<unknown location>"
        }
    }
}
