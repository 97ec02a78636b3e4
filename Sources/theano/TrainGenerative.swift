import Foundation
import Theano
import TheanoModels

/// `theano train dae|vae|dvae`: autoencoders on the digits.
struct GenerativeTraining {
    let data: (train: Dataset, test: Dataset)
    let epochs: Int?
    let batchSize: Int
    let hidden: Int?
    let learningRate: Double?
    let masking: Double?
    let gaussianNoise: Double?
    let hiddenNoise: Double
    let samplesPath: String?
    let seed: UInt64
    let options: CompileOptions

    /// A denoising autoencoder with masking (or Gaussian) noise; its reconstruction error, whether its
    /// reconstruction field is conservative, the energy of digits against noise, and its
    /// features fine-tuned into a classifier beside a randomly initialized one.
    func denoisingAutoencoder() throws {
        let (train, test) = data
        let hidden = hidden ?? 64, epochs = epochs ?? 50
        let corruption = gaussianNoise.map(DenoisingAutoencoder.Corruption.gaussian) ?? .masking(masking ?? 0.25)
        let noise = gaussianNoise.map { "Gaussian noise \($0)" } ?? "masking noise \(masking ?? 0.25)"
        print("denoising autoencoder \(train.features)-\(hidden) (tied weights, \(noise)) on \(train.count) training and \(test.count) test examples")
        let dae = try compiling {
            try DenoisingAutoencoder(visible: train.features, hidden: hidden, corruption: corruption,
                                     learningRate: learningRate ?? 0.02, seed: seed, options: options)
        }
        var random = RandomState(seed: seed)
        let time = try trainEpochs(epochs) { _ in
            let loss = try meanOverMinibatches(count: train.count, batchSize: batchSize, random: &random) { try dae.step(train.images.rows($0)) }
            return EpochReport(loss: loss, ["test reconstruction error": try dae.reconstructionError(test.images)])
        }
        print("total time \(format(time))")
        print("test reconstruction error: \(fixed(try dae.reconstructionError(test.images))) (squared, summed over pixels)")
        let field = try dae.conservativenessCheck(test.images.rows(Array(0..<Swift.min(100, test.count))))
        print("reconstruction field r(x) − x vs finite differences of the energy: largest relative difference \(String(format: "%.2e", field))")
        let uniformNoise = NDArray.uniform([test.count, test.features], dtype: .float32, using: &random)
        let digitEnergy = try dae.energy(test.images), noiseEnergy = try dae.energy(uniformNoise)
        print("mean energy: test digits \(fixed(digitEnergy.reduce(0, +) / Double(test.count))), uniform noise \(fixed(noiseEnergy.reduce(0, +) / Double(test.count)))")

        func fineTuned(from layers: [Dense]?) throws -> Double {
            try testAccuracy(of: Classifier(sizes: [train.features, hidden, train.classes], activation: .sigmoid, learningRate: 0.1,
                                            initialLayers: layers, seed: seed, options: options), train: train, test: test, epochs: 30)
        }
        let fromScratch = try fineTuned(from: nil)
        let pretrained = try fineTuned(from: [dae.autoencoder.encoder, Dense(hidden, train.classes, name: "output", random: &random)])
        print("sigmoid MLP after 30 epochs: test accuracy \(fixed(fromScratch)) from random weights, \(fixed(pretrained)) from the autoencoder's")
        print("test accuracy: \(fixed(pretrained))")
    }

