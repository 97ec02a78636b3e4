import Foundation
import Synchronization
import Testing
import TheanoTestSupport
@testable import Theano
@testable import TheanoCore
@testable import TheanoOps

// Random streams: the generator against its published answers, every draw bit for bit alike
// on both backends, the distributions by goodness-of-fit tests at fixed seeds (so the tests
// are repeatable, not flaky), and Theano's semantics of streams in compiled functions.

/// The largest distance between the empirical distribution of `samples` and `cdf`
/// (Kolmogorov–Smirnov).
private func ksDistance(_ samples: [Double], cdf: (Double) -> Double) -> Double {
    let sorted = samples.sorted(), n = Double(sorted.count)
    return sorted.enumerated().map { i, x in Swift.max(abs(Double(i + 1) / n - cdf(x)), abs(cdf(x) - Double(i) / n)) }.max()!
}

/// Pearson's statistic of `counts` against `probabilities` (one per category).
private func chiSquare(_ counts: [Int], _ probabilities: [Double]) -> Double {
    let n = Double(counts.reduce(0, +))
    return zip(counts, probabilities).map { count, p in (Double(count) - n * p) * (Double(count) - n * p) / (n * p) }.reduce(0, +)
}

/// The probability of `k` successes in `n` trials of probability `p`.
private func binomialProbability(_ n: Int, _ k: Int, _ p: Double) -> Double {
    let ways = (0..<k).reduce(1.0) { product, i in product * Double(n - i) / Double(i + 1) }
    return ways * Foundation.pow(p, Double(k)) * Foundation.pow(1 - p, Double(n - k))
}

/// The standard normal's distribution function.
private func normalCDF(_ x: Double) -> Double { 0.5 * erfc(-x / 2.squareRoot()) }

/// The values of `x` from one call of a function with no inputs.
private func draw(_ x: Variable, options: CompileOptions = .default) throws -> [Double] {
    try function(inputs: [], outputs: [x], options: options)([])[0].elements(as: Double.self)
}

@Suite("Random streams")
struct RandomStreamTests {
    /// Philox4x32-10 gives the answers its authors publish (Random123's known-answer tests).
    @Test func philoxMatchesItsKnownAnswers() {
        let cases: [((UInt32, UInt32, UInt32, UInt32), (UInt32, UInt32), [UInt32])] = [
            ((0, 0, 0, 0), (0, 0), [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]),
            ((.max, .max, .max, .max), (.max, .max), [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]),
            ((0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344), (0xa409_3822, 0x299f_31d0), [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1]),
        ]
        for (counter, key, expected) in cases {
            let bits = Philox.block(counter: counter, key: key)
            #expect([bits.0, bits.1, bits.2, bits.3] == expected)
        }
    }

    /// The logarithm and cosine float32 normal draws compute without the C library are within
    /// 2 ulp of the exact values on inputs draws make (every 97th of the 2²⁴).
    @Test func portableLogarithmAndCosineAreAccurate() {
        for m in stride(from: 0, to: 1 << 24, by: 97) {
            let u = Float(m + 1) * 0x1p-24, v = Float(m) * 0x1p-24
            let log = Double(portableLog(u)), exact = Foundation.log(Double(u))
            #expect(abs(log - exact) <= 2.5e-7 * Swift.max(abs(exact), 1e-7) + 1e-12, "log(\(u))")
            #expect(abs(Double(portableCos2Pi(v)) - Foundation.cos(2 * Double.pi * Double(v))) <= 2.5e-7, "cos(2π·\(v))")
        }
    }

    /// Each draw of every distribution and dtype: the C kernel, its work split across cores
    /// or not, computes exactly the reference's bits.
    @Test(arguments: (RandomDrawCases.all + FusedDrawCases.all).map(\.name))
    func nativeDrawsAreTheReferencesBitForBit(_ name: String) throws {
        let drawCase = try #require((RandomDrawCases.all + FusedDrawCases.all).first { $0.name == name })
        let outputs = try drawCase.build()
        // Neither call advances the stream, so both draw call 0.
        let reference = try function(inputs: [], outputs: outputs, noDefaultUpdates: true)([])
        let native = try function(inputs: [], outputs: outputs, options: CompileOptions(linker: Scratch.linker()), noDefaultUpdates: true)
        #expect(native.compiledNodes == native.graph.nodes.count && native.linkWarnings.isEmpty, "every node runs natively")
        for (a, b) in zip(reference, try native([])) {
            #expect(a.shape == b.shape && a.elements(as: Double.self).map(\.bitPattern) == b.elements(as: Double.self).map(\.bitPattern))
        }
    }

