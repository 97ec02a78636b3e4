import ArgumentParser
import Foundation
import Theano
import TheanoModels

/// `theano train mlp|logreg`: trains a classifier on the bundled digits (or MNIST) and
/// reports per-epoch loss, accuracy and time. The last line is `test accuracy: 0.xxxx`.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a classifier on handwritten digits and report its test accuracy.",
        discussion: """
            Without --data, uses the UCI optical digits bundled with the library (1,797 8×8 \
            images; a quarter held out for testing). With --data DIR, reads MNIST's four IDX \
            files (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, \
            t10k-labels-idx1-ubyte; uncompressed) from DIR.
            """
    )

    enum Model: String, ExpressibleByArgument, CaseIterable {
        case mlp, logreg
    }

    @Argument(help: "The model: mlp (one tanh hidden layer) or logreg (logistic regression).")
    var model: Model

    @Option(help: "Passes over the training set.")
    var epochs = 30

    @Option(help: "Examples per SGD step.")
    var batchSize = 32

    @Option(help: "SGD step size (default: 0.1 for mlp, 0.5 for logreg).")
    var learningRate: Double?

    @Option(help: "Units in the hidden layer (mlp).")
    var hidden = 32

    @Option(help: "L2 weight decay.")
    var l2 = 0.0

    @Option(help: "Directory with MNIST IDX files (instead of the bundled digits).")
    var data: String?

    @Option(help: "Seed for the weights, the split and the minibatch order.")
    var seed: UInt64 = 1234

    @Flag(help: "Run with the reference interpreter instead of the native backend.")
    var reference = false

    func run() throws {
        let (train, test) = try loadData()
        let sizes = model == .mlp ? [train.features, hidden, train.classes] : [train.features, train.classes]
        print("\(model == .mlp ? "MLP" : "logistic regression") \(sizes.map(String.init).joined(separator: "-")) on \(train.count) training and \(test.count) test examples")
        let started = ContinuousClock.now
        let rate = learningRate ?? (model == .mlp ? 0.1 : 0.5)
        let classifier = try Classifier(sizes: sizes, activation: .tanh, learningRate: rate, l2: l2, seed: seed,
                                        options: reference ? .default : .native)
        print("compiled in \(format(ContinuousClock.now - started))")
        var random = RandomState(seed: seed)
        for epoch in 1...epochs {
            let epochStart = ContinuousClock.now
            let loss = try classifier.trainEpoch(on: train, batchSize: batchSize, random: &random)
            let elapsed = ContinuousClock.now - epochStart
            let trainAccuracy = try classifier.accuracy(on: train), testAccuracy = try classifier.accuracy(on: test)
            print("epoch \(pad(epoch, epochs))  loss \(fixed(loss))  train \(fixed(trainAccuracy))  test \(fixed(testAccuracy))  time \(format(elapsed))")
        }
        print("total time \(format(ContinuousClock.now - started))")
        print("test accuracy: \(fixed(try classifier.accuracy(on: test)))")
    }

    private func loadData() throws -> (train: Dataset, test: Dataset) {
        if let data { return try Dataset.mnist(directory: data) }
        return try Dataset.digits().split(testFraction: 0.25, seed: seed)
    }
}

private func fixed(_ value: Double) -> String { String(format: "%.4f", value) }
private func pad(_ value: Int, _ largest: Int) -> String {
    String(repeating: " ", count: String(largest).count - String(value).count) + String(value)
}
private func format(_ duration: Duration) -> String {
    let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    return seconds < 1 ? String(format: "%.1f ms", seconds * 1000) : String(format: "%.2f s", seconds)
}