    /// A VAE (or the denoising VAE) on binarized digits: its test ELBO and importance-weighted
    /// log-likelihood (k = 100).
    func variationalAutoencoder(denoising: Bool) throws {
        let train = data.train.binarized(), test = data.test.binarized()
        let hidden = hidden ?? 128, latent = 8, epochs = epochs ?? 200
        let corruption = denoising ? VariationalAutoencoder.Corruption(masking: masking ?? 0.05, hiddenNoise: hiddenNoise) : nil
        let noise = corruption.map { ", masking noise \($0.masking) at the input and Gaussian noise \($0.hiddenNoise) in the encoder" } ?? ""
        print("\(denoising ? "denoising " : "")VAE \(train.features)-\(hidden)-\(latent) on \(train.count) binarized training and \(test.count) test digits\(noise)")
        let vae = try compiling {
            try VariationalAutoencoder(visible: train.features, hidden: hidden, latent: latent, learningRate: learningRate ?? 1e-3,
                                       corruption: corruption, seed: seed, options: options)
        }
        var random = RandomState(seed: seed)
        let time = try trainEpochs(epochs) { epoch in
            let bound = try meanOverMinibatches(count: train.count, batchSize: batchSize, random: &random) { try vae.step(train.images.rows($0)) }
            guard epoch % 20 == 0 || epoch == epochs else { return EpochReport(loss: -bound) }
            return EpochReport(loss: -bound, note: "test ELBO \(nats(try vae.evidenceLowerBound(test.images)))")
        }
        print("total time \(format(time))")
        if let samplesPath {
            try ImageGrid(images: vae.samples(100), imageWidth: 8, imageHeight: 8, columns: 10).write(to: samplesPath)
            print("wrote 100 samples to \(samplesPath)")
        }
        print("test ELBO: \(nats(try vae.evidenceLowerBound(test.images)))")
        print("test log-likelihood (importance-weighted, k = 100): \(nats(try vae.importanceWeightedLogLikelihood(test.images)))")
    }
}

extension GenerativeTraining {
    /// Zero-bias autoencoders (thresholded rectifier and thresholded linear units) and a
    /// standard one, each trained on 4×4 patches of the digits; an image's features are the
    /// codes of its nine patches (stride 2), and logistic regression on them is scored on
    /// the test set, beside logistic regression on the pixels.
    func zeroBiasAutoencoders() throws {
        let (train, test) = data
        let hidden = hidden ?? 32, epochs = epochs ?? 30, side = Int(Double(train.features).squareRoot())
        let (trainPatches, testPatches) = (try imagePatches(train.images, side: side, patch: 4, stride: 2),
                                           try imagePatches(test.images, side: side, patch: 4, stride: 2))
        let perImage = trainPatches.shape[0] / train.count
        print("autoencoders 16-\(hidden) on \(trainPatches.shape[0]) patches (4×4, stride 2) of \(train.count) training digits; "
            + "features: the codes of an image's \(perImage) patches; logistic regression on them, \(epochs) epochs")
        func logisticRegression(_ trainSet: Dataset, _ testSet: Dataset) throws -> Double {
            try testAccuracy(of: Classifier(sizes: [trainSet.features, trainSet.classes], learningRate: 0.1, seed: seed, options: options),
                             train: trainSet, test: testSet, epochs: epochs)
        }
        var rows: [(String, Double)] = [("pixels", try logisticRegression(train, test))]
        let encoders: [(String, PatchAutoencoder.Encoder)] = [("zero-bias, TRec θ = 0.5", .thresholdedRectifier(threshold: 0.5)),
                                                              ("zero-bias, TLin θ = 0.5", .thresholdedLinear(threshold: 0.5)),
                                                              ("standard (sigmoid, biases)", .standard)]
        for (name, encoder) in encoders {
            let autoencoder = try compiling {
                try PatchAutoencoder(visible: 16, hidden: hidden, encoder: encoder, learningRate: learningRate ?? 0.05, seed: seed, options: options)
            }
            var random = RandomState(seed: seed)
            try trainEpochs(epochs, title: name) { _ in
                EpochReport(loss: try meanOverMinibatches(count: trainPatches.shape[0], batchSize: 100, random: &random) {
                    try autoencoder.step(trainPatches.rows($0))
                })
            }
            func features(_ patches: NDArray, of data: Dataset) throws -> Dataset {
                let codes = try autoencoder.encode(patches)
                return try Dataset(images: codes.reshaped([data.count, perImage * hidden]), labels: data.labels, maximum: 1)
            }
            rows.append((name, try logisticRegression(features(trainPatches, of: train), features(testPatches, of: test))))
        }
        for (name, accuracy) in rows { print("\(name.padding(toLength: 28, withPad: " ", startingAt: 0))  test accuracy \(fixed(accuracy))") }
        print("test accuracy: \(fixed(rows[1].1))")
    }

    /// The test accuracy of `classifier` after `epochs` passes over `train` (minibatches in
    /// the order of the run's seed).
    private func testAccuracy(of classifier: Classifier, train: Dataset, test: Dataset, epochs: Int) throws -> Double {
        var order = RandomState(seed: seed)
        for _ in 0..<epochs { _ = try classifier.trainEpoch(on: train, batchSize: batchSize, random: &order) }
        return try classifier.accuracy(on: test)
    }
}