    /// The optimizer moves the elementwise work that reads a draw into the draw's loop, and
    /// the values stay those of the unfused graph, bit for bit, on both backends; a draw read
    /// twice, or with an operand of another shape, stays as it is.
    @Test(arguments: Backend.allCases)
    func drawsFuseWithTheirConsumers(backend: Backend) throws {
        let x = matrix("x", dtype: .float32), v = vector("v", dtype: .float32)
        let point = NDArray((0..<(40 * 17)).map { Float($0) / 7 }, shape: [40, 17]), row = NDArray((0..<17).map(Float.init))
        let streams = RandomStreams(seed: 3)
        let masked = try dropout(x, rate: 0.3, streams: streams)
        let u = try streams.uniform(shape: .like(x))
        let broadcast = try u * v
        let twice = try streams.normal(shape: [5])
        let outputs = [masked, broadcast, try twice * 2, try exp(twice)]
        var options = backend.options
        let fused = try function(inputs: [x, v], outputs: outputs, options: options, noDefaultUpdates: true)
        #expect(fused.graph.nodes.filter { $0.op is FusedDraw }.count == 1, "only the dropout fuses")
        options.excluding.insert("draw_fusion")
        let unfused = try function(inputs: [x, v], outputs: outputs, options: options, noDefaultUpdates: true)
        #expect(!unfused.graph.nodes.contains { $0.op is FusedDraw })
        for (a, b) in zip(try fused(point, row), try unfused(point, row)) {
            #expect(a.elements(as: Double.self).map(\.bitPattern) == b.elements(as: Double.self).map(\.bitPattern))
        }
    }

    /// An element's value depends on its position alone: a small draw is the start of a large
    /// one made with the same seed and draw number.
    @Test func elementsDependOnTheirPositionOnly() throws {
        let small = try draw(RandomStreams(seed: 5).normal(shape: [10], dtype: .float32), options: CompileOptions(linker: Scratch.linker()))
        let large = try draw(RandomStreams(seed: 5).normal(shape: [400, 1000], dtype: .float32), options: CompileOptions(linker: Scratch.linker()))
        #expect(Array(large.prefix(10)) == small)
    }

    /// Uniform and normal draws pass a Kolmogorov–Smirnov test at the 1% level.
    @Test(arguments: [DType.float32, .float64])
    func uniformAndNormalDrawsFitTheirDistributions(dtype: DType) throws {
        let streams = RandomStreams(seed: 2024), n = 20_000, critical = 1.63 / Double(n).squareRoot()
        let u = try draw(streams.uniform(shape: [n], low: -1, high: 3, dtype: dtype))
        #expect(ksDistance(u) { Swift.min(Swift.max(($0 + 1) / 4, 0), 1) } < critical)
        let z = try draw(streams.normal(shape: [n], mean: 2, std: 0.5, dtype: dtype))
        #expect(ksDistance(z) { normalCDF(($0 - 2) / 0.5) } < critical)
        #expect(u.allSatisfy { $0 >= -1 && $0 < 3 })
        let e = try draw(streams.exponential(shape: [n], rate: 2, dtype: dtype))
        #expect(ksDistance(e) { 1 - Foundation.exp(-2 * Swift.max($0, 0)) } < critical)
        let g = try draw(streams.gumbel(shape: [n], dtype: dtype))
        #expect(ksDistance(g) { Foundation.exp(-Foundation.exp(-$0)) } < critical)
    }

    /// Truncated normal draws stay within their bounds and pass a Kolmogorov–Smirnov test
    /// at the 1% level against the truncated distribution, on both backends.
    @Test(arguments: Backend.allCases)
    func truncatedNormalDrawsFitTheirDistribution(backend: Backend) throws {
        let streams = RandomStreams(seed: 77), n = 20_000, critical = 1.63 / Double(n).squareRoot()
        for (low, high, dtype) in [(-2.0, 2.0, DType.float32), (-1, 3, .float64), (0.5, 4, .float64)] {
            let z = try draw(streams.truncatedNormal(shape: [n], mean: 1, std: 2, low: low, high: high, dtype: dtype), options: backend.options)
            let (lower, upper) = (normalCDF(low), normalCDF(high))
            #expect(z.allSatisfy { $0 >= 1 + 2 * low && $0 <= 1 + 2 * high }, "\(low)...\(high)")
            #expect(ksDistance(z) { (normalCDF(($0 - 1) / 2) - lower) / (upper - lower) } < critical, "\(low)...\(high)")
        }
        #expect(throws: TheanoError.self) { try streams.truncatedNormal(shape: [3], low: 1, high: 1) }
    }

