import Foundation
import Theano
import TheanoModels

/// `theano train stochastic|binaryconnect`: classifiers with stochastic units or weights.
struct StochasticTraining: TrainingDriver {
    let settings: TrainingSettings
    let data: (train: Dataset, test: Dataset)

    /// One gated classifier per gradient estimator, then a table of their test accuracy and
    /// the fraction of their gates that are exactly 0.
    func gatedClassifiers() throws {
        let (train, test) = data, sparsity = 0.1
        print("gated classifiers \(train.features)-\(hidden)-\(train.classes) (one stochastic gater per hidden unit, sparsity penalty \(sparsity)), \(epochs) epochs each")
        var rows: [(GatedClassifier.Estimator, accuracy: Double, zeros: Double, time: Duration)] = []
        for estimator in GatedClassifier.Estimator.allCases {
            print("\(estimator.rawValue):")
            let model = try compiling {
                try GatedClassifier(inputs: train.features, hidden: hidden, classes: train.classes, estimator: estimator,
                                    learningRate: learningRate, sparsity: sparsity, seed: seed, options: options)
            }
            var random = RandomState(seed: seed)
            let time = try trainEpochs(epochs, title: estimator.rawValue) { epoch in
                let loss = try model.trainEpoch(on: train, batchSize: batchSize, random: &random)
                guard epoch % 10 == 0 else { return EpochReport(loss: loss) }
                let (accuracy, zeros) = try model.evaluate(on: test)
                return EpochReport(loss: loss, note: "test \(fixed(accuracy))  zero gates \(fixed(zeros))")
            }
            let (accuracy, zeros) = try model.evaluate(on: test)
            rows.append((estimator, accuracy, zeros, time))
        }
        let width = GatedClassifier.Estimator.allCases.map(\.rawValue.count).max()!
        print("estimator".padding(toLength: width, withPad: " ", startingAt: 0) + "  test accuracy  zero gates  time")
        for row in rows {
            print(row.0.rawValue.padding(toLength: width, withPad: " ", startingAt: 0) + "  \(fixed(row.accuracy))         \(fixed(row.zeros))      \(format(row.time))")
        }
    }

    /// The float MLP and the same MLP with binarized weights and power-of-two backpropagation.
    func binaryConnect() throws {
        let (train, test) = data, sizes = [train.features, hidden, train.classes]
        var accuracies: [Double] = []
        for (name, mode) in [("float", BinaryConnectClassifier.Mode.float), ("binarized weights, power-of-two backpropagation", .fewMultiplications)] {
            print("\(name) MLP \(sizes.map(String.init).joined(separator: "-")):")
            let model = try compiling { try BinaryConnectClassifier(sizes: sizes, mode: mode, learningRate: learningRate, seed: seed, options: options) }
            var random = RandomState(seed: seed)
            let time = try trainEpochs(epochs, title: name) { _ in
                EpochReport(loss: try model.trainEpoch(on: train, batchSize: batchSize, random: &random), ["test": try model.accuracy(on: test)])
            }
            print("total time \(format(time))")
            accuracies.append(try model.accuracy(on: test))
        }
        print("float network test accuracy: \(fixed(accuracies[0]))")
        print("test accuracy: \(fixed(accuracies[1]))")
    }
}
