import Foundation
import Testing
@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoLoops
@testable import TheanoNative
@testable import TheanoOps
@testable import TheanoOptimizer

/// A small graph with a named input, named and unnamed shared variables, a constant, a
/// named intermediate read twice, and a node with two readers.
private struct SmallGraph {
    let x = matrix("x", dtype: .float64, shape: (nil, 3))
    let W: SharedVariable
    let b: SharedVariable
    let h: Variable
    let output: Variable

    init() throws {
        W = try shared(NDArray(zeros: [3, 2], dtype: .float64), name: "W")
        b = try shared(NDArray(zeros: [2], dtype: .float64))
        h = try dot(x, W) + b
        h.name = "h"
        output = try tanh(h) * h + 0.5
    }
}

@Suite("Printing")
struct PrintingTests {
    @Test func debugprintShowsIdsTypesLabelsAndRepeats() throws {
        let graph = try SmallGraph()
        let expected = """
            add [id A] float64[?, 2]
             ├─ mul [id B] float64[?, 2]
             │   ├─ tanh [id C] float64[?, 2]
             │   │   └─ add 'h' [id D] float64[?, 2]
             │   │       ├─ dot [id E] float64[?, 2]
             │   │       │   ├─ x [id F] float64[?, 3]
             │   │       │   └─ W [id G] float64[3, 2]
             │   │       └─ dimshuffle{x,0} [id H] float64[1, 2]
             │   │           └─ <shared> [id I] float64[2]
             │   └─ add 'h' [id D] float64[?, 2] ···
             └─ dimshuffle{x,x} [id J] float64[1, 1]
                 └─ constant 0.5 [id K] float64[]
            """
        #expect(debugprint([graph.output]) == expected)
    }

    /// Ids continue across the printed variables: a node printed for an earlier variable is
    /// shown by its id only.
    @Test func debugprintSharesIdsAcrossVariables() throws {
        let graph = try SmallGraph()
        let text = debugprint([graph.output, graph.h])
        let lines = text.split(separator: "\n")
        #expect(lines.count == 13 && lines.last == "add 'h' [id D] float64[?, 2] ···", "\(text)")
    }

    @Test func debugprintOfAFunctionLabelsUpdates() throws {
        let graph = try SmallGraph()
        let step = try function(inputs: [graph.x], outputs: [sum(graph.output)],
                                updates: [graph.W: graph.W - 0.1 * grad(sum(graph.output), wrt: [graph.W])[0]])
        let text = debugprint(step)
        let lines = text.split(separator: "\n").map(String.init)
        let update = try #require(lines.firstIndex(of: "update of W:"), "\(text)")
        #expect(update > 0, "the outputs come before the updates:\n\(text)")
        #expect(lines[update + 1].hasSuffix("float64[3, 2]"), "the update's tree follows its label:\n\(text)")
        #expect(lines.filter { $0.hasPrefix("update of") }.count == 1)
    }

    /// One box per node, an ellipse per leaf, an edge per node input and one per output.
    @Test func dotOfVariablesAndFunctions() throws {
        let graph = try SmallGraph()
        let unoptimized = try function(inputs: [graph.x], outputs: [graph.output, graph.h], options: .unoptimized)
        let optimized = try function(inputs: [graph.x], outputs: [graph.output], updates: [graph.W: graph.W * 0.5])
        let texts: [(String, String, FunctionGraph?)] = [
            ("toDot(variables)", toDot([graph.output], title: "small"), nil),
            ("unoptimized.toDot()", unoptimized.toDot(), unoptimized.graph),
            ("optimized.toDot()", optimized.toDot(), optimized.graph),
        ]
        for (label, dot, functionGraph) in texts {
            #expect(dot.hasPrefix("digraph \""), "\(label):\n\(dot)")
            #expect(dot.hasSuffix("}\n"), "\(label):\n\(dot)")
            #expect(dot.components(separatedBy: "{").count == dot.components(separatedBy: "}").count, "\(label): braces:\n\(dot)")
            let statements = dot.split(separator: "\n").dropFirst().dropLast().map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(statements.allSatisfy { $0.hasSuffix(";") }, "\(label):\n\(dot)")
            let boxes = statements.filter { $0.contains("shape=box") }.count
            let edges = statements.filter { $0.contains(" -> ") }.count
            let graphOutputs = functionGraph?.outputs ?? [graph.output]
            let nodes = functionGraph?.nodes ?? topologicalOrder(of: [graph.output])
            #expect(boxes == nodes.count, "\(label): \(boxes) boxes for \(nodes.count) nodes:\n\(dot)")
            #expect(edges == nodes.map(\.inputs.count).reduce(0, +) + graphOutputs.count, "\(label): edges:\n\(dot)")
        }
        #expect(texts[0].1.hasPrefix("digraph \"small\" {"))
        #expect(texts[0].1.contains("label=\"W\\nfloat64[3, 2]\""), "shared variables are labelled with name and type")
        #expect(texts[0].1.contains("label=\"0.5\""), "scalar constants show their value")
        #expect(texts[2].1.contains("label=\"update of W\""), "\(texts[2].1)")
    }

