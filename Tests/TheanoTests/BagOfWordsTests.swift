import Foundation
import Testing
@testable import Theano
import TheanoModels

// The bag-of-words model of `theano train bow`: its generated corpus and logistic regression
// on sparse features against the same model on dense ones.

@Suite("Bag of words")
struct BagOfWordsTests {
    /// A seed regenerates the corpus; its features are log(1 + count) of each word a document
    /// has, one row per document.
    @Test func corpusIsReproducibleAndCounted() throws {
        let corpus = TopicCorpus(count: 40, classes: 3, vocabularySize: 300, topicWords: 20, lengths: 5...30, seed: 7)
        let again = TopicCorpus(count: 40, classes: 3, vocabularySize: 300, topicWords: 20, lengths: 5...30, seed: 7)
        #expect(corpus.documents == again.documents && corpus.labels == again.labels && Set(corpus.vocabulary).count == 300)
        let features = try corpus.bagOfWords(dtype: .float64), dense = features.dense().elements(as: Double.self)
        #expect(features.shape == [40, 300] && features.format == .csr)
        for (row, words) in corpus.documents.enumerated() {
            let counts = Dictionary(words.map { ($0, 1.0) }, uniquingKeysWith: +)
            for word in 0..<300 { #expect(dense[row * 300 + word] == (counts[word].map { Foundation.log1p($0) } ?? 0)) }
        }
        #expect(Set(corpus.labels) == [0, 1, 2])
    }

    /// Trained from the same start on the same minibatches, the sparse and the dense models
    /// reach the same weights (to float32 rounding) and the same predictions, well above chance.
    @Test func sparseAndDenseFeaturesTrainTheSameModel() throws {
        let corpus = TopicCorpus(count: 400, classes: 4, vocabularySize: 800, topicWords: 40, topicality: 0.2, lengths: 20...60, seed: 3)
        let (train, test) = (corpus.subset(100..<400), corpus.subset(0..<100))
        let (features, heldOut) = (try train.bagOfWords(), try test.bagOfWords())
        var trained: [(weights: [Float], accuracy: Double)] = []
        for storage in BagOfWordsClassifier.Storage.allCases {
            let model = try BagOfWordsClassifier(features: features, labels: train.labelArray, classes: 4, storage: storage, learningRate: 0.5)
            var random = RandomState(seed: 11)
            for _ in 0..<5 { _ = try model.trainEpoch(batchSize: 16, random: &random) }
            let input = storage == .sparse ? NDArray(sparse: heldOut) : heldOut.dense()
            trained.append((model.weights.value.elements(as: Float.self), try model.accuracy(features: input, labels: test.labelArray)))
        }
        let largest = zip(trained[0].weights, trained[1].weights).map { abs($0 - $1) }.max() ?? 0
        #expect(largest < 1e-5, "the sparse and dense models' weights differ by \(largest)")
        #expect(trained[0].accuracy == trained[1].accuracy)
        #expect(trained[0].accuracy > 0.8, "test accuracy \(trained[0].accuracy) on four topics")
    }
}
