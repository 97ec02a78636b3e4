import Foundation
import Testing
import Theano
import TheanoModels

// The binary RBM: its exact log-likelihood against brute force, a few steps of each training
// mode, the three samplers' chains inside a scan, and the measures of their samples — on
// both backends.

@Suite("Restricted Boltzmann machines")
struct RBMTests {
    /// The first `rows` binarized digits.
    static func digits(_ rows: Range<Int>) throws -> NDArray { try Dataset.digits().binarized().images.rows(Array(rows)) }

    /// A machine of `visible` and `hidden` units whose parameters are drawn from a standard
    /// normal distribution, large enough that no configuration dominates.
    static func randomMachine(visible: Int, hidden: Int, seed: UInt64) throws -> RestrictedBoltzmannMachine {
        let rbm = try RestrictedBoltzmannMachine(visible: visible, hidden: hidden)
        var random = RandomState(seed: seed)
        for parameter in rbm.parameters {
            try parameter.setValue(NDArray.normal(parameter.value.shape, dtype: .float32, using: &random))
        }
        return rbm
    }

    /// `Σ a_i b_i`.
    static func dotProduct(_ a: [Double], _ b: [Double]) -> Double {
        var total = 0.0
        for (x, y) in zip(a, b) { total += x * y }
        return total
    }

    /// The bits of `index`, lowest first, as `count` zeros and ones.
    static func bits(_ index: Int, count: Int) -> [Double] { (0..<count).map { Double(index >> $0 & 1) } }

    @Test(arguments: Backend.allCases)
    func exactLikelihoodMatchesBruteForce(backend: Backend) throws {
        let (visible, hidden) = (4, 3)
        let rbm = try Self.randomMachine(visible: visible, hidden: hidden, seed: 8)
        let W = rbm.weights.value.elements(as: Double.self), b = rbm.visibleBias.value.elements(as: Double.self)
        let c = rbm.hiddenBias.value.elements(as: Double.self)
        // −E(v, h) = vᵀWh + b·v + c·h over all 2^4 × 2^3 joint configurations.
        func negativeEnergy(_ v: [Double], _ h: [Double]) -> Double {
            var value: Double = Self.dotProduct(b, v) + Self.dotProduct(c, h)
            for i in 0..<visible { for j in 0..<hidden { value += v[i] * W[i * hidden + j] * h[j] } }
            return value
        }
        func logSumExp(_ values: [Double]) -> Double { let m = values.max()!; return m + log(values.map { exp($0 - m) }.reduce(0, +)) }
        let unnormalized = (0..<(1 << visible)).map { v in
            logSumExp((0..<(1 << hidden)).map { negativeEnergy(Self.bits(v, count: visible), Self.bits($0, count: hidden)) })
        }
        let logZ = logSumExp(unnormalized)

        let exact = try RBMExactLikelihood(model: rbm, options: backend.options)
        #expect(abs(try exact.logPartitionFunction() - logZ) < 1e-9)
        let rows = [3, 0, 12, 7, 7]
        let data = NDArray(rows.flatMap { Self.bits($0, count: visible) }, shape: [rows.count, visible])
        let expected = rows.map { unnormalized[$0] - logZ }.reduce(0, +) / Double(rows.count)
        #expect(abs(try exact.meanLogLikelihood(of: data) - expected) < 1e-9)
    }

