import Foundation
import Testing
@testable import Theano
@testable import TheanoCore
@testable import TheanoOps

// The gradient estimators for stochastic units: each against the exact gradient of the
// expected loss it estimates, at fixed seeds and with tolerances of several standard errors.

private func logistic(_ a: Double) -> Double { 1 / (1 + Foundation.exp(-a)) }

@Suite("Stochastic neurons")
struct StochasticNeuronTests {
    /// With the loss `L_i = Σ_j c_j h_ij`, `∂E[L]/∂a_j = c_j σ′(a_j)`; the score-function
    /// estimate averaged over a large batch matches it, with each baseline, on both backends.
    @Test(arguments: Backend.allCases) func scoreFunctionEstimateIsUnbiased(backend: Backend) throws {
        let a = vector("a", dtype: .float64), ones = matrix("ones", dtype: .float64)
        let coefficients = [1.0, -2.0, 0.5], point = [-1.0, 0.3, 1.5], batch = 60_000
        let expected = zip(coefficients, point).map { c, a in c * logistic(a) * (1 - logistic(a)) }
        let learned = vector("b", dtype: .float64)
        for (baseline, isLearned) in [(ScoreFunctionBaseline.none, false), (.movingAverage(decay: 0.5), false), (.learned(learned), true)] {
            let sample = try binarySample(ones * a, streams: RandomStreams(seed: 3))
            let loss = try sum(sample.value * constant(NDArray(coefficients)), axis: 1)
            let surrogate = try scoreFunctionSurrogate(loss: loss, samples: [sample], baseline: baseline)
            let inputs = [a, ones] + (isLearned ? [learned] : [])
            let f = try function(inputs: inputs, outputs: grad(surrogate.cost, wrt: [a]), updates: surrogate.updates, options: backend.options)
            let arguments = [NDArray(point), NDArray([Double](repeating: 1, count: batch * 3), shape: [batch, 3])]
                + (isLearned ? [NDArray([Double](repeating: 0.2, count: batch))] : [])
            _ = try f(arguments)  // the moving average starts from the first call's loss
            let estimate = try f(arguments)[0].elements(as: Double.self)
            // Each term is at most 3.5 in magnitude: the standard error is below 0.015.
            #expect(zip(estimate, expected).allSatisfy { abs($0 - $1) < 0.05 }, "\(baseline): \(estimate) vs \(expected)")
        }
    }

    /// The moving-average baseline follows the mean loss; the learned one is pulled toward it.
    @Test func baselinesFollowTheLoss() throws {
        let a = matrix("a", dtype: .float64), prediction = vector("b", dtype: .float64)
        let sample = try binarySample(a, streams: RandomStreams(seed: 4))
        let loss = try sum(sample.value, axis: 1)
        let average = try scoreFunctionSurrogate(loss: loss, samples: [sample], baseline: .movingAverage(decay: 0.9))
        let f = try function(inputs: [a], outputs: [mean(loss)], updates: average.updates)
        let zeros = NDArray([Double](repeating: 0, count: 4000), shape: [1000, 4])
        var state = 0.0
        for _ in 0..<3 {
            let observed = try f(zeros)[0].scalar(as: Double.self)
            state = 0.9 * state + 0.1 * observed
            #expect(abs(try average.baselineState!.value.scalar(as: Double.self) - state) < 1e-12)
        }
        let learned = try scoreFunctionSurrogate(loss: loss, samples: [sample], baseline: .learned(prediction))
        let g = try function(inputs: [a, prediction], outputs: [mean(loss), grad(learned.cost, wrt: [prediction])[0]])
        let results = try g(zeros, NDArray([Double](repeating: 5, count: 1000)))
        // d/db mean((L − b)²) = −2 (L − b) / n: positive where the prediction is too high.
        #expect(results[1].elements(as: Double.self).allSatisfy { $0 > 0 })
        #expect(throws: TheanoError.self) { try scoreFunctionSurrogate(loss: mean(loss), samples: [sample]) }
        #expect(throws: TheanoError.self) { try scoreFunctionSurrogate(loss: loss, samples: []) }
    }

    /// Stochastic-times-smooth units are 0 or `√σ(a)`, average `σ(a)`, and pass the gradient
    /// of the smooth factor where the binary one is 1.
    @Test(arguments: Backend.allCases) func stochasticTimesSmoothUnits(backend: Backend) throws {
        let a = vector("a", dtype: .float64)
        let h = try stochasticTimesSmooth(a, streams: RandomStreams(seed: 5))
        let f = try function(inputs: [a], outputs: [h, grad(sum(h), wrt: [a])[0]], options: backend.options)
        let n = 40_000, value = 0.4
        let results = try f(NDArray([Double](repeating: value, count: n)))
        let smooth = logistic(value).squareRoot(), slope = 0.5 * smooth * (1 - logistic(value))
        let outputs = results[0].elements(as: Double.self), gradients = results[1].elements(as: Double.self)
        #expect(zip(outputs, gradients).allSatisfy { h, g in (h == 0 && g == 0) || (abs(h - smooth) < 1e-12 && abs(g - slope) < 1e-12) })
        // σ(0.4) ≈ 0.599 with standard error 0.0025 over 40,000 units.
        #expect(abs(outputs.reduce(0, +) / Double(n) - logistic(value)) < 0.015)
    }

    /// Injected noise has the requested spread, the gradient of the clean path, and is
    /// absent when not training.
    @Test(arguments: Backend.allCases) func noiseInjection(backend: Backend) throws {
        let x = vector("x", dtype: .float64), streams = RandomStreams(seed: 6)
        let n = 40_000, point = NDArray([Double](repeating: 2, count: n))
        for (noise, check) in [(InjectedNoise.additive(std: 0.5), { (y: Double) in y - 2 }), (.multiplicative(std: 0.5), { y in y / 2 - 1 })] {
            let y = try injectNoise(x, noise, streams: streams)
            let f = try function(inputs: [x], outputs: [y, grad(sum(y), wrt: [x])[0]], options: backend.options)
            let results = try f(point)
            let noiseValues = results[0].elements(as: Double.self).map(check)
            let average = noiseValues.reduce(0, +) / Double(n)
            let spread = (noiseValues.map { ($0 - average) * ($0 - average) }.reduce(0, +) / Double(n)).squareRoot()
            #expect(abs(average) < 0.015 && abs(spread - 0.5) < 0.015, "\(noise): mean \(average), std \(spread)")
            let gradients = results[1].elements(as: Double.self)
            switch noise {
            case .additive: #expect(gradients.allSatisfy { $0 == 1 })
            case .multiplicative: #expect(zip(gradients, results[0].elements(as: Double.self)).allSatisfy { abs($0 - $1 / 2) < 1e-12 })
            }
        }
        #expect(try injectNoise(x, .additive(std: 1), streams: streams, training: false) === x)
        #expect(throws: TheanoError.self) { try injectNoise(x, .additive(std: -1), streams: streams) }
    }
}