    @Test func compileTimesAreNonNegativeAndPrintable() throws {
        let graph = try SmallGraph()
        for options in [CompileOptions.unoptimized, .default] {
            let times = try function(inputs: [graph.x], outputs: [graph.output], options: options).compileTimes
            #expect(times.rewrite >= 0 && times.link >= 0)
            #expect(times.description.hasPrefix("rewrite ") && times.description.contains(" ms, link "), "\(times)")
            print("compile times (\(options.optimization == .none ? "unoptimized" : "optimized")): \(times)")
        }
    }
}

/// `renderGraph` runs Graphviz's `dot`, found on `PATH`.
@Suite("Rendering graphs", .serialized)
struct RenderGraphTests {
    private static var hasGraphviz: Bool { ExternalTool.find("dot") != nil }

    private static func temporaryPath(_ suffix: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("theano-printing-\(UUID().uuidString).\(suffix)").path
    }

    /// Runs `body` with `PATH` set to `path`, restoring it afterwards. `PATH` is process-wide
    /// and tests run in parallel (the native backend looks up the C compiler on it), so this is
    /// only used where nothing else can show the behaviour.
    private static func withPATH<T>(_ path: String, _ body: () throws -> T) rethrows -> T {
        let saved = ProcessInfo.processInfo.environment["PATH"]
        setenv("PATH", path, 1)
        defer {
            if let saved { setenv("PATH", saved, 1) } else { unsetenv("PATH") }
        }
        return try body()
    }

    private static func expectToolMissing(_ render: () throws -> Void) {
        let error = #expect(throws: TheanoError.self) { try render() }
        guard case .toolMissing(let tool, _, _)? = error else {
            Issue.record("expected toolMissing, got \(String(describing: error))")
            return
        }
        #expect(tool == "dot")
        #expect("\(error!)".lowercased().contains("graphviz"), "\(error!)")
    }

    /// The lookup `renderGraph` uses: names on `PATH`, paths as they are.
    @Test func programsAreLookedUpOnPATH() {
        #expect(ExternalTool.find("sh") != nil)
        #expect(ExternalTool.find("theano-no-such-program") == nil)
        #expect(ExternalTool.find("/bin/sh") == "/bin/sh")
        #expect(ExternalTool.find("/nonexistent/dot") == nil)
    }

    @Test(.enabled(if: hasGraphviz, "Graphviz's dot is not installed"))
    func rendersAPNG() throws {
        let path = Self.temporaryPath("png")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try renderGraph(toDot([try SmallGraph().output]), to: path)
        let bytes = try #require(FileManager.default.contents(atPath: path))
        #expect(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "PNG signature")
    }

    /// Without `dot` the error names Graphviz and how to install it. Where `dot` is installed,
    /// `PATH` is emptied for the call.
    @Test func missingGraphvizIsReported() throws {
        let dot = toDot([try SmallGraph().output])
        let path = Self.temporaryPath("png")
        if Self.hasGraphviz {
            Self.withPATH("/nonexistent") { Self.expectToolMissing { try renderGraph(dot, to: path) } }
        } else {
            Self.expectToolMissing { try renderGraph(dot, to: path) }
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
