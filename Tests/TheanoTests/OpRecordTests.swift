import Foundation
import Testing

// The op records (OpRecords+*.swift) must cover the library: every op type the sources
// declare has a record, every record names such an op, every facet a record checks has
// cases (and every one it skips, a reason), and every NumPy fixture case is built by a
// record. Whether each case reaches the op of its record is checked beside the facet's own
// tests (GradientTests, ForwardModeTests, ShapeInferenceTests, OpValueTests, NativeBackendTests).

@Suite("Op records")
struct OpRecordTests {
    /// A new op cannot be left out: the sources' op types all have records.
    @Test func everyDeclaredOpHasARecord() throws {
        let declared = try DeclaredOps.scan()
        #expect(declared.count > 80, "the scan of the sources found only \(declared.sorted())")
        let recorded = Set(OpRecords.all.map(\.op))
        let missing = declared.subtracting(recorded).sorted()
        #expect(missing.isEmpty, "op types without a record in OpRecords+*.swift: \(missing)")
    }

    /// No stale rows: each record names an op type the sources declare, once.
    @Test func everyRecordNamesADeclaredOp() throws {
        let declared = try DeclaredOps.scan()
        let names = OpRecords.all.map(\.op)
        let stale = names.filter { !declared.contains($0) }
        #expect(stale.isEmpty, "records of op types the sources do not declare: \(stale)")
        let repeated = Dictionary(grouping: names, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
        #expect(repeated.isEmpty, "op types with more than one record: \(repeated)")
    }

    /// A facet a record checks has cases; one it skips says why; each fixture op or case it
    /// names is in Fixtures/*.json.
    @Test func everyClaimedFacetHasCases() throws {
        let fixtures = try Fixtures.stems().flatMap { try Fixtures.cases(in: $0) }
        let fixtureKeys = Set(fixtures.map(\.op) + fixtures.map(\.name))
        for record in OpRecords.all {
            for (facet, caseCount, reason) in record.facetSummaries {
                if let reason {
                    #expect(!reason.description.isEmpty, "\(record.op): \(facet) does not apply, without a reason")
                } else {
                    #expect(caseCount > 0, "\(record.op): \(facet) is checked, but on no case")
                }
            }
            let unknown = record.values.cases.map(\.key).filter { !fixtureKeys.contains($0) }
            #expect(unknown.isEmpty, "\(record.op): no fixture op or case \(unknown) in Fixtures/*.json")
        }
    }

    /// A fixture case without an owner fails: each fixture op name in Fixtures/*.json is built
    /// by exactly one record's fixture op (or a builder that folds to a constant).
    @Test func everyFixtureCaseIsBuiltByOneRecord() throws {
        let builders = Dictionary(grouping: OpRecords.fixtureOps, by: \.name)
        for stem in try Fixtures.stems() {
            let orphans = try Fixtures.cases(in: stem).filter { builders[$0.op] == nil }
            let unbuilt = Set(orphans.map(\.op)).sorted()
            #expect(unbuilt.isEmpty, "Fixtures/\(stem).json: no record builds \(unbuilt) (cases \(orphans.prefix(3).map(\.name)), …)")
        }
        let builtTwice = builders.filter { $0.value.count > 1 }.keys.sorted()
        #expect(builtTwice.isEmpty, "fixture ops that more than one record builds: \(builtTwice)")
    }

    /// A record checks the facets its op has, and only those: gradient types exactly when the
    /// op has a pullback, forward mode only with a pushforward, shapes exactly when it infers
    /// them, native cases exactly when the native backend compiles it.
    @Test func facetsAgreeWithTheOpsProtocols() {
        for record in OpRecords.all {
            let problems = [
                Self.mismatch("gradient types", checked: record.gradientTypes.isChecked, "a pullback", opHasIt: record.isDifferentiable),
                record.gradients.isChecked && !record.isDifferentiable ? "gradients checked, but it has no pullback" : nil,
                !record.forwardCases.isEmpty && !record.hasPushforward ? "forward mode checked, but it has no pushforward" : nil,
                Self.mismatch("shapes", checked: record.shapes.isChecked, "shape inference", opHasIt: record.infersShapes),
                Self.mismatch("native cases", checked: record.native.isChecked, "a native kernel", opHasIt: record.hasNativeKernel),
            ].compactMap { $0 }
            #expect(problems.isEmpty, "\(record.op): \(problems.joined(separator: "; "))")
        }
    }

    /// What is wrong when a facet is `checked` but the op lacks `property`, or the other way
    /// round; `nil` when they agree.
    private static func mismatch(_ facet: String, checked: Bool, _ property: String, opHasIt: Bool) -> String? {
        guard checked != opHasIt else { return nil }
        return checked ? "\(facet) checked, but it has no \(property)" : "it has \(property), but \(facet) are skipped"
    }
}

extension OpRecord {
    /// Each facet's name, how many cases check it, and why it does not apply (`nil` when it does).
    var facetSummaries: [(facet: String, caseCount: Int, reason: Reason?)] {
        func summary<Case>(_ facet: String, _ value: Facet<Case>) -> (String, Int, Reason?) {
            switch value {
            case .checked(let cases): (facet, cases.count, nil)
            case .notApplicable(let reason): (facet, 0, reason)
            case .checkedElsewhere(let tests): (facet, 0, Reason(stringLiteral: "checked by \(tests)"))
            }
        }
        let forwardReason: Reason? = if case .notApplicable(let reason) = forwardMode { reason } else { nil }
        return [
            summary("the value", values), summary("the gradient", gradients), ("forward mode", forwardCases.count, forwardReason),
            summary("gradient types", gradientTypes), summary("shape inference", shapes), summary("the native backend", native),
        ]
    }
}

/// The op types the library's sources declare, read from `Sources/`: every struct, class or
/// enum that conforms (where it is declared, or in an extension) to `Op` or to a protocol
/// refining it, however indirectly.
enum DeclaredOps {
    /// The op types' names.
    static func scan() throws -> Set<String> {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources")
        var protocols: [String: [String]] = [:], conformances: [String: [String]] = [:], types = Set<String>()
        let files = try #require(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil))
        for case let file as URL in files where file.pathExtension == "swift" {
            let text = try String(contentsOf: file, encoding: .utf8)
            for (kind, name, inherited) in declarations(in: withoutComments(text)) {
                switch kind {
                case "protocol": protocols[name, default: []] += inherited
                case "extension": conformances[name, default: []] += inherited
                default:
                    types.insert(name)
                    conformances[name, default: []] += inherited
                }
            }
        }
        // The protocols refining `Op`, directly or through others.
        var opProtocols: Set<String> = ["Op"]
        while let refining = protocols.first(where: { !opProtocols.contains($0.key) && !opProtocols.isDisjoint(with: $0.value) }) {
            opProtocols.insert(refining.key)
        }
        return types.filter { !opProtocols.isDisjoint(with: conformances[$0] ?? []) }
    }

    private static let declaration = try! NSRegularExpression(
        pattern: #"\b(struct|class|enum|actor|protocol|extension)\s+([A-Za-z_]\w*)(?:<[^>{]*>)?\s*:\s*([^{]*)\{"#)

    /// The declarations of `text` that list inherited types: their kind, name and the
    /// protocols listed (generic arguments and `where` clauses left out).
    private static func declarations(in text: String) -> [(kind: String, name: String, inherited: [String])] {
        declaration.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { match in
            let group = { (index: Int) in String(text[Range(match.range(at: index), in: text)!]) }
            let list = group(3).components(separatedBy: " where ")[0]
            let inherited = list.split(whereSeparator: { ",&".contains($0) }).map { entry in
                entry.split(separator: "<")[0].trimmingCharacters(in: .whitespacesAndNewlines)
            }
            return (group(1), group(2), inherited)
        }
    }

    /// `text` without its `//` comments (doc comments show declarations as examples).
    private static func withoutComments(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.range(of: "//").map { String(line[..<$0.lowerBound]) } ?? String(line)
        }.joined(separator: "\n")
    }
}
