import Foundation
import Testing
@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoLoops
@testable import TheanoNative
@testable import TheanoOps
@testable import TheanoOptimizer

// The random graphs of `RewritePropertyTests` (the same corpus: graph `index` is the same
// everywhere) through the native backend, against the reference interpreter. Compiling C is
// the slow part, so each batch of graphs becomes one function with every graph's inputs and
// outputs: one C module per batch, compiled into the native tests' scratch cache.

@Suite("Native backend properties")
struct NativePropertyTests {
    static let batches = 8
    static let graphsPerBatch = 100
    static let closeness = Closeness(rtol: 1e-9, atol: 1e-9)

    /// The native backend computes what the reference interpreter does: a batch of random
    /// graphs, compiled together and fully optimized, gives the same results through both,
    /// with nodes compiled to C and no warning from the linker.
    @Test(arguments: 0..<batches)
    func nativeGraphsComputeTheSameValues(batch: Int) throws {
        let start = ContinuousClock.now
        let indices = (batch * Self.graphsPerBatch)..<((batch + 1) * Self.graphsPerBatch)
        var graphs: [RandomGraph] = []
        for index in indices {
            do { graphs.append(try RandomGraph(index: index)) } catch {
                Issue.record("graph #\(index) (seed \(Self.seedText(index))): building threw \(error)")
            }
        }
        let inputs = graphs.flatMap(\.inputs), arguments = graphs.flatMap(\.arguments)
        let outputs = graphs.flatMap(\.outputs)
        // Which graph, and which of its outputs, each output of the batch is.
        let owners = graphs.flatMap { graph in graph.outputs.indices.map { (graph: graph, output: $0) } }

        let native = try function(inputs: inputs, outputs: outputs, options: CompileOptions(linker: Scratch.linker()))
        let reference = try function(inputs: inputs, outputs: outputs, options: CompileOptions(linker: ReferenceLinker()))
        #expect(native.compiledNodes > 0, "batch \(batch): no node compiled to C")
        #expect(native.linkWarnings.isEmpty, "batch \(batch): \(native.linkWarnings)")

        let actual = try native(arguments), expected = try reference(arguments)
        var failing: [(graph: RandomGraph, problem: String)] = []
        for (position, owner) in owners.enumerated() {
            if let problem = Self.difference(actual[position], expected[position]) {
                failing.append((owner.graph, "output \(owner.output) of the graph: \(problem)"))
            }
        }
        for (graph, problem) in failing.prefix(2) { Issue.record("\(Self.details(graph, problem))") }
        if failing.count > 2 {
            Issue.record("batch \(batch): more failing graph outputs:\n\(failing.dropFirst(2).map { "#\($0.graph.index): \($0.problem)" }.joined(separator: "\n"))")
        }
        print("native properties, batch \(batch): \(graphs.count) graphs, \(outputs.count) outputs, "
              + "\(native.compiledNodes) of \(native.graph.nodes.count) nodes compiled, in \(ContinuousClock.now - start) "
              + "(native \(native.compileTimes))")
    }

    /// Why `actual` (native) is not `expected` (reference), or `nil` when it is.
    static func difference(_ actual: NDArray, _ expected: NDArray) -> String? {
        if actual.shape != expected.shape || actual.dtype != expected.dtype {
            return "native gives \(actual.dtype) \(actual.shape), reference \(expected.dtype) \(expected.shape)"
        }
        let mismatches = closeness.mismatches(actual.elements(as: Double.self), expected.elements(as: Double.self))
        return mismatches.isEmpty ? nil : "native ≠ reference: \(mismatches.prefix(5).joined(separator: ", "))"
    }

    static func seedText(_ index: Int) -> String { "0x" + String(RandomGraph.seed(of: index), radix: 16) }

    /// `problem` of `graph`, with everything needed to reproduce it: the recipe, the graph as
    /// built, and whether it differs also when compiled on its own (with its optimized graph).
    static func details(_ graph: RandomGraph, _ problem: String) -> String {
        var lines = [
            "graph #\(graph.index) (seed \(seedText(graph.index))), compiled in its batch: \(problem)",
            "recipe:\n" + graph.recipe.map { "  " + $0 }.joined(separator: "\n"),
            "built graph:\n" + debugprint(graph.outputs),
        ]
        do {
            let native = try function(inputs: graph.inputs, outputs: graph.outputs, options: CompileOptions(linker: Scratch.linker()))
            let reference = try function(inputs: graph.inputs, outputs: graph.outputs)
            let alone = zip(try native(graph.arguments), try reference(graph.arguments)).enumerated().compactMap { position, pair in
                difference(pair.0, pair.1).map { "output \(position): \($0)" }
            }
            lines.append("compiled on its own: " + (alone.isEmpty ? "no difference" : alone.joined(separator: "; ")))
            lines.append("optimized graph (native, on its own):\n" + debugprint(native))
        } catch {
            lines.append("compiled on its own: threw \(error)")
        }
        return lines.joined(separator: "\n")
    }
}