    @Test(arguments: Backend.allCases, RestrictedBoltzmannMachine.Training.allCases)
    func trainingRaisesTheExactLikelihood(backend: Backend, training: RestrictedBoltzmannMachine.Training) throws {
        let train = try Self.digits(0..<200), test = try Self.digits(200..<300)
        let rbm = try RestrictedBoltzmannMachine(visible: 64, hidden: 6, seed: 3)
        let likelihood = try RBMExactLikelihood(model: rbm, options: backend.options)
        let trainer = try RestrictedBoltzmannMachine.Trainer(model: rbm, training: training, learningRate: 0.1, chains: 20, seed: 7,
                                                             options: backend.options)
        #expect(trainer.trainingFunction.linkWarnings.isEmpty, "\(trainer.trainingFunction.linkWarnings)")
        let before = try likelihood.meanLogLikelihood(of: test)
        var random = RandomState(seed: 11)
        for _ in 0..<2 { _ = try trainer.trainEpoch(on: train, batchSize: 20, random: &random) }
        let after = try likelihood.meanLogLikelihood(of: test)
        #expect(after > before + 10, "\(training): \(before) → \(after) nats")
        #expect((trainer.persistentChains != nil) == (training != .cd))
        if let chains = trainer.persistentChains?.value.elements(as: Float.self) {
            #expect(chains.allSatisfy { $0 == 0 || $0 == 1 } && chains.contains(1), "the chains moved from their zero start")
        }
        #expect(trainer.fastParameters.count == (training == .fpcd ? 3 : 0))
        #expect(trainer.fastParameters.allSatisfy { $0.value.elements(as: Float.self).contains { $0 != 0 } })
    }

    @Test(arguments: Backend.allCases, RBMSampler.allCases)
    func samplerChainsRunInsideAScan(backend: Backend, sampler: RBMSampler) throws {
        let data = try Self.digits(0..<100)
        let rbm = try RestrictedBoltzmannMachine(visible: 64, hidden: 8, seed: 4)
        var random = RandomState(seed: 5)
        _ = try RestrictedBoltzmannMachine.Trainer(model: rbm, training: .cd, learningRate: 0.1)
            .trainEpoch(on: data, batchSize: 10, random: &random)
        let (chains, steps) = (3, 20)
        let sampling = try RBMChains(model: rbm, sampler: sampler, rates: RBMRates(model: rbm, data: data, options: backend.options),
                                     chains: chains, steps: steps, seed: 6, options: backend.options)
        #expect(sampling.samplingFunction.linkWarnings.isEmpty, "\(sampling.samplingFunction.linkWarnings)")
        let expectedState = sampler == .herding ? [] : [sampling.streams.state]
        #expect(Set(sampling.loop.updates.keys) == Set(sampling.samplerParameters + expectedState))
        #expect(sampling.samplerParameters.map(\.value.shape) == (sampler == .gibbs ? [] : [[chains, 64, 8], [chains, 64], [chains, 8]]),
                "each chain has its own parameters")

        let start = data.rows(Array(0..<chains))
        let (samples, probabilities) = try sampling.sample(from: start)
        #expect(samples.shape == [steps, chains, 64] && probabilities.shape == [steps, chains, 64])
        let values = samples.elements(as: Float.self)
        #expect(values.allSatisfy { $0 == 0 || $0 == 1 })
        #expect(probabilities.elements(as: Float.self).allSatisfy { (0...1).contains($0) })
        let rows = (0..<steps).map { Array(values[($0 * chains * 64)..<(($0 + 1) * chains * 64)]) }
        let changes = zip(rows, rows.dropFirst()).filter { $0 != $1 }.count
        #expect(changes >= steps / 2, "\(sampler): the chains changed at \(changes) of \(steps - 1) steps")

