import Foundation
import Theano
import TheanoModels

/// `theano train rnnlm [--online]`: the recurrent language model of "Online Representation
/// Learning in Recurrent Neural Language Models" on a generated corpus whose documents each
/// keep to a topic (``TopicCorpus``: a Zipf background of 2,000 made-up words plus the topic's
/// own); reports held-out perplexity, and with `--online` also with the embeddings updated
/// after every prediction, as the paper does at test time.
struct LanguageModelTraining: TrainingDriver {
    let settings: TrainingSettings
    let onlineRate: Double
    let online: Bool
    let steps = 20

    func run() throws {
        let corpus = TopicCorpus(count: 1_500, classes: 8, vocabularySize: 2_000, topicWords: 40, topicality: 0.3, lengths: 60...140, seed: seed)
        let held = 300
        let (train, test) = (Array(corpus.documents[held...]), Array(corpus.documents[..<held]))
        // Windows of `steps` words and the words after them.
        let windows = train.flatMap { document in
            stride(from: 0, to: document.count - steps - 1, by: steps).map { Array(document[$0...($0 + steps)]) }
        }
        print("recurrent language model, \(hidden) sigmoid units: \(train.count) training documents (\(windows.count) windows of \(steps) words), "
              + "\(test.count) held out, \(corpus.vocabulary.count) words, \(corpus.classes) topics")
        let model = try compiling {
            try RecurrentLanguageModel(vocabulary: corpus.vocabulary.count, hidden: hidden, learningRate: learningRate, onlineRate: onlineRate,
                                       seed: seed, options: options)
        }
        var random = RandomState(seed: seed)
        try trainEpochs(epochs, title: "rnnlm") { _ in
            let loss = try meanOverMinibatches(count: windows.count, batchSize: batchSize, random: &random) { rows in
                var words = [Int64](repeating: 0, count: steps * rows.count), targets = words
                for (b, row) in rows.enumerated() {
                    for t in 0..<steps {
                        words[t * rows.count + b] = Int64(windows[row][t])
                        targets[t * rows.count + b] = Int64(windows[row][t + 1])
                    }
                }
                return try model.step(words: NDArray(words, shape: [steps, rows.count]), targets: NDArray(targets, shape: [steps, rows.count]))
            }
            return EpochReport(loss: loss, ["training perplexity": Foundation.exp(loss)])
        }
        let started = ContinuousClock.now
        let frozen = try model.perplexity(of: test, online: false)
        print("held-out perplexity \(String(format: "%.2f", frozen)) (\(format(ContinuousClock.now - started)))")
        guard online else { return }
        let adapting = ContinuousClock.now
        let adapted = try model.perplexity(of: test, online: true)
        print("held-out perplexity with online updates of the embeddings (rate \(onlineRate)): \(String(format: "%.2f", adapted)) "
              + "(\(format(ContinuousClock.now - adapting)))")
    }
}