    /// A permutation holds each position once, and all orders are equally likely (chi-square
    /// at 1%, 5 degrees of freedom); `permutation(of:)` reorders rows.
    @Test func permutationsAreUniform() throws {
        let streams = RandomStreams(seed: 5)
        let f = try function(inputs: [], outputs: [streams.permutation(3)])
        var counts: [[Int64]: Int] = [:]
        for _ in 0..<1200 { counts[try f([])[0].elements(as: Int64.self), default: 0] += 1 }
        #expect(counts.keys.allSatisfy { $0.sorted() == [0, 1, 2] } && counts.count == 6)
        #expect(chiSquare(Array(counts.values), Array(repeating: 1.0 / 6, count: 6)) < 15.09)
        let rows = matrix("rows", dtype: .float64)
        let shuffled = try function(inputs: [rows], outputs: [streams.permutation(of: rows)])(NDArray((0..<10).map(Double.init), shape: [5, 2]))[0]
        let pairs = shuffled.elements(as: Double.self)
        #expect(stride(from: 0, to: 10, by: 2).allSatisfy { pairs[$0 + 1] == pairs[$0] + 1 && pairs[$0].truncatingRemainder(dividingBy: 2) == 0 })
        #expect(Set(pairs) == Set((0..<10).map(Double.init)))
        #expect(try draw(streams.permutation(0)).isEmpty)
    }

    /// Choices with replacement fit their probabilities; without replacement they are
    /// distinct and each ordered pair has probability `p_i p_j / (1 − p_i)` (chi-square at 1%).
    @Test func choicesFitTheirProbabilities() throws {
        let streams = RandomStreams(seed: 8), p = constant(NDArray([0.5, 0.3, 0.2] as [Double]))
        let drawn = try draw(streams.choice(3, count: 30_000, p: p))
        #expect(chiSquare((0..<3).map { k in drawn.count { $0 == Double(k) } }, [0.5, 0.3, 0.2]) < 9.21)
        let uniform = try draw(streams.choice(4, count: 20_000))
        #expect(chiSquare((0..<4).map { k in uniform.count { $0 == Double(k) } }, Array(repeating: 0.25, count: 4)) < 11.34)
        let f = try function(inputs: [], outputs: [streams.choice(3, count: 2, replace: false, p: p)])
        var pairs: [[Int64]: Int] = [:]
        for _ in 0..<2000 { pairs[try f([])[0].elements(as: Int64.self), default: 0] += 1 }
        let probabilities = [0.5, 0.3, 0.2]
        let orders = pairs.keys.sorted { $0.lexicographicallyPrecedes($1) }
        #expect(orders.count == 6 && orders.allSatisfy { $0[0] != $0[1] })
        let expected = orders.map { probabilities[Int($0[0])] * probabilities[Int($0[1])] / (1 - probabilities[Int($0[0])]) }
        #expect(chiSquare(orders.map { pairs[$0]! }, expected) < 15.09)
        let all = try draw(streams.choice(10, count: 10, replace: false))
        #expect(all.sorted() == (0..<10).map(Double.init))
        #expect(throws: TheanoError.self) { try streams.choice(3, count: 4, replace: false) }
        #expect(throws: TheanoError.self) { try streams.choice(3, count: 2, p: constant(NDArray([0.5, 0.5] as [Double]))) }
    }

