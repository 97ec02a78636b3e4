import Foundation
import Theano
import TheanoModels

/// `theano train mlp|logreg|dropout-augment`: digit classifiers; the last line is
/// `test accuracy: 0.xxxx`.
struct ClassifierTraining {
    let data: (train: Dataset, test: Dataset)
    let epochs: Int
    let batchSize: Int
    let hidden: Int
    let learningRate: Double
    let l2: Double
    let seed: UInt64
    let options: CompileOptions
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
        if let resumePath {
            try Checkpoint.load(classifier.parameters, from: resumePath)
            print("resumed from \(resumePath): test accuracy \(fixed(try classifier.accuracy(on: data.test)))")
        }
        var random = RandomState(seed: seed)
        let time = try trainEpochs(epochs, title: described) { _ in
            let loss = try classifier.trainEpoch(on: data.train, batchSize: batchSize, random: &random)
            return EpochReport(loss: loss, ["train": try classifier.accuracy(on: data.train), "test": try classifier.accuracy(on: data.test)])
        }
        print("total time \(format(time))")
        if let savePath {
            try Checkpoint.save(classifier.parameters, to: savePath)
            print("saved \(classifier.parameters.count) arrays to \(savePath)")
        }
        return classifier
    }
}
