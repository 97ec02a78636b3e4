import Foundation
import Theano
import TheanoModels

/// `theano train seqclass`: a bidirectional LSTM classifying the digits read row by row, a
/// quarter of the rows dropped at random (so the sequences have different lengths and each
/// batch is padded, with a mask); the last line is `test accuracy: 0.xxxx`.
struct SequenceClassifierTraining: TrainingDriver {
    let settings: TrainingSettings
    let data: (train: Dataset, test: Dataset)

    func run() throws {
        var random = RandomState(seed: seed)
        let drop = 0.25
        let (train, test) = (RowSequences(data.train, drop: drop, random: &random), RowSequences(data.test, drop: drop, random: &random))
        let lengths = train.kept.map(\.count)
        print("bidirectional LSTM (\(hidden) units each way) on the digits read row by row, \(Int(drop * 100)) % of the rows dropped: "
              + "\(train.data.count) training and \(test.data.count) test sequences of \(lengths.min()!)–\(lengths.max()!) rows of \(train.width) pixels")
        let model = try compiling {
            try SequenceClassifier(features: train.width, hidden: hidden, classes: train.data.classes, learningRate: learningRate, seed: seed, options: options)
        }
        func accuracy() throws -> Double {
            let all = Array(0..<test.data.count), (x, mask, labels) = test.batch(all)
            let predicted = try model.predict(x, mask: mask).elements(as: Int64.self)
            return Double(zip(predicted, labels.elements(as: Int64.self)).filter { $0 == $1 }.count) / Double(all.count)
        }
        try trainEpochs(epochs, title: "seqclass") { _ in
            let loss = try meanOverMinibatches(count: train.data.count, batchSize: batchSize, random: &random) { examples in
                let (x, mask, labels) = train.batch(examples)
                return try model.step(x, mask: mask, labels: labels)
            }
            return EpochReport(loss: loss, ["test accuracy": try accuracy()])
        }
        print("test accuracy: \(fixed(try accuracy()))")
    }
}