    /// Discrete draws pass a chi-square test at the 1% level.
    @Test func discreteDrawsFitTheirDistributions() throws {
        let streams = RandomStreams(seed: 99), n = 30_000
        let b = try draw(streams.bernoulli(shape: [n], p: 0.3))
        let ones = b.count { $0 == 1 }
        #expect(b.allSatisfy { $0 == 0 || $0 == 1 })
        #expect(chiSquare([n - ones, ones], [0.7, 0.3]) < 6.63)   // 1 degree of freedom
        let k = try draw(streams.integers(shape: [n], low: -2, high: 4))
        #expect(chiSquare((-2..<4).map { value in k.count { $0 == Double(value) } }, Array(repeating: 1.0 / 6, count: 6)) < 15.09)
        let logits = constant(NDArray([0, 1, 2, -1] as [Double], shape: [1, 4]))
        let c = try draw(streams.categorical(logits: try alloc(logits, shape: [n, 4])))
        let weights = [0.0, 1, 2, -1].map { Foundation.exp($0) }, total = weights.reduce(0, +)
        #expect(chiSquare((0..<4).map { category in c.count { $0 == Double(category) } }, weights.map { $0 / total }) < 11.34)
        let s = try draw(streams.binomial(shape: [n], n: 5, p: 0.4))
        #expect(chiSquare((0...5).map { j in s.count { $0 == Double(j) } }, (0...5).map { binomialProbability(5, $0, 0.4) }) < 15.09)
    }

    /// Multinomial counts: each row's counts sum to `n`, and all rows together fit the
    /// probabilities (chi-square at 1 %); a category of probability zero is never drawn.
    @Test func multinomialCountsFitTheirProbabilities() throws {
        let streams = RandomStreams(seed: 31), rows = 4_000
        let pvals = try alloc(constant(NDArray([0.2, 0.5, 0.3, 0] as [Double], shape: [1, 4])), shape: [rows, 4])
        let counts = try function(inputs: [], outputs: [streams.multinomial(n: 10, pvals: pvals)])([])[0]
        #expect(counts.shape == [rows, 4] && counts.dtype == .int64)
        let values = counts.elements(as: Int64.self)
        #expect((0..<rows).allSatisfy { row in values[(4 * row)..<(4 * row + 4)].reduce(0, +) == 10 })
        let totals = (0..<4).map { category in stride(from: category, to: values.count, by: 4).map { Int(values[$0]) }.reduce(0, +) }
        #expect(totals[3] == 0)
        #expect(chiSquare(Array(totals.prefix(3)), [0.2, 0.5, 0.3]) < 9.21)   // 2 degrees of freedom
        #expect(throws: TheanoError.self) { try streams.multinomial(n: 3, pvals: matrix("p", dtype: .float64)) }
    }

    /// A compiled function that draws advances the stream after each call; `seed(_:)` starts
    /// it over; a stream of the same seed built again draws the same numbers; a function
    /// compiled with `noDefaultUpdates` draws the same numbers every call.
    @Test(arguments: Backend.allCases)
    func callsAdvanceTheStreamAndSeedsRepeatIt(backend: Backend) throws {
        let streams = RandomStreams(seed: 7)
        let f = try backend.compile(inputs: [], outputs: [streams.uniform(shape: [4])])
        let first = try f([])[0], second = try f([])[0]
        #expect(first != second)
        #expect(streams.state.value.elements(as: Int64.self) == [7, 2])
        streams.seed(7)
        #expect(try f([])[0] == first)
        let again = RandomStreams(seed: 7)
        #expect(try backend.compile(inputs: [], outputs: [again.uniform(shape: [4])])([])[0] == first)
        let fixed = try function(inputs: [], outputs: [streams.uniform(shape: [4])], options: backend.options, noDefaultUpdates: true)
        #expect(try fixed([])[0] == (try fixed([])[0]))
    }

    /// Two draws that look the same are two draws: merging keeps both, and their values differ;
    /// a draw nothing reads is not computed.
    @Test(arguments: Backend.allCases)
    func identicalLookingDrawsAreIndependent(backend: Backend) throws {
        let streams = RandomStreams(seed: 3)
        let a = try streams.uniform(shape: [8]), b = try streams.uniform(shape: [8])
        _ = try streams.normal(shape: [1000])
        let f = try backend.compile(inputs: [], outputs: [a, b])
        let values = try f([])
        #expect(values[0] != values[1])
        #expect(f.graph.nodes.count { $0.op is RandomDraw } == 2)
    }

    /// Gradients reach the parameters of reparameterized draws: `mean` and `std` of a normal
    /// draw, `low` and `high` of a uniform one (the stream held still, so finite differences
    /// see the same noise).
    @Test func reparameterizedDrawsHaveGradients() throws {
        let streams = RandomStreams(seed: 11)
        streams.state.defaultUpdate = nil
        try verifyGrad({ p in try sum(sqr(streams.normal(shape: [6], mean: p[0], std: p[1], dtype: .float64))) },
                       at: [NDArray([0.5, -1, 2, 0, 1, 3] as [Double]), NDArray(scalar: 1.5)])
        try verifyGrad({ p in try sum(exp(streams.uniform(shape: [2, 3], low: p[0], high: p[1], dtype: .float64))) },
                       at: [NDArray(scalar: -0.5), NDArray([1, 2, 3] as [Double])])
    }

