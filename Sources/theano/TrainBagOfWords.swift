import Foundation
import Theano
import TheanoModels

/// `theano train bow`: logistic regression on bag-of-words features of a generated corpus,
/// trained twice from the same start, on CSR features and on the same features dense; reports
/// each one's held-out accuracy and time per epoch. The last line is `test accuracy: 0.xxxx`.
struct BagOfWordsTraining: TrainingDriver {
    let settings: TrainingSettings
    let documents: Int
    /// Whether to print where each training step spends its time.
    let profile: Bool

    func run() throws {
        let corpus = TopicCorpus(count: documents, seed: seed)
        let held = documents / 5
        let (train, test) = (corpus.subset(held..<documents), corpus.subset(0..<held))
        let (trainFeatures, testFeatures) = (try train.bagOfWords(), try test.bagOfWords())
        let words = corpus.vocabulary.count
        let stored = Double(trainFeatures.storedCount) / Double(train.count * words)
        print("bag of words: \(train.count) generated documents of \(corpus.classes) topics for training, \(test.count) held out; "
              + "\(words) words, \(String(format: "%.2f", 100 * stored)) % of the features stored "
              + "(\(trainFeatures.storedCount / Swift.max(train.count, 1)) distinct words per document)")
        var results: [(BagOfWordsClassifier.Storage, accuracy: Double, epoch: Double)] = []
        var sparseModel: BagOfWordsClassifier?
        for storage in BagOfWordsClassifier.Storage.allCases {
            let megabytes = storage == .sparse
                ? Double(trainFeatures.storedCount * (4 + 8) + 8 * (train.count + 1)) / 1e6 : Double(train.count * words * 4) / 1e6
            print("logistic regression on \(storage) features (\(String(format: "%.1f", megabytes)) MB):")
            let model = try compiling {
                try BagOfWordsClassifier(features: trainFeatures, labels: NDArray(train.labels.map(Int64.init)), classes: corpus.classes,
                                         storage: storage, learningRate: learningRate, options: options, profile: profile)
            }
            let heldOut = storage == .sparse ? NDArray(sparse: testFeatures) : testFeatures.dense()
            var random = RandomState(seed: seed), epochTimes: [Double] = []
            try trainEpochs(epochs, title: "\(storage) features") { _ in
                let started = ContinuousClock.now
                let loss = try model.trainEpoch(batchSize: batchSize, random: &random)
                epochTimes.append(seconds(ContinuousClock.now - started))
                return EpochReport(loss: loss, ["test accuracy": try model.accuracy(features: heldOut, labels: test.labelArray)])
            }
            results.append((storage, try model.accuracy(features: heldOut, labels: test.labelArray), epochTimes.sorted()[epochTimes.count / 2]))
            if storage == .sparse { sparseModel = model }
            if let profile = model.trainingProfile { print(profile) }
        }
        if let sparseModel {
            for (topic, telling) in sparseModel.tellingWords(count: 6).enumerated() {
                print("topic \(topic): \(telling.map { corpus.vocabulary[$0] }.joined(separator: " "))")
            }
        }
        for (storage, accuracy, epoch) in results {
            print("\(storage): test accuracy \(fixed(accuracy)), \(format(.seconds(epoch))) per epoch (median)")
        }
        if results.count == 2 { print("dense / sparse time per epoch: \(String(format: "%.1f", results[1].epoch / results[0].epoch))×") }
        print("test accuracy: \(fixed(results[0].accuracy))")
    }
}
