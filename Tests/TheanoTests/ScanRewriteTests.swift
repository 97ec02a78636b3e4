import Testing
import TheanoTestSupport
@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoLoops
@testable import TheanoNative
@testable import TheanoOps
@testable import TheanoOptimizer

// The loop rewrites: each test compiles a graph optimized and unoptimized, checks the
// optimized loop changed as the rewrite says, and that both give the same values.

/// The loops of `f`'s optimized graph.
private func loops(_ f: Function) -> [Scan] { f.graph.nodes.compactMap { $0.op as? Scan } }

/// `outputs` computed by the optimized and the unoptimized function agree; returns the optimized one.
@discardableResult
private func compiledAgreeing(_ inputs: [Variable], _ outputs: [Variable], _ arguments: [NDArray],
                              options: CompileOptions = .default) throws -> Function {
    let optimized = try function(inputs: inputs, outputs: outputs, options: options)
    let plain = try function(inputs: inputs, outputs: outputs, options: .unoptimized)
    for (a, b) in zip(try optimized(arguments), try plain(arguments)) {
        #expect(a.shape == b.shape)
        #expect(a.isClose(to: b, rtol: 1e-12, atol: 1e-12), "\(a) vs \(b)")
    }
    return optimized
}

@Suite("Scan: rewrites")
struct ScanRewriteTests {
    /// Of a running sum and a stacked square nobody reads, only the sum is computed; the
    /// non-sequence only the square read is no longer an input.
    @Test func unusedOutputsAndNonSequencesAreRemoved() throws {
        let x = vector("x", dtype: .float64), s0 = scalar("s0", dtype: .float64), w = scalar("w", dtype: .float64)
        let outputs = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(s0), .notFedBack]) { v in
            [try v[1] + v[0], try sqr(v[0]) * w]
        }
        let f = try compiledAgreeing([x, s0, w], [outputs[0]], [randomValues([6], seed: 1), randomValues([], seed: 2), randomValues([], seed: 3)])
        let loop = try #require(loops(f).first)
        #expect(loop.body.signature.outputTaps.count == 1)
        #expect(loop.body.signature.nonSequenceCount == 0)
    }

    /// An output nobody reads outside stays when a kept output reads it back.
    @Test func outputsReadBackByKeptOutputsStay() throws {
        let x = vector("x", dtype: .float64), a0 = scalar("a0", dtype: .float64), b0 = scalar("b0", dtype: .float64)
        let outputs = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(a0), .recurrent(b0)]) { v in
            [try v[1] * 0.5 + v[2], try v[2] + v[0]]
        }
        let f = try compiledAgreeing([x, a0, b0], [outputs[0]], [randomValues([5], seed: 4), randomValues([], seed: 5), randomValues([], seed: 6)])
        #expect(loops(f).first?.body.signature.outputTaps.count == 2)
    }

    /// After `x_t · W` left the step, `x` itself is no longer read: the loop walks `x · W` alone.
    @Test func sequencesTheStepNoLongerReadsAreRemoved() throws {
        let x = matrix("x", dtype: .float64), w = matrix("w", dtype: .float64), u = matrix("u", dtype: .float64)
        let h0 = vector("h0", dtype: .float64)
        let h = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(h0)]) { v in [try tanh(dot(v[0], w) + dot(v[1], u))] }[0]
        let f = try compiledAgreeing([x, w, u, h0], [h], [randomValues([4, 3], seed: 7), randomValues([3, 2], seed: 8), randomValues([2, 2], seed: 9),
                                                          randomValues([2], seed: 10)])
        let loop = try #require(loops(f).first)
        #expect(loop.body.signature.sequenceTaps.count == 1)
    }

    /// The gradient loop computes only the gradients something reads: not the data's.
    @Test func gradientsNothingReadsAreNotComputed() throws {
        let x = matrix("x", dtype: .float64), w = matrix("w", dtype: .float64), u = matrix("u", dtype: .float64)
        let h0 = vector("h0", dtype: .float64)
        let h = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(h0)]) { v in [try tanh(dot(v[0], w) + dot(v[1], u))] }[0]
        let gradients = try grad(sum(h), wrt: [w, u])
        let f = try compiledAgreeing([x, w, u, h0], gradients, [randomValues([4, 3], seed: 20), randomValues([3, 2], seed: 21),
                                                                 randomValues([2, 2], seed: 22), randomValues([2], seed: 23)])
        let gradient = try #require(f.graph.nodes.lazy.compactMap { $0.op as? ScanGradient }.first)
        #expect(gradient.skipped.sequences == [0], "x's gradient is not computed; x·W's is")
        #expect(gradient.skipped.nonSequences.isEmpty)
    }

    /// A final state (`h[-1]`) keeps a window of 2 rows instead of a row per step; with taps
    /// `[-2, -1]`, 3 rows; also when the loop stops early or runs no step. (Reading the last
    /// row of no steps fails without the rewrite and reads the last initial value with it.)
    @Test(arguments: [false, true])
    func finalStatesKeepAWindow(native: Bool) throws {
        let options = native ? CompileOptions.native : .default
        let x = vector("x", dtype: .float64), s0 = scalar("s0", dtype: .float64), pair = vector("pair", dtype: .float64)
        let sum = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(s0)]) { v in [try v[1] + v[0]] }[0]
        let fibonacci = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(pair, taps: [-2, -1])]) { v in
            [try v[1] + v[2] + v[0] * 0]
        }[0]
        let stopping = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(s0)]) { v in
            ScanStep([try v[1] + v[0]], until: try gt(v[1] + v[0], 1.5))
        }[0]
        for length in [0, 1, 2, 7] {
            let arguments = [NDArray((0..<length).map { Double($0) * 0.5 }, shape: [length]), NDArray(scalar: 1, dtype: .float64),
                             NDArray([1, 1], shape: [2])]
            // Without steps, only a fold's result (the last row of the whole history) is defined.
            let lasts = length == 0 ? [try foldl(sequences: [x], initial: s0) { try $0[1] + $0[0] }]
                : [try sum[-1], try fibonacci[-1], try stopping[-1]]
            let f = try compiledAgreeing([x, s0, pair], lasts, arguments, options: options)
            // (The loops without `until` are merged.)
            #expect(loops(f).allSatisfy { $0.body.signature.windowedOutputs.count == $0.body.signature.outputTaps.count })
        }
    }

    /// A history read whole, or by the gradient, is kept whole.
    @Test func historiesReadWholeAreKept() throws {
        let x = vector("x", dtype: .float64), s0 = scalar("s0", dtype: .float64)
        let sum = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(s0)]) { v in [try v[1] * v[0]] }[0]
        let gradient = try grad(sum[-1], wrt: [x])[0]
        let f = try compiledAgreeing([x, s0], [sum[-1], gradient], [randomValues([4], seed: 11), randomValues([], seed: 12)])
        #expect(loops(f).allSatisfy { $0.body.signature.windowedOutputs.isEmpty })
    }

    /// Two loops over the same sequence become one loop with the outputs of both, each
    /// gradient still right.
    @Test func loopsOverTheSameSequenceMerge() throws {
        let x = matrix("x", dtype: .float64), w = matrix("w", dtype: .float64), u = matrix("u", dtype: .float64)
        let h0 = vector("h0", dtype: .float64)
        let forward = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(h0)]) { v in [try tanh(dot(v[0], w) + dot(v[1], u))] }[0]
        let squares = try map(sequences: [x]) { try sum(sqr($0[0])) }
        let cost = try sum(forward) + sum(squares)
        let gradients = try grad(cost, wrt: [x, w, u])
        let arguments = [randomValues([5, 3], seed: 13), randomValues([3, 4], seed: 14), randomValues([4, 4], seed: 15), randomValues([4], seed: 16)]
        let f = try compiledAgreeing([x, w, u, h0], [forward, squares] + gradients, arguments)
        #expect(loops(f).count == 1)
        #expect(loops(f).first?.body.signature.outputTaps.count == 2)
    }

    /// Loops over different sequences, or one reading the other, stay apart.
    @Test func loopsThatCannotMergeStayApart() throws {
        let x = vector("x", dtype: .float64), y = vector("y", dtype: .float64), s0 = scalar("s0", dtype: .float64)
        let a = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(s0)]) { v in [try v[1] + v[0]] }[0]
        let b = try scan(sequences: [ScanSequence(y)], outputsInfo: [.recurrent(s0)]) { v in [try v[1] * v[0]] }[0]
        let c = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(a[-1])]) { v in [try v[1] - v[0]] }[0]
        let f = try compiledAgreeing([x, y, s0], [a, b, c], [randomValues([4], seed: 17), randomValues([4], seed: 18), randomValues([], seed: 19)])
        #expect(loops(f).count == 3)
    }
}