        // The loop's updates were applied: a second call from the same start continues the
        // stream and the sampler's parameters, so it draws other samples.
        if sampler != .herding { #expect(sampling.streams.state.value.elements(as: Int64.self)[1] == Int64(steps)) }
        let parameters = sampling.samplerParameters.map { $0.value.elements(as: Float.self) }
        #expect(parameters.allSatisfy { $0.contains { $0 != 0 } })
        let (nextSamples, _) = try sampling.sample(from: start)
        #expect(nextSamples.elements(as: Float.self) != values, "the second call continues where the first one stopped")
        if sampler != .gibbs { #expect(sampling.samplerParameters.map { $0.value.elements(as: Float.self) } != parameters) }
    }

    @Test func parzenWindowAndClassChangesMatchTheirDefinitions() throws {
        let kernelCentres: [[Double]] = [[0, 1], [1, 1], [0.5, 0]], points: [[Double]] = [[0, 0], [1, 0.5]]
        let sigma = 0.3
        let logDensities = points.map { (x: [Double]) -> Double in
            let kernels = kernelCentres.map { (s: [Double]) -> Double in
                let difference = zip(x, s).map { (a: Double, b: Double) -> Double in a - b }
                return exp(-Self.dotProduct(difference, difference) / (2 * sigma * sigma))
            }
            return log(kernels.reduce(0, +) / 3) - log(2 * Double.pi * sigma * sigma)
        }
        let expected = logDensities.reduce(0, +) / 2
        let samples = NDArray(kernelCentres.flatMap { $0 }, shape: [3, 2])
        for backend in Backend.allCases {
            let parzen = try ParzenWindow(samples: samples, options: backend.options)
            #expect(abs(try parzen.meanLogLikelihood(of: NDArray(points.flatMap { $0 }, shape: [2, 2]), sigma: sigma) - expected) < 1e-9)
            #expect(try parzen.bestSigma(for: samples, among: [0.05, 5]) == 0.05, "the samples themselves favour narrow kernels")
        }
        // Two chains over four steps: the first changes class twice, the second once.
        let classes = NDArray([1, 4, 4, 4, 1, 4, 1, 7] as [Int64], shape: [4, 2])
        #expect(try classChangeRate(classes) == 0.5)
    }

    @Test func badArgumentsThrow() throws {
        #expect(throws: TheanoError.self) { try RestrictedBoltzmannMachine(visible: 0, hidden: 3) }
        let wide = try RestrictedBoltzmannMachine(visible: 4, hidden: RBMExactLikelihood.maximumHiddenUnits + 1)
        #expect(throws: TheanoError.self) { try RBMExactLikelihood(model: wide) }

        let rbm = try RestrictedBoltzmannMachine(visible: 4, hidden: 3)
        for (k, rate, decay) in [(0, 0.1, 0.95), (1, 0, 0.95), (1, 0.1, 1)] {
            #expect(throws: TheanoError.self) {
                try RestrictedBoltzmannMachine.Trainer(model: rbm, training: .fpcd, learningRate: rate, cdSteps: k, fastDecay: decay)
            }
        }
        let trainer = try RestrictedBoltzmannMachine.Trainer(model: rbm, training: .cd, learningRate: 0.1)
        #expect(throws: TheanoError.self) { try trainer.step(NDArray(zeros: [2, 5], dtype: .float32)) }
        var random = RandomState(seed: 1)
        #expect(throws: TheanoError.self) { try trainer.trainEpoch(on: NDArray(zeros: [2, 4], dtype: .float32), batchSize: 0, random: &random) }

        let rates = try RBMRates(model: rbm, data: NDArray(zeros: [2, 4], dtype: .float32))
        #expect(throws: TheanoError.self) { try RBMChains(model: rbm, sampler: .gibbs, rates: rates, chains: 0, steps: 5) }
        #expect(throws: TheanoError.self) { try RBMChains(model: rbm, sampler: .ratesFPCD, rates: rates, chains: 2, steps: 5, fastDecay: -0.5) }
        let chains = try RBMChains(model: rbm, sampler: .gibbs, rates: rates, chains: 2, steps: 5)
        #expect(throws: TheanoError.self) { try chains.sample(from: NDArray(zeros: [3, 4], dtype: .float32)) }

        #expect(throws: TheanoError.self) { try ParzenWindow(samples: NDArray(zeros: [0, 4], dtype: .float64)) }
        let parzen = try ParzenWindow(samples: NDArray(zeros: [2, 4], dtype: .float64))
        #expect(throws: TheanoError.self) { try parzen.meanLogLikelihood(of: NDArray(zeros: [1, 4], dtype: .float64), sigma: 0) }
        #expect(throws: TheanoError.self) { try parzen.bestSigma(for: NDArray(zeros: [1, 4], dtype: .float64), among: []) }
        #expect(throws: TheanoError.self) { try classChangeRate(NDArray([1, 2, 3] as [Int64])) }
    }
}