    /// Dropout keeps about `1 - rate` of the elements, scaled so the mean is unchanged, with
    /// a new mask per call; at test time it is the identity.
    @Test(arguments: Backend.allCases)
    func dropoutKeepsTheMean(backend: Backend) throws {
        let x = matrix("x", dtype: .float64), streams = RandomStreams(seed: 17)
        let f = try backend.compile(inputs: [x], outputs: [dropout(x, rate: 0.25, streams: streams)])
        let ones = NDArray([Double](repeating: 1, count: 20_000), shape: [200, 100])
        let first = try f(ones)[0].elements(as: Double.self), second = try f(ones)[0].elements(as: Double.self)
        #expect(first != second)
        #expect(first.allSatisfy { $0 == 0 || abs($0 - 4.0 / 3) < 1e-12 })
        let kept = Double(first.count { $0 != 0 }) / Double(first.count)
        #expect(abs(kept - 0.75) < 0.02)
        #expect(try dropout(x, rate: 0.25, streams: streams, training: false) === x)
        #expect(throws: TheanoError.self) { try dropout(x, rate: 1, streams: streams) }
    }

    /// Empty draws are empty on both backends; a negative symbolic size is an error when
    /// the function runs.
    @Test(arguments: Backend.allCases)
    func emptyAndNegativeSizes(backend: Backend) throws {
        let n = scalar("n", dtype: .int64), streams = RandomStreams(seed: 4)
        let f = try backend.compile(inputs: [n], outputs: [streams.normal(shape: .sizes([n, constant(NDArray(scalar: Int64(3)))]), dtype: .float64)])
        #expect(try f(NDArray(scalar: Int64(0)))[0].shape == [0, 3])
        #expect(try f(NDArray(scalar: Int64(2)))[0].shape == [2, 3])
        #expect(throws: (any Error).self) { try f(NDArray(scalar: Int64(-1))) }
    }

    /// Forward mode passes through draws: the tangent of `mean + std·z` with respect to the
    /// mean is the mean's tangent.
    @Test func forwardModeThroughADraw() throws {
        let streams = RandomStreams(seed: 8), mean = vector("mean", dtype: .float64), v = vector("v", dtype: .float64)
        let tangent = try Rop([streams.normal(shape: [3], mean: mean, std: 2.0, dtype: .float64)], wrt: [mean], evalPoints: [v])[0]
        let point = NDArray([1, 2, 3] as [Double]), direction = NDArray([0.5, -1, 4] as [Double])
        #expect(try function(inputs: [mean, v], outputs: [tangent])(point, direction)[0] == direction)
    }

    /// Calls from several threads at once take turns advancing the stream: every call
    /// draws a different call number, so no two calls return the same numbers.
    @Test(arguments: Backend.allCases)
    func concurrentCallsDrawDistinctNumbers(backend: Backend) throws {
        let streams = RandomStreams(seed: 9)
        let f = try backend.compile(inputs: [], outputs: [streams.uniform(shape: [16], dtype: .float64)])
        let draws = Mutex<[[Double]]>([])
        DispatchQueue.concurrentPerform(iterations: 40) { _ in
            let values = (try? f([])[0].elements(as: Double.self)) ?? []
            draws.withLock { $0.append(values) }
        }
        let all = draws.withLock { $0 }
        #expect(Set(all).count == 40 && all.allSatisfy { $0.count == 16 })
        #expect(streams.state.value.elements(as: Int64.self) == [9, 40])
    }

