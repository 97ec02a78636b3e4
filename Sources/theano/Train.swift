import ArgumentParser
import Foundation
import Theano
import TheanoModels

/// `theano train mlp|logreg`: trains a classifier on the bundled digits (or MNIST) and
/// reports per-epoch loss, accuracy and time. The last line is `test accuracy: 0.xxxx`.
/// `theano train rnn|lstm`: recurrent networks by scan (see ``SequenceTraining``).
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model and report its held-out performance: a digit classifier, or a recurrent network.",
        discussion: """
            Without --data, uses the UCI optical digits bundled with the library (1,797 8×8 \
            images; a quarter held out for testing). With --data DIR, reads MNIST's four IDX \
            files (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, \
            t10k-labels-idx1-ubyte; uncompressed) from DIR.
            rnn trains an Elman network as a character-level language model on generated sentences \
            and reports held-out bits per character; lstm trains an LSTM on the embedded Reber \
            grammar and reports next-symbol accuracy.
            """
    )

    enum Model: String, ExpressibleByArgument, CaseIterable {
        case mlp, logreg, rnn, lstm
    }

    @Argument(help: "The model: mlp (one tanh hidden layer), logreg (logistic regression), rnn (Elman language model) or lstm (embedded Reber grammar).")
    var model: Model

    @Option(help: "Passes over the training set (default: 30 for mlp and logreg, 10 for rnn and lstm).")
    var epochs: Int?

    @Option(help: "Examples per SGD step.")
    var batchSize = 32

    @Option(help: "SGD step size (default: 0.1 for mlp, 0.5 for logreg, 0.3 for rnn, 1 for lstm).")
    var learningRate: Double?

    @Option(help: "Units in the hidden layer (default: 32; 128 for rnn).")
    var hidden: Int?

    @Option(help: "L2 weight decay.")
    var l2 = 0.0

    @Option(help: "Directory with MNIST IDX files (instead of the bundled digits).")
    var data: String?

    @Option(help: "Seed for the weights, the split and the minibatch order.")
    var seed: UInt64 = 1234

    @Flag(help: "Run with the reference interpreter instead of the native backend.")
    var reference = false

    func run() throws {
        let options: CompileOptions = reference ? .default : .native
        if model == .rnn || model == .lstm {
            let training = SequenceTraining(epochs: epochs ?? 10, batchSize: batchSize,
                                            hidden: hidden ?? (model == .rnn ? 128 : 32), learningRate: learningRate ?? (model == .rnn ? 0.3 : 1),
                                            seed: seed, options: options)
            return try model == .rnn ? training.languageModel() : training.reber()
        }
        let (train, test) = try loadData()
        let epochs = self.epochs ?? 30
        let sizes = model == .mlp ? [train.features, hidden ?? 32, train.classes] : [train.features, train.classes]
        print("\(model == .mlp ? "MLP" : "logistic regression") \(sizes.map(String.init).joined(separator: "-")) on \(train.count) training and \(test.count) test examples")
        let started = ContinuousClock.now
        let rate = learningRate ?? (model == .mlp ? 0.1 : 0.5)
        let classifier = try Classifier(sizes: sizes, activation: .tanh, learningRate: rate, l2: l2, seed: seed,
                                        options: options)
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

func fixed(_ value: Double) -> String { String(format: "%.4f", value) }
func pad(_ value: Int, _ largest: Int) -> String {
    String(repeating: " ", count: String(largest).count - String(value).count) + String(value)
}
func format(_ duration: Duration) -> String {
    let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    return seconds < 1 ? String(format: "%.1f ms", seconds * 1000) : String(format: "%.2f s", seconds)
}
