import Testing
@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoLoops
@testable import TheanoNative
@testable import TheanoOps
@testable import TheanoOptimizer

@Suite("FunctionGraph")
struct FunctionGraphTests {
    @Test func copiesTheGraphAndTracksClients() throws {
        let x = vector("x")
        let e = try exp(x)
        let y = try e + e
        let graph = try FunctionGraph(inputs: [x], outputs: [y])
        #expect(graph.nodes.count == 2)
        #expect(graph.nodes.allSatisfy { node in node !== e.owner && node !== y.owner })
        let copiedExp = graph.nodes[0].output(0)
        #expect(graph.clients[copiedExp]?.count == 2)
    }

    @Test func replaceRedirectsEveryReader() throws {
        let x = vector("x")
        let y = try exp(x) * 2
        let graph = try FunctionGraph(inputs: [x], outputs: [y])
        let oldExp = graph.nodes.first { $0.op is Exp }!.output(0)
        let replacement = try log(graph.inputs[0])
        try graph.replace(oldExp, with: replacement)
        #expect(graph.clients[oldExp] == nil)
        #expect(graph.nodes.contains { $0.op is Log } && !graph.nodes.contains { $0.op is Exp })
        let program = try ReferenceLinker().link(graph)
        let result = try program.executor.run(inputs: [NDArray([1, 2] as [Float])])[0]
        #expect(result.isClose(to: NDArray([0, 2 * Float(0.6931472)] as [Float])))
    }

    @Test func replacingAnOutput() throws {
        let x = vector("x")
        let graph = try FunctionGraph(inputs: [x], outputs: [exp(x)])
        let replacement = try sqr(graph.inputs[0])
        try graph.replace(graph.outputs[0], with: replacement)
        #expect(graph.outputs[0] === replacement)
    }

    @Test func everyNodeRecordsItsSourceLocation() throws {
        let x = vector("x")
        let y = try tanh(x) + 1
        #expect("\(y.owner!.location)" == "TheanoTests/FunctionGraphTests.swift:\(#line - 1)")
        #expect("\(y.owner!.inputs[0].owner!.location)" == "TheanoTests/FunctionGraphTests.swift:\(#line - 2)")
        let g = try grad(sum(y), wrt: [x])[0]
        // Gradient nodes point at the forward node they differentiate.
        #expect("\(g.owner!.location)".hasPrefix("TheanoTests/FunctionGraphTests.swift:"))
    }
}

@Suite("Rewrite drivers")
struct RewriteDriverTests {
    /// `neg(neg(neg(neg(x))))`: each pass of `neg_neg` removes pairs, walking either way.
    private func chain() throws -> FunctionGraph {
        let x = vector("x")
        return try FunctionGraph(inputs: [x], outputs: [-(-(-(-x)))])
    }

    @Test(arguments: [RewriteDriver.Strategy.inToOut, .outToIn])
    func oneWalkVisitsEveryNodeOnce(_ strategy: RewriteDriver.Strategy) throws {
        let graph = try chain()
        var report = RewriteReport()
        RewriteDriver(phase: "test", rules: [negationOfNegation], strategy: strategy).run(on: graph, report: &report, trace: true, check: true)
        #expect(report.violations.isEmpty && report.failures.isEmpty)
        #expect(report.counts["neg_neg", default: 0] >= 1)
        #expect(report.unfinishedPhases.isEmpty)
    }

    @Test func equilibriumReachesTheFixpoint() throws {
        let graph = try chain()
        var report = RewriteReport()
        RewriteDriver(phase: "test", rules: [negationOfNegation], strategy: .equilibrium(maxPasses: 10))
            .run(on: graph, report: &report, trace: false, check: true)
        #expect(graph.nodes.isEmpty)
        #expect(graph.outputs[0] === graph.inputs[0])
    }
}
