import Foundation
import Testing
@testable import Theano
@testable import TheanoCore
@testable import TheanoModels

// The example models that draw random numbers: a few training steps on a slice of the digits
// improve each on both backends, and the pieces they report with are checked on their own.

/// 300 training and 100 test digits.
private func digits() throws -> (train: Dataset, test: Dataset) {
    let (train, test) = try Dataset.digits().split(testFraction: 0.25, seed: 1)
    return (train.subset(Array(0..<300)), test.subset(Array(0..<100)))
}

@Suite("Generative and stochastic models")
struct GenerativeModelTests {
    /// The PNG is well formed: its signature, its header, each chunk's CRC, and pixel data
    /// that inflates (stored blocks) back to the grid, behind a valid Adler-32.
    @Test func imageGridWritesAReadablePNG() throws {
        let images = NDArray((0..<(3 * 4)).map { Float($0) / 11 }, shape: [3, 4])
        let grid = try ImageGrid(images: images, imageWidth: 2, imageHeight: 2, columns: 2, scale: 2)
        #expect(grid.width == 2 * 5 + 1 && grid.height == 2 * 5 + 1)
        #expect(grid.pixels[1 * grid.width + 1] == 0 && grid.pixels[1 * grid.width + 3] == 23)  // image 0: pixel (0, 0) then (0, 1)
        let png = [UInt8](grid.png)
        #expect(Array(png[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var offset = 8, chunks: [String: [UInt8]] = [:]
        func word(_ at: Int) -> Int { png[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        while offset < png.count {
            let length = word(offset), type = String(decoding: png[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let body = Array(png[(offset + 8)..<(offset + 8 + length)])
            #expect(UInt32(word(offset + 8 + length)) == crc32(Data(png[(offset + 4)..<(offset + 8 + length)])), "CRC of \(type)")
            chunks[type] = body
            offset += 12 + length
        }
        #expect(Set(chunks.keys) == ["IHDR", "IDAT", "IEND"])
        let header = chunks["IHDR"]!
        #expect(header[0..<4].reduce(0) { $0 << 8 | Int($1) } == grid.width && header[8] == 8 && header[9] == 0)
        let stream = chunks["IDAT"]!
        #expect(stream[0] == 0x78 && (Int(stream[0]) << 8 | Int(stream[1])) % 31 == 0)
        let length = Int(stream[3]) | Int(stream[4]) << 8
        #expect(stream[2] == 1 && length == (grid.width + 1) * grid.height && Int(stream[5]) | Int(stream[6]) << 8 == ~length & 0xFFFF)
        let lines = Array(stream[7..<(7 + length)])
        #expect((0..<grid.height).allSatisfy { lines[$0 * (grid.width + 1)] == 0 })
        #expect(lines.enumerated().filter { $0.offset % (grid.width + 1) != 0 }.map(\.element) == grid.pixels)
        // The CRC's published check value, and the constant end of every PNG.
        #expect(crc32(Data("123456789".utf8)) == 0xCBF4_3926 && crc32(Data("IEND".utf8)) == 0xAE42_6082)
        #expect(throws: TheanoError.self) { try ImageGrid(images: images, imageWidth: 3, imageHeight: 2, columns: 2) }
    }

    @Test func binarizedAndAppendedData() throws {
        let data = try digits().test
        let binary = data.binarized()
        #expect(binary.images.elements(as: Float.self).allSatisfy { $0 == 0 || $0 == 1 })
        #expect(zip(binary.images.elements(as: Float.self), data.images.elements(as: Float.self)).allSatisfy { ($0 == 1) == ($1 > 0.5) })
        let both = data.appending(binary)
        #expect(both.count == 200 && both.labels.rows([150]).elements(as: Int64.self) == data.labels.rows([50]).elements(as: Int64.self))
    }

    /// Power-of-two quantization: the nearest power in the log domain, clipped exponents, 0 kept.
    @Test func powersOfTwo() throws {
        let x = vector("x", dtype: .float64)
        let f = try function(inputs: [x], outputs: [quantizedToPowersOfTwo(x)])
        let values = try f(NDArray([0.3, -0.7, 0, 1e-5, 3, 0.75] as [Double]))[0].elements(as: Double.self)
        #expect(values == [0.25, -0.5, 0, 1.0 / 256, 1, 1])
    }

    /// A denoising autoencoder lowers its reconstruction error, and its reconstruction field
    /// is the gradient of its energy to the precision of finite differences.
    @Test(arguments: Backend.allCases) func denoisingAutoencoder(backend: Backend) throws {
        let (train, test) = try digits()
        let dae = try DenoisingAutoencoder(visible: 64, hidden: 32, corruption: .masking(0.25), learningRate: 0.02, options: backend.options)
        let before = try dae.reconstructionError(test.images)
        var random = RandomState(seed: 2)
        for _ in 0..<5 { _ = try meanOverMinibatches(count: train.count, batchSize: 20, random: &random) { try dae.step(train.images.rows($0)) } }
        #expect(try dae.reconstructionError(test.images) < 0.7 * before)
        #expect(try dae.conservativenessCheck(test.images.rows(Array(0..<10)), directions: 2) < 1e-4)
        let gaussian = try DenoisingAutoencoder(visible: 64, hidden: 8, corruption: .gaussian(0.3), learningRate: 0.02, options: backend.options)
        #expect(try gaussian.step(train.images) != gaussian.step(train.images), "fresh noise on every call")
    }

    /// A VAE raises its bound; the importance-weighted estimate is at least about the bound;
    /// samples are pixel probabilities; the denoising VAE trains too.
    @Test(arguments: Backend.allCases) func variationalAutoencoders(backend: Backend) throws {
        let (train, test) = try digits()
        let (binaryTrain, binaryTest) = (train.binarized(), test.binarized())
        for corruption in [nil, VariationalAutoencoder.Corruption(masking: 0.1, hiddenNoise: 0.25)] {
            let vae = try VariationalAutoencoder(visible: 64, hidden: 32, latent: 4, learningRate: 3e-3, corruption: corruption,
                                                 importanceSamples: 20, options: backend.options)
            let before = try vae.evidenceLowerBound(binaryTest.images)
            var random = RandomState(seed: 3)
            for _ in 0..<10 { _ = try meanOverMinibatches(count: binaryTrain.count, batchSize: 20, random: &random) { try vae.step(binaryTrain.images.rows($0)) } }
            let bound = try vae.evidenceLowerBound(binaryTest.images), weighted = try vae.importanceWeightedLogLikelihood(binaryTest.images)
            #expect(bound > before + 5, "\(String(describing: corruption)): \(before) → \(bound)")
            #expect(weighted > bound - 0.5 && weighted < 0)
            let samples = try vae.samples(6)
            #expect(samples.shape == [6, 64] && samples.elements(as: Float.self).allSatisfy { (0...1).contains($0) })
        }
    }

    /// Every gating estimator trains the classifier; the gates are drawn at evaluation.
    @Test(arguments: Backend.allCases) func gatedClassifiers(backend: Backend) throws {
        let (train, test) = try digits()
        for estimator in GatedClassifier.Estimator.allCases {
            let model = try GatedClassifier(inputs: 64, hidden: 32, classes: 10, estimator: estimator, learningRate: 0.1, sparsity: 0.1,
                                            options: backend.options)
            var random = RandomState(seed: 4)
            let first = try model.trainEpoch(on: train, batchSize: 20, random: &random)
            for _ in 0..<6 { _ = try model.trainEpoch(on: train, batchSize: 20, random: &random) }
            let last = try model.trainEpoch(on: train, batchSize: 20, random: &random)
            let (accuracy, zeros) = try model.evaluate(on: test)
            #expect(last < first && accuracy > 0.4, "\(estimator): loss \(first) → \(last), accuracy \(accuracy)")
            #expect(zeros > 0 && zeros < 1, "\(estimator): \(zeros)")
        }
    }

    /// Binarized weights with power-of-two backpropagation still learn.
    @Test(arguments: Backend.allCases) func binaryConnect(backend: Backend) throws {
        let (train, test) = try digits()
        let model = try BinaryConnectClassifier(sizes: [64, 32, 10], mode: .fewMultiplications, learningRate: 0.1, options: backend.options)
        let before = try model.accuracy(on: test)
        var random = RandomState(seed: 5)
        for _ in 0..<15 { _ = try model.trainEpoch(on: train, batchSize: 20, random: &random) }
        #expect(try model.accuracy(on: test) > Swift.max(before + 0.3, 0.6))
    }

    /// Dropout changes the training step's output from call to call but not predictions; the
    /// augmentation projects noise into pixels that stay in [0, 1].
    @Test(arguments: Backend.allCases) func dropoutAndItsAugmentation(backend: Backend) throws {
        let (train, test) = try digits()
        let classifier = try Classifier(sizes: [64, 32, 10], learningRate: 0, dropout: 0.5, options: backend.options)
        #expect(try classifier.step(images: train.images, labels: train.labels) != classifier.step(images: train.images, labels: train.labels))
        #expect(try classifier.predict(test.images).elements(as: Int64.self) == classifier.predict(test.images).elements(as: Int64.self))
        let augmentation = try DropoutAugmentation(network: classifier.network, rate: 0.5, steps: 5, options: backend.options)
        let augmented = try augmentation.augment(test)
        let (original, projected) = (test.images.elements(as: Float.self), augmented.images.elements(as: Float.self))
        #expect(augmented.images.shape == test.images.shape && projected.allSatisfy { (0...1).contains($0) })
        #expect(zip(original, projected).map { Swift.abs($0 - $1) }.reduce(0, +) / Float(original.count) > 1e-3)
    }

    /// Patches come out in image order, window by window; zero-bias codes are 0 or past the
    /// threshold; every encoder lowers its reconstruction error.
    @Test(arguments: Backend.allCases)
    func zeroBiasAutoencoders(backend: Backend) throws {
        let images = NDArray((0..<32).map(Float.init), shape: [2, 16])
        let patches = try imagePatches(images, side: 4, patch: 2, stride: 2)
        #expect(patches.shape == [8, 4] && patches.rows([1]).elements(as: Float.self) == [2, 3, 6, 7])
        #expect(patches.rows([4]).elements(as: Float.self) == [16, 17, 20, 21])
        #expect(throws: TheanoError.self) { try imagePatches(images, side: 4, patch: 5, stride: 1) }
        let train = try digits().train
        let digitPatches = try imagePatches(train.images, side: 8, patch: 4, stride: 2)
        for encoder in [PatchAutoencoder.Encoder.thresholdedRectifier(threshold: 0.5), .thresholdedLinear(threshold: 0.5), .standard] {
            let model = try PatchAutoencoder(visible: 16, hidden: 16, encoder: encoder, learningRate: 0.05, options: backend.options)
            var random = RandomState(seed: 6)
            let first = try meanOverMinibatches(count: digitPatches.shape[0], batchSize: 100, random: &random) { try model.step(digitPatches.rows($0)) }
            var last = first
            for _ in 0..<3 { last = try meanOverMinibatches(count: digitPatches.shape[0], batchSize: 100, random: &random) { try model.step(digitPatches.rows($0)) } }
            #expect(last < first, "\(encoder): \(first) → \(last)")
            let codes = try model.encode(digitPatches).elements(as: Float.self)
            switch encoder {
            case .thresholdedRectifier: #expect(codes.allSatisfy { $0 == 0 || $0 > 0.5 } && codes.contains(0))
            case .thresholdedLinear: #expect(codes.allSatisfy { $0 == 0 || Swift.abs($0) > 0.5 })
            case .standard: #expect(codes.allSatisfy { (0...1).contains($0) })
            }
        }
    }
}
