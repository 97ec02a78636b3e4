import Foundation
import Theano
import TheanoModels

/// `theano train mlp|logreg|lenet|dropout-augment`: digit classifiers; the last line is
/// `test accuracy: 0.xxxx`.
struct ClassifierTraining: TrainingDriver {
    let settings: TrainingSettings
    let data: (train: Dataset, test: Dataset)
    let l2: Double
    /// Where to save the trained parameters, and where to start from.
    let savePath: String?, resumePath: String?

    func logisticRegression() throws {
        let classifier = try train(sizes: [data.train.features, data.train.classes], title: "logistic regression", dropout: 0)
        print("test accuracy: \(fixed(try classifier.accuracy(on: data.test)))")
    }

    /// An MLP of `depth` hidden layers; with a `bottleneck`, the plain one first, then the
    /// same with linear bottlenecks between its hidden layers.
    func mlp(dropout: Double, depth: Int, bottleneck: Int?) throws {
        let sizes = [data.train.features] + Array(repeating: hidden, count: depth) + [data.train.classes]
        guard let bottleneck else {
            let classifier = try train(sizes: sizes, title: "MLP", dropout: dropout)
            return print("test accuracy: \(fixed(try classifier.accuracy(on: data.test)))")
        }
        let plain = try train(sizes: sizes, title: "MLP", dropout: dropout)
        let factored = try train(sizes: sizes, title: "MLP with linear bottlenecks of \(bottleneck)", dropout: dropout, bottleneck: bottleneck)
        print("plain MLP test accuracy: \(fixed(try plain.accuracy(on: data.test)))")
        print("test accuracy: \(fixed(try factored.accuracy(on: data.test)))")
    }

    /// LeNet-5 (the Theano tutorial's widths) trained by Adam: on MNIST's 28×28 images, or on
    /// the 8×8 digits enlarged to 32×32 by bilinear upsampling (in the graph, once).
    func lenet(learningRate: Double) throws {
        let (train, test, size, note) = try lenetImages()
        var random = RandomState(seed: seed)
        let network = try TheanoModels.lenet(size: size, classes: train.classes, random: &random)
        print("LeNet-5 \(try network.outputShape([nil, 1, size, size]).map { $0.map(String.init) ?? "?" }) on \(train.count) training and "
              + "\(test.count) test images of \(size)×\(size)" + note)
        let classifier = try compiling {
            try ConvolutionalClassifier(network: network, imageShape: [1, size, size], optimizer: Optimizer(.adam(), learningRate: .constant(learningRate)),
                                        l2: l2, options: options)
        }
        try resume(classifier.parameters) { try classifier.accuracy(on: test) }
        let time = try trainEpochs(epochs, title: "LeNet-5") { _ in
            let loss = try classifier.trainEpoch(on: train, batchSize: batchSize, random: &random)
            return EpochReport(loss: loss, ["train": try classifier.accuracy(on: train), "test": try classifier.accuracy(on: test)])
        }
        print("total time \(format(time)), \(format(time / epochs)) per epoch")
        try save(classifier.parameters)
        print("test accuracy: \(fixed(try classifier.accuracy(on: test)))")
    }

    /// The images LeNet-5 reads: MNIST's as they are, the 8×8 digits enlarged to 32×32 by
    /// bilinear upsampling; with their side and a note saying what was done.
    func lenetImages() throws -> (train: Dataset, test: Dataset, size: Int, note: String) {
        let side = Int(Double(data.train.features).squareRoot())
        let ratio = side < 28 ? 32 / side : 1
        guard ratio > 1 else { return (data.train, data.test, side, "") }
        let x = tensor4("x", dtype: .float32)
        let enlarge = try function(inputs: [x], outputs: [bilinearUpsampling(x, ratio: ratio)], options: options)
        return (try upsampled(data.train, side: side, ratio: ratio, by: enlarge), try upsampled(data.test, side: side, ratio: ratio, by: enlarge),
                side * ratio, " (\(side)×\(side) upsampled ×\(ratio))")
    }

    /// `data` with each `side`×`side` image enlarged `ratio` times by `enlarge` (a compiled
    /// ``bilinearUpsampling(_:ratio:fileID:line:)``).
    private func upsampled(_ data: Dataset, side: Int, ratio: Int, by enlarge: Function) throws -> Dataset {
        let images = try enlarge(data.images.reshaped([data.count, 1, side, side]))[0]
        var result = data
        result.images = images.reshaped([data.count, side * side * ratio * ratio])
        return result
    }

    /// Trains a dropout MLP, then a deterministic MLP on the training set plus a fresh copy
    /// of it with the first network's dropout noise projected into the pixels every epoch.
    func dropoutAugmentation(dropout: Double) throws {
        let sizes = [data.train.features, hidden, data.train.classes]
        let dropoutNetwork = try train(sizes: sizes, title: "dropout MLP", dropout: dropout)
        let augmentation = try compiling { try DropoutAugmentation(network: dropoutNetwork.network, rate: dropout, seed: seed, options: options) }
        print("deterministic MLP on the training set and its dropout noise projected into input space")
        let deterministic = try Classifier(sizes: sizes, activation: .tanh, learningRate: learningRate, l2: l2, seed: seed + 1, options: options)
        var random = RandomState(seed: seed)
        let time = try trainEpochs(epochs, title: "deterministic MLP") { _ in
            let augmented = try data.train.appending(augmentation.augment(data.train))
            let loss = try deterministic.trainEpoch(on: augmented, batchSize: batchSize, random: &random)
            return EpochReport(loss: loss, ["test": try deterministic.accuracy(on: data.test)])
        }
        print("total time \(format(time))")
        print("dropout network test accuracy: \(fixed(try dropoutNetwork.accuracy(on: data.test)))")
        print("test accuracy: \(fixed(try deterministic.accuracy(on: data.test)))")
    }

    /// Trains a tanh classifier of widths `sizes`, printing its progress.
    private func train(sizes: [Int], title: String, dropout: Double, bottleneck: Int = 0) throws -> Classifier {
        let described = dropout > 0 ? "\(title) with dropout \(dropout)" : title
        print("\(described) \(sizes.map(String.init).joined(separator: "-")) on \(data.train.count) training and \(data.test.count) test examples")
        let classifier = try compiling {
            try Classifier(sizes: sizes, activation: .tanh, learningRate: learningRate, l2: l2, dropout: dropout, bottleneck: bottleneck,
                           seed: seed, options: options)
        }
        try resume(classifier.parameters) { try classifier.accuracy(on: data.test) }
        var random = RandomState(seed: seed)
        let time = try trainEpochs(epochs, title: described) { _ in
            let loss = try classifier.trainEpoch(on: data.train, batchSize: batchSize, random: &random)
            return EpochReport(loss: loss, ["train": try classifier.accuracy(on: data.train), "test": try classifier.accuracy(on: data.test)])
        }
        print("total time \(format(time))")
        try save(classifier.parameters)
        return classifier
    }

    /// Loads `parameters` from `--resume`, if given, and prints the accuracy they start at.
    private func resume(_ parameters: [SharedVariable], accuracy: () throws -> Double) throws {
        guard let resumePath else { return }
        try Checkpoint.load(parameters, from: resumePath)
        print("resumed from \(resumePath): test accuracy \(fixed(try accuracy()))")
    }

    /// Saves `parameters` to `--save`, if given.
    private func save(_ parameters: [SharedVariable]) throws {
        guard let savePath else { return }
        try Checkpoint.save(parameters, to: savePath)
        print("saved \(parameters.count) arrays to \(savePath)")
    }
}