    /// Stochastic binary units are 0 or 1 with probability `σ(a)`, and pass gradients on as
    /// their estimator says: unchanged (straight through), or times `σ′(a)`.
    @Test func stochasticBinaryUnitsEstimateTheirGradients() throws {
        let a = vector("a", dtype: .float64), streams = RandomStreams(seed: 13)
        let point = NDArray([-2, -0.5, 0, 0.5, 2] as [Double])
        let sigma = point.elements(as: Double.self).map { 1 / (1 + Foundation.exp(-$0)) }
        for (estimator, expected) in [(StochasticBinaryEstimator.straightThrough, sigma.map { _ in 1.0 }),
                                      (.straightThroughSigmoid, sigma.map { $0 * (1 - $0) })] {
            let h = try stochasticBinary(a, streams: streams, estimator: estimator)
            let f = try function(inputs: [a], outputs: [h, try grad(sum(h), wrt: [a])[0]])
            let results = try f(point)
            #expect(results[0].elements(as: Double.self).allSatisfy { $0 == 0 || $0 == 1 })
            #expect(zip(results[1].elements(as: Double.self), expected).allSatisfy { abs($0 - $1) < 1e-12 })
        }
        let many = try function(inputs: [a], outputs: [stochasticBinary(a, streams: streams)])
        let ones = try many(NDArray([Double](repeating: 1, count: 20_000)))[0].elements(as: Double.self).count { $0 == 1 }
        let p = 1 / (1 + Foundation.exp(-1.0))
        #expect(chiSquare([20_000 - ones, ones], [1 - p, p]) < 6.63)
    }

    /// Bad arguments are errors that name the call.
    @Test func badArgumentsThrow() {
        let streams = RandomStreams(seed: 0)
        #expect(throws: TheanoError.self) { try streams.uniform(shape: [3], dtype: .int32) }
        #expect(throws: TheanoError.self) { try streams.integers(shape: [3], low: 2, high: 2) }
        #expect(throws: TheanoError.self) { try streams.binomial(shape: [3], n: -1, p: 0.5) }
        #expect(throws: TheanoError.self) { try streams.categorical(logits: vector("v", dtype: .int64)) }
    }
}

@Suite("Random streams in loops")
struct RandomStreamLoopTests {
    /// A draw inside a loop's step is new at every step: the step updates the stream's
    /// state as the function would after a call, and the loop returns the last state as an
    /// update, as Theano's scan does. Both backends draw the same bits.
    @Test func drawsInsideALoopAreNewAtEveryStep() throws {
        let streams = RandomStreams(seed: 21)
        let loop = try scan(outputsInfo: [.notFedBack], nSteps: constant(NDArray(scalar: Int64(5)))) { _ in
            [try streams.uniform(shape: [3], dtype: .float64)]
        }
        #expect(loop.updates[streams.state] != nil)
        var results: [NDArray] = []
        for backend in Backend.allCases {
            streams.seed(21)
            let f = try function(inputs: [], outputs: [loop[0]], updates: loop.updates, options: backend.options)
            let first = try f([])[0], second = try f([])[0]
            #expect(streams.state.value.elements(as: Int64.self) == [21, 10])
            let rows = (0..<5).map { first.indexed(axis: 0, at: $0) } + (0..<5).map { second.indexed(axis: 0, at: $0) }
            #expect(Set(rows.map { $0.elements(as: Double.self) }).count == 10, "every step of every call draws anew")
            results.append(first)
        }
        #expect(results[0].elements(as: Double.self).map(\.bitPattern) == results[1].elements(as: Double.self).map(\.bitPattern))
    }

    /// A function given the loop's outputs but not its updates still moves the stream to
    /// the loop's final state (rather than one call ahead, which would let the next call's
    /// steps repeat this call's draws); `noDefaultUpdates` leaves it alone.
    @Test func aLoopsStreamAdvancesWithoutItsUpdates() throws {
        let streams = RandomStreams(seed: 22)
        let loop = try scan(outputsInfo: [.notFedBack], nSteps: constant(NDArray(scalar: Int64(4)))) { _ in
            [try streams.uniform(shape: [2], dtype: .float64)]
        }
        let outside = try streams.uniform(shape: [2], dtype: .float64)
        for backend in Backend.allCases {
            streams.seed(22)
            let f = try function(inputs: [], outputs: [loop[0], outside], options: backend.options)
            let first = try f([]), second = try f([])
            #expect(streams.state.value.elements(as: Int64.self) == [22, 8])
            let rows = [first, second].flatMap { call in (0..<4).map { call[0].indexed(axis: 0, at: $0).elements(as: Double.self) } }
            #expect(Set(rows).count == 8 && first[1].elements(as: Double.self) != second[1].elements(as: Double.self))
            let still = try function(inputs: [], outputs: [loop[0]], options: backend.options, noDefaultUpdates: true)
            _ = try still([])
            #expect(streams.state.value.elements(as: Int64.self) == [22, 8])
        }
    }
}
