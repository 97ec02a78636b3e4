import Foundation
import Testing
import TheanoTestSupport
@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoLoops
@testable import TheanoNative
@testable import TheanoOps
@testable import TheanoOptimizer

// scan: forward values against loops written out by hand for every kind of tap, the
// conveniences, early exit, gradients through the loop (BPTT) checked by finite
// differences, truncated gradients, and bad input.

private func doubles(_ values: [Double], _ shape: [Int]) -> NDArray { NDArray(values, shape: shape) }

private func evaluate(_ inputs: [Variable], _ outputs: [Variable], _ arguments: [NDArray]) throws -> [[Double]] {
    try function(inputs: inputs, outputs: outputs)(arguments).map { $0.elements(as: Double.self) }
}

@Suite("Scan: forward values")
struct ScanForwardTests {
    @Test("a recurrent output with tap -1 is a running sum")
    func runningSum() throws {
        let x = vector("x", dtype: .float64), h0 = scalar("h0", dtype: .float64)
        let h = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(h0)]) { v in [try v[0] + v[1]] }[0]
        let values = try evaluate([x, h0], [h], [doubles([1, 2, 3, 4], [4]), NDArray(scalar: 10, dtype: .float64)])
        #expect(values[0] == [11, 13, 16, 20])
    }

    @Test("sequence taps -1, 0, 1 read three neighbours")
    func sequenceTaps() throws {
        let x = vector("x", dtype: .float64)
        let y = try scan(sequences: [ScanSequence(x, taps: [-1, 0, 1])], outputsInfo: [.notFedBack]) { v in
            [try v[0] + 2 * v[1] + 3 * v[2]]
        }[0]
        let input: [Double] = [1, 2, 4, 8, 16]
        let expected: [Double] = (1..<4).map { (t: Int) -> Double in
            let (previous, current, next) = (input[t - 1], input[t], input[t + 1])
            return previous + 2 * current + 3 * next
        }
        #expect(try evaluate([x], [y], [doubles(input, [5])])[0] == expected)
    }

    @Test("output taps -2, -1 with two initial rows: Fibonacci")
    func twoTapRecurrence() throws {
        let initial = vector("initial", dtype: .int64)
        let fibonacci = try scan(outputsInfo: [.recurrent(initial, taps: [-2, -1])], nSteps: constant(8, dtype: .int64)) { v in
            [try v[0] + v[1]]
        }[0]
        let values = try function(inputs: [initial], outputs: [fibonacci])([NDArray([0, 1] as [Int64])])[0]
        #expect(values.elements(as: Int64.self) == [1, 2, 3, 5, 8, 13, 21, 34])
    }

    @Test("non-sequences given and captured, outputs fed back and not, backwards")
    func mixedOutputsBackwards() throws {
        let x = matrix("x", dtype: .float64), w = matrix("w", dtype: .float64), b = vector("b", dtype: .float64)
        let h0 = vector("h0", dtype: .float64)
        let outputs = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(h0), .notFedBack], nonSequences: [w],
                               goBackwards: true) { v in
            let h = try tanh(dot(v[0], v[2]) + v[1] + b)
            return [h, try sum(h)]
        }
        let (xv, wv, bv, hv) = (randomValues([5, 3], seed: 1), randomValues([3, 3], seed: 2), randomValues([3], seed: 3), randomValues([3], seed: 4))
        let got = try evaluate([x, w, b, h0], outputs.outputs, [xv, wv, bv, hv])
        // The loop written out: rows of x from the last to the first.
        var h = hv.elements(as: Double.self), states: [Double] = [], sums: [Double] = []
        let (xs, ws, bs) = (xv.elements(as: Double.self), wv.elements(as: Double.self), bv.elements(as: Double.self))
        for row in (0..<5).reversed() {
            h = (0..<3).map { (j: Int) -> Double in
                var z = h[j] + bs[j]
                for k in 0..<3 { z += xs[row * 3 + k] * ws[k * 3 + j] }
                return Foundation.tanh(z)
            }
            states += h
            sums.append(h.reduce(0, +))
        }
        #expect(zip(got[0], states).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(zip(got[1], sums).allSatisfy { abs($0 - $1) < 1e-12 })
    }

    @Test("until stops the loop after the step where it holds")
    func untilStopsEarly() throws {
        let h0 = scalar("h0", dtype: .float64)
        let h = try scan(outputsInfo: [.recurrent(h0)], nSteps: constant(100, dtype: .int64)) { v in
            let next = try v[0] * 2
            return ScanStep([next], until: try gt(next, 50))
        }[0]
        #expect(try evaluate([h0], [h], [NDArray(scalar: 1, dtype: .float64)])[0] == [2, 4, 8, 16, 32, 64])
    }

    @Test("a shared variable the step updates: each step sees the last value, the loop returns the update")
    func sharedVariableUpdatedInsideTheLoop() throws {
        let count = try shared(NDArray(scalar: 10, dtype: .float64), name: "count")
        let x = vector("x", dtype: .float64)
        let result = try scan(sequences: [ScanSequence(x)], outputsInfo: [.notFedBack]) { v in
            ScanStep([try v[0] * count], updates: [count: try count + 1])
        }
        let f = try function(inputs: [x], outputs: [result[0]], updates: result.updates)
        #expect(try f([doubles([1, 2, 3], [3])])[0].elements(as: Double.self) == [10, 22, 36])
        #expect(count.value.scalar(as: Double.self) == 13)
        #expect(try f([doubles([1], [1])])[0].elements(as: Double.self) == [13])
        #expect(count.value.scalar(as: Double.self) == 14)
    }

    @Test("map, foldl, foldr and reduce")
    func conveniences() throws {
        let x = vector("x", dtype: .float64), zero = scalar("zero", dtype: .float64)
        let squares = try map(sequences: [x]) { try sqr($0[0]) }
        let left = try foldl(sequences: [x], initial: zero) { try $0[1] * 10 + $0[0] }
        let right = try foldr(sequences: [x], initial: zero) { try $0[1] * 10 + $0[0] }
        let total = try reduce(sequences: [x], initial: zero) { try $0[1] + $0[0] }
        let values = try evaluate([x, zero], [squares, left, right, total], [doubles([1, 2, 3], [3]), NDArray(scalar: 0, dtype: .float64)])
        #expect(values == [[1, 4, 9], [123], [321], [6]])
        // No element: the fold is its initial value.
        let empty = try evaluate([x, zero], [left], [NDArray(zeros: [0], dtype: .float64), NDArray(scalar: 7, dtype: .float64)])
        #expect(empty == [[7]])
    }
}

