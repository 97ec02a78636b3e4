import Testing
import TheanoTestSupport
@testable import Theano
@testable import TheanoCore
@testable import TheanoLoops

// The rewrites `scan` makes while it builds a loop (`LoopConstructionRewrite`), and the
// reports of loops' inner graphs in the report of the function that runs them.

/// A gated recurrence `h_t = σ(z)·tanh(z)`, `z = x_t·W + h_{t-1}·U`: its product with the
/// sequence can leave the step, and its pullback would compute `z` again.
private struct GatedLoop {
    let x = matrix("x", dtype: .float64), h0 = vector("h0", dtype: .float64)
    let w = matrix("W", dtype: .float64), u = matrix("U", dtype: .float64)
    let h: Variable

    init(excluding: Set<LoopConstructionRewrite> = []) throws {
        let (w, u) = (self.w, self.u)
        h = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(h0)], excluding: excluding, name: "gated") { v in
            let z = try dot(v[0], w) + dot(v[1], u)
            return [try sigmoid(z) * tanh(z)]
        }[0]
    }

    /// The loop's final state and the gradient of its sum with respect to `W` and `U`.
    func compiled() throws -> Function {
        let cost = try sum(h)
        let gradients = try grad(cost, wrt: [w, u])
        return try function(inputs: [x, h0, w, u], outputs: [h] + gradients)
    }

    static let arguments = [randomValues([5, 3], seed: 1), randomValues([4], seed: 2), randomValues([3, 4], seed: 3), randomValues([4, 4], seed: 4)]
}

/// The loop of `f`'s graph (the forward one: the gradient loop is a different op).
private func forwardLoop(_ f: Function) throws -> Scan { try #require(f.graph.nodes.compactMap { $0.op as? Scan }.first) }

@Suite("Scan: construction rewrites and inner reports")
struct LoopConstructionTests {
    /// Both construction rewrites change the gated loop, and the function's report says so
    /// under the loop's name.
    @Test func constructionRewritesAreReported() throws {
        let f = try GatedLoop().compiled()
        let construction = try #require(f.rewriteReport.innerGraphs.first { $0.name == "scan{gated} construction" })
        #expect(construction.report.counts == ["scan_pushout_sequences": 1, "scan_save_preactivations": 1])
        #expect(construction.report.failures.isEmpty)
        #expect(f.rewriteReport.description.contains("scan{gated} construction:\n  scan_pushout_sequences: 1×"))
    }

    /// Excluded, neither rewrite is made — the loop walks `x` itself and keeps nothing for its
    /// gradient — and the values and gradients are the same.
    @Test func excludedConstructionRewritesAreNotMade() throws {
        let plain = try GatedLoop(excluding: Set(LoopConstructionRewrite.allCases)).compiled()
        let rewritten = try GatedLoop().compiled()
        let body = try forwardLoop(plain).body
        #expect(body.signature.sequenceTaps.count == 1)
        #expect(body.signature.savedOutputs == 0)
        #expect(try forwardLoop(rewritten).body.signature.sequenceTaps.count == 1, "the loop walks x·W instead of x")
        #expect(try forwardLoop(rewritten).body.signature.savedOutputs == 1)
        let construction = try #require(plain.rewriteReport.innerGraphs.first { $0.name == "scan{gated} construction" })
        #expect(construction.report.counts.isEmpty)
        for (a, b) in zip(try plain(GatedLoop.arguments), try rewritten(GatedLoop.arguments)) {
            #expect(a.isClose(to: b, rtol: 1e-12, atol: 1e-12), "\(a) vs \(b)")
        }
    }

    /// A construction rewrite that fails is skipped, and its error is reported rather than
    /// swallowed: the trial pullback of a step through an op without a derivative.
    @Test func aFailedConstructionRewriteIsReportedAndSkipped() throws {
        let x = matrix("x", dtype: .float64), h0 = vector("h0", dtype: .float64), u = matrix("U", dtype: .float64)
        let h = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(h0)], name: "opaque") { v in
            [try IncrementWithoutDerivative()([dot(v[1], u)], at: SourceLocation(fileID: #fileID, line: #line)) + v[0]]
        }[0]
        let f = try function(inputs: [x, h0, u], outputs: [h])
        let construction = try #require(f.rewriteReport.innerGraphs.first { $0.name == "scan{opaque} construction" })
        let failure = try #require(construction.report.failures["scan_save_preactivations"])
        #expect(failure.contains("increment"), "\(failure)")
        #expect(f.rewriteReport.hasFailures)
        #expect(f.rewriteReport.description.contains("rule scan_save_preactivations failed and was skipped"))
        let plain = try function(inputs: [x, h0, u], outputs: [h], options: .unoptimized)
        let arguments = [randomValues([4, 3], seed: 5), randomValues([3], seed: 6), randomValues([3, 3], seed: 7)]
        #expect(try f(arguments)[0].isClose(to: try plain(arguments)[0], rtol: 1e-12, atol: 1e-12))
    }

    /// The loop's step is optimized as the function asks, and what happened to it is in the
    /// function's report: rules fire there, and traced, where; an excluded rule does not.
    @Test func theStepsReportFollowsTheFunctionsOptions() throws {
        let x = vector("x", dtype: .float64), h0 = scalar("h0", dtype: .float64)
        let h = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(h0)], name: "soft") { v in
            [try log(1 + sqr(v[1] + v[0]))]
        }[0]
        let traced = try function(inputs: [x, h0], outputs: [h], options: CompileOptions(trace: true))
        let step = try #require(traced.rewriteReport.innerGraphs.first { $0.name == "scan{soft} step" })
        #expect(step.report.counts["log1p"] == 1)
        #expect(step.report.events.contains { $0.rule == "log1p" })
        let excluded = try function(inputs: [x, h0], outputs: [h], options: CompileOptions(excluding: ["log1p"]))
        let plainStep = try #require(excluded.rewriteReport.innerGraphs.first { $0.name == "scan{soft} step" })
        #expect(plainStep.report.counts["log1p"] == nil)
        #expect(!excluded.rewriteReport.hasFailures)
    }

    /// A gradient loop's pullback step has a report of its own.
    @Test func theGradientStepIsReported() throws {
        let f = try GatedLoop().compiled()
        #expect(f.rewriteReport.innerGraphs.contains { $0.name.hasPrefix("scan{gated} gradient step") })
    }
}
