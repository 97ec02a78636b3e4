import ArgumentParser
import Foundation
import Theano
import TheanoModels

extension RestrictedBoltzmannMachine.Training: ExpressibleByArgument {}
extension RBMSampler: ExpressibleByArgument {}

/// `theano train rbm`: a binary RBM on the binarized digits, trained by CD-k, PCD or FPCD.
/// Reports the exact test log-likelihood after each epoch, then how well one sampler's chains
/// mix (Breuleux, Bengio and Vincent 2011): how often the class of their samples changes
/// from one step to the next, by a classifier of binarized digits, and the Parzen-window
/// log-likelihood of the test set under their samples. Both, and the pictures, use each
/// step's visible probabilities (herding's states). A fifth of the training set is held out
/// to choose the Parzen window's width.
struct RBMTraining {
    var training: RestrictedBoltzmannMachine.Training = .pcd
    var sampler: RBMSampler = .gibbs
    var samplesPath: String?
    var hidden = 16
    var epochs = 60
    var learningRate = 0.05
    var batchSize = 20
    var cdSteps = 1
    var seed: UInt64 = 1234
    var options: CompileOptions = .native
    /// The sampler's parallel chains, and the steps each runs.
    let chains = 10, sampleSteps = 1000

    func run() throws {
        let started = ContinuousClock.now
        let (labelled, testSet) = try Dataset.digits().split(testFraction: 0.25, seed: seed)
        let (train, validation) = labelled.binarized().split(testFraction: 0.2, seed: seed)
        let test = testSet.binarized()
        let method = training == .cd ? "CD-\(cdSteps)" : "\(training.rawValue.uppercased())-\(cdSteps)"
        print("RBM \(train.features)-\(hidden) (binary units) trained by \(method) on \(train.count) binarized training digits "
            + "(\(validation.count) more held out for the Parzen window) and \(test.count) test digits; loss: squared reconstruction error")
        let (rbm, trainer, likelihood) = try compiling {
            let rbm = try RestrictedBoltzmannMachine(visible: train.features, hidden: hidden, seed: seed)
            let trainer = try RestrictedBoltzmannMachine.Trainer(model: rbm, training: training, learningRate: learningRate, cdSteps: cdSteps,
                                                                 chains: batchSize, seed: seed, options: options)
            return (rbm, trainer, try RBMExactLikelihood(model: rbm, options: options))
        }
        var random = RandomState(seed: seed)
        try trainEpochs(epochs) { _ in
            let error = try trainer.trainEpoch(on: train.images, batchSize: batchSize, random: &random)
            return EpochReport(loss: error, ["test log-likelihood (nats)": try likelihood.meanLogLikelihood(of: test.images)])
        }

        let sampling = try RBMChains(model: rbm, sampler: sampler, rates: RBMRates(model: rbm, data: train.images, options: options),
                                     chains: chains, steps: sampleSteps, seed: seed, options: options)
        let starts = Array(Array(0..<train.count).shuffled(using: &random).prefix(chains))
        let samplingStart = ContinuousClock.now
        let probabilities = try sampling.sample(from: train.images.rows(starts)).probabilities
        print("\(sampler.rawValue): \(chains) chains of \(sampleSteps) steps from training digits in \(format(ContinuousClock.now - samplingStart))")
        let everyStep = probabilities.reshaped([sampleSteps * chains, train.features])
        let classifier = try Classifier(sizes: [train.features, 32, train.classes], activation: .tanh, learningRate: 0.1, seed: seed, options: options)
        for _ in 1...20 { _ = try classifier.trainEpoch(on: train, batchSize: batchSize, random: &random) }
        print("classifier of the samples (MLP \(train.features)-32-\(train.classes), 20 epochs on binarized digits): "
            + "test accuracy \(fixed(try classifier.accuracy(on: test)))")
        let classChanges = try classChangeRate(classifier.predict(everyStep).reshaped([sampleSteps, chains]))
        let parzen = try ParzenWindow(samples: everyStep, options: options)
        let sigma = try parzen.bestSigma(for: validation.images)
        print("Parzen window on the \(sampleSteps * chains) samples of \(chains) chains: σ = \(sigma), chosen on the \(validation.count) held-out digits")
        if let samplesPath {
            try writeSnapshots(probabilities, to: samplesPath)
            print("wrote \(chains) chains × 10 snapshots (one row per chain, every \(sampleSteps / 10) steps) to \(samplesPath)")
        }
        print("test log-likelihood (exact): \(nats(try likelihood.meanLogLikelihood(of: test.images)))")
        print("sampler \(sampler.rawValue): class changes per step \(String(format: "%.3f", classChanges)), "
            + "Parzen log-likelihood \(nats(try parzen.meanLogLikelihood(of: test.images, sigma: sigma)))")
        print("total time \(format(ContinuousClock.now - started))")
    }

    /// Every chain's visible probabilities at 10 evenly spaced steps, one row of the grid per chain.
    private func writeSnapshots(_ samples: NDArray, to path: String) throws {
        let visible = samples.shape[2], values = samples.elements(as: Float.self)
        let every = sampleSteps / 10
        var pictures: [Float] = []
        for chain in 0..<chains {
            for snapshot in 1...10 {
                let start = ((snapshot * every - 1) * chains + chain) * visible
                pictures += values[start..<(start + visible)]
            }
        }
        try ImageGrid(images: NDArray(pictures, shape: [chains * 10, visible]), imageWidth: 8, imageHeight: 8, columns: 10).write(to: path)
    }
}