@Suite("Scan: gradients")
struct ScanGradientTests {
    /// An Elman RNN's summed states, differentiated with respect to everything.
    @Test func elmanNetwork() throws {
        try verifyGrad({ v in
            let (x, w, u, h0) = (v[0], v[1], v[2], v[3])
            let h = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(h0)], nonSequences: [w]) { s in
                [try tanh(dot(s[0], s[2]) + dot(s[1], u))]
            }[0]
            return try sum(h * h)
        }, at: [randomValues([6, 4], seed: 5), randomValues([4, 3], seed: 6), randomValues([3, 3], seed: 7), randomValues([3], seed: 8)])
    }

    /// An LSTM cell: two recurrent outputs, the cell not returned.
    @Test func lstm() throws {
        try verifyGrad({ v in
            let (x, w, u, h0, c0) = (v[0], v[1], v[2], v[3], v[4])
            let outputs = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(h0), .recurrent(c0)]) { s in
                let z = try dot(s[0], w) + dot(s[1], u)
                let (i, f, o, g) = (try sigmoid(z[.all, 0..<2]), try sigmoid(z[.all, 2..<4]), try sigmoid(z[.all, 4..<6]), try tanh(z[.all, 6..<8]))
                let c = try f * s[2] + i * g
                return [try o * tanh(c), c]
            }
            return try sum(outputs[0])
        }, at: [randomValues([4, 2, 3], seed: 9), randomValues([3, 8], seed: 10), randomValues([2, 8], seed: 11), randomValues([2, 2], seed: 12),
                randomValues([2, 2], seed: 13)])
    }

    @Test func tapsOnSequencesAndOutputs() throws {
        try verifyGrad({ v in
            let (x, initial, a) = (v[0], v[1], v[2])
            let y = try scan(sequences: [ScanSequence(x, taps: [-1, 1])], outputsInfo: [.recurrent(initial, taps: [-2, -1])]) { s in
                [try sin(s[0]) * s[2] + s[3] * a + s[1]]
            }[0]
            return try sum(y * y)
        }, at: [randomValues([7, 2], seed: 14), randomValues([2, 2], seed: 15), randomValues([2], seed: 16)])
    }

    @Test func untilAndBackwards() throws {
        try verifyGrad({ v in
            let (x, h0) = (v[0], v[1])
            let h = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(h0)], goBackwards: true) { s in
                let next = try s[1] * s[0] + 0.5
                return ScanStep([next], until: try gt(sum(abs(next)), 1e6))
            }[0]
            return try sum(h)
        }, at: [randomValues([5, 3], seed: 17), randomValues([3], seed: 18)])
    }

    /// A state-by-matrix product (its weight gradient batched after the loop) in a loop that
    /// walks backwards and stops after 3 of 5 steps.
    @Test func stateProductWithUntilAndBackwards() throws {
        let stop = constant(doubles([0, 0, 1, 0, 0], [5]))
        try verifyGrad({ v in
            let (x, u, h0) = (v[0], v[1], v[2])
            let h = try scan(sequences: [ScanSequence(x), ScanSequence(stop)], outputsInfo: [.recurrent(h0)], goBackwards: true) { s in
                ScanStep([try tanh(s[0] + dot(s[2], u))], until: try gt(s[1], 0.5))
            }[0]
            return try sum(h * h)
        }, at: [randomValues([5, 2, 3], seed: 90), randomValues([3, 3], seed: 91), randomValues([2, 3], seed: 92)])
        let x = tensor3("x", dtype: .float64), u = matrix("u", dtype: .float64), h0 = matrix("h0", dtype: .float64)
        let h = try scan(sequences: [ScanSequence(x), ScanSequence(stop)], outputsInfo: [.recurrent(h0)], goBackwards: true) { s in
            ScanStep([try tanh(s[0] + dot(s[2], u))], until: try gt(s[1], 0.5))
        }[0]
        let states = try function(inputs: [x, u, h0], outputs: [h])([randomValues([5, 2, 3], seed: 90), randomValues([3, 3], seed: 91), randomValues([2, 3], seed: 92)])
        #expect(states[0].shape == [3, 2, 3])
    }

    @Test func nestedScan() throws {
        try verifyGrad({ v in
            let (x, w) = (v[0], v[1])
            let rows = try map(sequences: [x]) { row in
                try foldl(sequences: [row[0]], initial: constant(0, dtype: .float64)) { s in try tanh(s[1] * w[0] + s[0]) }
            }
            return try sum(rows)
        }, at: [randomValues([3, 4], seed: 19), randomValues([1], seed: 20)])
    }

    /// Forward mode through loops: a joint loop carries the tangents. (Compared with finite
    /// differences only: the double-pullback comparison would need second derivatives
    /// through the gradient loop.)
    @Test func forwardModeThroughLoops() throws {
        try verifyRop({ v in
            let (x, w, h0) = (v[0], v[1], v[2])
            return try scan(sequences: [ScanSequence(x, taps: [0, 1])], outputsInfo: [.recurrent(h0), .notFedBack]) { s in
                let h = try tanh(dot(s[0] + s[1], w) + s[2])
                return [h, try sum(h * s[0])]
            }[0]
        }, at: [randomValues([5, 3], seed: 25), randomValues([3, 3], seed: 26), randomValues([3], seed: 27)], comparingWithPullbacks: false)
        try verifyRop({ v in
            try foldr(sequences: [v[0]], initial: v[1]) { s in try s[1] * sin(s[0]) + s[0] }
        }, at: [randomValues([4, 2], seed: 28), randomValues([2], seed: 29)], comparingWithPullbacks: false)
    }

    /// The loop and its gradient with their steps compiled to C agree with the reference.
    @Test func nativeStepsMatchTheReference() throws {
        let x = tensor3("x", dtype: .float64), w = matrix("w", dtype: .float64), u = matrix("u", dtype: .float64)
        let h0 = matrix("h0", dtype: .float64)
        let h = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(h0)]) { s in [try tanh(dot(s[0], w) + dot(s[1], u))] }[0]
        let cost = try sum(sqr(h))
        let outputs = [cost] + (try grad(cost, wrt: [x, w, u, h0]))
        let native = try function(inputs: [x, w, u, h0], outputs: outputs, options: CompileOptions(linker: Scratch.linker()))
        let reference = try function(inputs: [x, w, u, h0], outputs: outputs)
        let arguments = [randomValues([5, 4, 3], seed: 21), randomValues([3, 6], seed: 22), randomValues([6, 6], seed: 23), randomValues([4, 6], seed: 24)]
        for (a, b) in zip(try native(arguments), try reference(arguments)) {
            #expect(a.isClose(to: b, rtol: 1e-12, atol: 1e-12))
        }
    }

    /// Steps made of elementwise kernels alone run directly on rows, each result written into
    /// its history: with sequence and output taps, outputs not fed back, a scalar
    /// non-sequence, backwards, and windows of final states — the same values as the reference.
    @Test(arguments: [false, true])
    func elementwiseStepsRunDirectly(backwards: Bool) throws {
        let x = matrix("x", dtype: .float64), y = matrix("y", dtype: .float64), a = scalar("a", dtype: .float64)
        let h0 = vector("h0", dtype: .float64), pair = matrix("pair", dtype: .float64)
        let outputs = try scan(sequences: [ScanSequence(x, taps: [-1, 0]), ScanSequence(y)],
                               outputsInfo: [.recurrent(h0), .recurrent(pair, taps: [-2, -1]), .notFedBack], nonSequences: [a],
                               goBackwards: backwards) { v in
            [try tanh(v[3] + v[1] * v[6]), try v[4] * 0.5 + v[5] - v[0], try v[2] * v[3] + 1.5]
        }
        let inputs = [x, y, a, h0, pair]
        let arguments = [randomValues([7, 5], seed: 50), randomValues([6, 5], seed: 51), randomValues([], seed: 52), randomValues([5], seed: 53), randomValues([2, 5], seed: 54)]
        for results in [Array(outputs), try outputs.map { try $0[-1] }] {
            let native = try function(inputs: inputs, outputs: results, options: CompileOptions(linker: Scratch.linker()))
            let reference = try function(inputs: inputs, outputs: results, options: .unoptimized)
            for (a, b) in zip(try native(arguments), try reference(arguments)) {
                #expect(a.shape == b.shape)
                #expect(a.isClose(to: b, rtol: 1e-12, atol: 1e-12))
            }
            let loop = try #require(native.graph.nodes.lazy.compactMap { $0.op as? Scan }.first)
            #expect(DirectLoopStep(try loop.body.stepExecutor(compiledBy: CompileOptions(linker: Scratch.linker()).innerGraphCompiler)) != nil)
        }
    }

    /// `x_t · W` with `W` given or captured leaves the step: one product over the whole
    /// sequence before the loop, in the loop and in its gradient.
    @Test func sequenceProductsLeaveTheStep() throws {
        let x = tensor3("x", dtype: .float64), w = matrix("w", dtype: .float64), u = matrix("u", dtype: .float64)
        let h0 = matrix("h0", dtype: .float64)
        let h = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(h0)], nonSequences: [w]) { s in
            [try tanh(dot(s[0], s[2]) + dot(s[1], u))]
        }[0]
        let loop = try #require(h.owner?.inputs[0].owner?.op as? Scan)
        #expect(loop.body.step.nodes.filter { $0.op is Dot }.count == 1, "only h·U stays in the step")
        #expect(loop.body.signature.sequenceTaps.count == 2, "x and x·W")
        try verifyGrad({ v in
            try sum(scan(sequences: [ScanSequence(v[0])], outputsInfo: [.recurrent(v[3])]) { s in
                [try tanh(dot(s[0], v[1]) + dot(s[1], v[2]))]
            }[0])
        }, at: [randomValues([4, 2, 3], seed: 30), randomValues([3, 5], seed: 31), randomValues([5, 5], seed: 32), randomValues([2, 5], seed: 33)])
    }

    /// An LSTM's pre-activation is kept for the gradient loop, which then multiplies no
    /// `h_{t-1}·U` again; an Elman step's pullback reads only its result, so nothing is kept;
    /// without a gradient, the kept value is not computed.
    @Test func preactivationsAreKeptForTheGradient() throws {
        let x = tensor3("x", dtype: .float64), w = matrix("w", dtype: .float64), u = matrix("u", dtype: .float64)
        let h0 = matrix("h0", dtype: .float64), c0 = matrix("c0", dtype: .float64)
        let lstm = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(h0), .recurrent(c0)]) { s in
            let z = try dot(s[0], w) + dot(s[1], u)
            let (i, f, o, g) = (try sigmoid(z[.all, 0..<2]), try sigmoid(z[.all, 2..<4]), try sigmoid(z[.all, 4..<6]), try tanh(z[.all, 6..<8]))
            let c = try f * s[2] + i * g
            return [try o * tanh(c), c]
        }
        let lstmLoop = try #require(lstm[0].owner?.inputs[0].owner?.op as? Scan)
        #expect(lstmLoop.body.signature.savedOutputs == 1)
        #expect(lstm.count == 2, "the kept value is not one of the user's outputs")
        let gradientStep = try lstmLoop.body.gradientStep(skipping: SkippedGradients())
        #expect(gradientStep.graph.nodes.filter { $0.op is Dot }.count == 1, "dh = dz·Uᵀ; z is read, and ∂U is one product after the loop")
        #expect(gradientStep.transposed.map(\.nonSequence) == [0], "Uᵀ is made once per run, not read as a transposed view")
        #expect(!gradientStep.graph.nodes.contains { $0.op is DimShuffle && $0.inputs[0] === gradientStep.graph.inputs[lstmLoop.body.step.inputs.count - 1] })
        let inputs = [x, w, u, h0, c0]
        let arguments = [randomValues([4, 2, 3], seed: 60), randomValues([3, 8], seed: 61), randomValues([2, 8], seed: 62), randomValues([2, 2], seed: 63), randomValues([2, 2], seed: 64)]
        let forward = try function(inputs: inputs, outputs: [lstm[0]])
        #expect(forward.graph.nodes.compactMap { ($0.op as? Scan)?.body.signature.savedOutputs }.allSatisfy { $0 == 0 })
        let elman = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(h0)]) { s in [try tanh(dot(s[0], w) + dot(s[1], u))] }[0]
        #expect((elman.owner?.inputs[0].owner?.op as? Scan)?.body.signature.savedOutputs == 0)
        let native = try function(inputs: inputs, outputs: try grad(sum(lstm[0]), wrt: [x, w, u, h0, c0]), options: CompileOptions(linker: Scratch.linker()))
        let reference = try function(inputs: inputs, outputs: try grad(sum(lstm[0]), wrt: [x, w, u, h0, c0]), options: .unoptimized)
        for (a, b) in zip(try native(arguments), try reference(arguments)) { #expect(a.isClose(to: b, rtol: 1e-12, atol: 1e-12)) }
    }

    /// `h_{t-1}·U`'s gradient for `U` is one product of the stacked states and cotangents
    /// after the gradient loop — also when the gradient is truncated, where it equals an
    /// unrolled loop whose early steps are constants.
    @Test func stateProductGradientsAreOneProductAfterTheLoop() throws {
        let x = tensor3("x", dtype: .float64), w = matrix("w", dtype: .float64), u = matrix("u", dtype: .float64)
        let h0 = matrix("h0", dtype: .float64)
        let h = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(h0)], truncateGradient: 2) { s in
            [try tanh(dot(s[0], w) + dot(s[1], u))]
        }[0]
        let loop = try #require(h.owner?.inputs[0].owner?.op as? Scan)
        #expect(loop.body.batchedProducts.map(\.nonSequence).count == 1)
        var state = h0, last: [Variable] = []
        for t in 0..<5 {
            let early = t < 3
            state = try tanh(dot(x[t], early ? disconnectedGrad(w) : w) + dot(early ? disconnectedGrad(state) : state, early ? disconnectedGrad(u) : u))
            if !early { last.append(state) }
        }
        let unrolledCost = try sum(last[0]) + sum(last[1])
        let inputs = [x, w, u, h0]
        let arguments = [randomValues([5, 2, 3], seed: 70), randomValues([3, 4], seed: 71), randomValues([4, 4], seed: 72), randomValues([2, 4], seed: 73)]
        let looped = try function(inputs: inputs, outputs: try grad(sum(h), wrt: [w, u]))(arguments)
        let unrolled = try function(inputs: inputs, outputs: try grad(unrolledCost, wrt: [w, u]))(arguments)
        for (a, b) in zip(looped, unrolled) { #expect(a.isClose(to: b, rtol: 1e-12, atol: 1e-12)) }
    }

    /// A product whose left factor the step computes itself (a GRU's `(r ⊙ h_{t-1})·U`) keeps
    /// that factor as a saved output, and `U`'s gradient is one product after the gradient
    /// loop: the same gradients as the unrolled loop, forwards, backwards and truncated, on
    /// both backends.
    @Test(arguments: [(false, nil), (true, nil), (false, 2)] as [(Bool, Int?)])
    func computedFactorProductGradientsAreOneProductAfterTheLoop(goBackwards: Bool, truncate: Int?) throws {
        let x = tensor3("x", dtype: .float64), w = matrix("w", dtype: .float64), u = matrix("u", dtype: .float64)
        let h0 = matrix("h0", dtype: .float64)
        func step(_ xt: Variable, _ previous: Variable, _ w: Variable, _ u: Variable) throws -> Variable {
            let gate = try sigmoid(dot(xt, w))
            return try tanh(dot(gate * previous, u) + xt[.all, 0..<4])
        }
        let h = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(h0)], goBackwards: goBackwards, truncateGradient: truncate) { s in
            [try step(s[0], s[1], w, u)]
        }[0]
        let loop = try #require(h.owner?.inputs[0].owner?.op as? Scan)
        #expect(loop.body.signature.savedOutputs == 1 && loop.body.batchedProducts.count == 1)
        var state = h0, kept: [Variable] = []
        let order = goBackwards ? Array((0..<5).reversed()) : Array(0..<5)
        for (position, t) in order.enumerated() {
            let early = truncate.map { position < 5 - $0 } ?? false
            func held(_ v: Variable) throws -> Variable { early ? try disconnectedGrad(v) : v }
            state = try step(x[t], held(state), held(w), held(u))
            if !early { kept.append(state) }
        }
        let unrolledCost = try kept.dropFirst().reduce(sum(kept[0])) { try $0 + sum($1) }
        let inputs = [x, w, u, h0]
        let arguments = [randomValues([5, 2, 4], seed: 80), randomValues([4, 4], seed: 81), randomValues([4, 4], seed: 82), randomValues([2, 4], seed: 83)]
        let unrolled = try function(inputs: inputs, outputs: try grad(unrolledCost, wrt: [w, u, h0], disconnected: .zero))(arguments)
        for options in [CompileOptions.default, CompileOptions(linker: Scratch.linker())] {
            let looped = try function(inputs: inputs, outputs: try grad(sum(h), wrt: [w, u, h0], disconnected: .zero), options: options)(arguments)
            for (a, b) in zip(looped, unrolled) { #expect(a.isClose(to: b, rtol: 1e-12, atol: 1e-12)) }
        }
    }

    /// Elementwise work on a sequence's elements and invariant values follows the products out
    /// of the step, and work on non-sequences alone (`2·Uᵀ`) is done once, before the loop.
    @Test func invariantWorkLeavesTheStep() throws {
        let x = matrix("x", dtype: .float64), w = matrix("w", dtype: .float64), b = vector("b", dtype: .float64)
        let u = matrix("u", dtype: .float64), h0 = vector("h0", dtype: .float64)
        func cell(_ x: Variable, _ h: Variable, _ w: Variable, _ b: Variable, _ u: Variable) throws -> Variable {
            try tanh(tanh(dot(x, w) + b) + dot(h, u.T * 2))
        }
        let h = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(h0)], nonSequences: [w, b, u]) { s in
            [try cell(s[0], s[1], s[2], s[3], s[4])]
        }[0]
        let loop = try #require(h.owner?.inputs[0].owner?.op as? Scan)
        #expect(loop.body.step.nodes.map { "\($0.op)" }.sorted() == ["add", "dot", "tanh"], "\(loop.body.step.nodes.map(\.op))")
        var unrolled = h0
        for t in 0..<4 { unrolled = try cell(x[t], unrolled, w, b, u) }
        let arguments = [randomValues([4, 3], seed: 40), randomValues([3, 5], seed: 41), randomValues([5], seed: 42), randomValues([5, 5], seed: 43), randomValues([5], seed: 44)]
        let values = try evaluate([x, w, b, u, h0], [h[-1], unrolled], arguments)
        #expect(zip(values[0], values[1]).allSatisfy { abs($0 - $1) < 1e-12 })
        try verifyGrad({ v in
            try sum(scan(sequences: [ScanSequence(v[0])], outputsInfo: [.recurrent(v[4])], nonSequences: [v[1], v[2], v[3]]) { s in
                [try cell(s[0], s[1], s[2], s[3], s[4])]
            }[0])
        }, at: arguments)
    }

    /// With `truncateGradient: 1`, only the last step sends gradients back: the first
    /// elements of the sequence and the initial state get none.
    @Test func truncatedGradient() throws {
        let x = vector("x", dtype: .float64), h0 = scalar("h0", dtype: .float64), w = scalar("w", dtype: .float64)
        let h = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(h0)], truncateGradient: 1) { s in
            [try s[1] * w + s[0]]
        }[0]
        let cost = try h[-1]
        let gradients = try function(inputs: [x, h0, w], outputs: try grad(cost, wrt: [x, h0, w]))(
            [doubles([1, 2, 3], [3]), NDArray(scalar: 5, dtype: .float64), NDArray(scalar: 2, dtype: .float64)])
        #expect(gradients[0].elements(as: Double.self) == [0, 0, 1])
        #expect(gradients[1].elements(as: Double.self) == [0])
        // The last step's h_{t-1}: 5·2·2 + 1·2 + 2 = 24.
        #expect(gradients[2].elements(as: Double.self) == [24])
    }
}

@Suite("Scan: bad input")
struct ScanErrorTests {
    @Test func stepReturningTheWrongNumberOfOutputs() {
        let x = vector("x"), h0 = scalar("h0")
        expectFailure(mentioning: ["scan", "returns 2 outputs", "describes 1", here(#line + 1)]) {
            _ = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(h0)]) { v in [v[0], v[1]] }
        }
    }

    @Test func stepReturningTheWrongType() {
        let x = vector("x", dtype: .float64), h0 = scalar("h0")
        expectFailure(mentioning: ["scan", "float64[]", "fed back as float32[]", here(#line + 1)]) {
            _ = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(h0)]) { v in [try v[0] + 1] }
        }
    }

    @Test func initialValueWithTooFewRows() {
        let initial = matrix("initial", shape: (1, 3))
        expectFailure(mentioning: ["scan", "needs 2 rows", here(#line + 1)]) {
            _ = try scan(outputsInfo: [.recurrent(initial, taps: [-2, -1])], nSteps: constant(3, dtype: .int64)) { v in [try v[0] + v[1]] }
        }
    }

    @Test func sequencesOfDifferentLengths() throws {
        let x = vector("x"), y = vector("y")
        let z = try scan(sequences: [ScanSequence(x), ScanSequence(y)], outputsInfo: [.notFedBack], name: "pairs") { v in [try v[0] * v[1]] }[0]
        let f = try function(inputs: [x, y], outputs: [z])
        expectFailure(mentioning: ["scan{pairs}", "3 elements", "4 elements", "nSteps", here(#line - 2)]) {
            _ = try f([NDArray([1, 2, 3] as [Float]), NDArray([1, 2, 3, 4] as [Float])])
        }
    }

    @Test func negativeStepCount() throws {
        let n = scalar("n", dtype: .int64), h0 = scalar("h0")
        let h = try scan(outputsInfo: [.recurrent(h0)], nSteps: n, name: "countdown") { v in [try v[0] - 1] }[0]
        let f = try function(inputs: [n, h0], outputs: [h])
        expectFailure(mentioning: ["scan{countdown}", "nSteps is -2", here(#line - 2)]) {
            _ = try f([NDArray(scalar: Int64(-2)), NDArray(scalar: 1, dtype: .float32)])
        }
    }
}

@Suite("Scan: printing")
struct ScanPrintingTests {
    @Test func debugprintShowsTheStepGraph() throws {
        let x = matrix("x"), h0 = vector("h0"), w = matrix("w")
        let h = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(h0)], name: "rnn") { v in [try tanh(v[0] + dot(v[1], w))] }[0]
        #expect(debugprint([h]) == """
            subtensor[1:] [id A] float32[?, ?]
             └─ scan{rnn} [id B] float32[?, ?]
                 ├─ x [id C] float32[?, ?]
                 ├─ h0 [id D] float32[?]
                 └─ w [id E] float32[?, ?]

            Inner graphs:

            scan{rnn} [id B]
             > tanh [id F] float32[?]
                └─ add [id G] float32[?]
                    ├─ x[t] [id H] float32[?]
                    └─ dot [id I] float32[?]
                        ├─ h0[t-1] [id J] float32[?]
                        └─ w [id K] float32[?, ?]
            """)
    }
}
