import Foundation
import TheanoCore

/// A text-classification corpus generated from a seed, for bag-of-words models: documents of
/// made-up words, each drawn from its class's topic.
///
/// Each word of a document is, with probability `1 − topicality`, a background word drawn
/// from a Zipf law over the whole vocabulary (as the words of real text are, rank `r` with
/// probability ∝ `1 / (r + 2.7)`), and otherwise one of its class's topic words (a random set
/// of vocabulary words, some shared between classes), drawn uniformly. Document lengths are
/// uniform between `lengths` bounds. The words are pronounceable syllable strings, so that
/// a model's most telling words can be printed.
///
/// There is no text to download, and a seed regenerates the same corpus.
public struct TopicCorpus: Sendable {
    /// The words, by identifier.
    public let vocabulary: [String]
    /// Each document's words, as identifiers.
    public let documents: [[Int]]
    /// Each document's class.
    public let labels: [Int]
    /// The number of classes.
    public let classes: Int

    /// Generates `count` documents of `classes` topics over `vocabularySize` words.
    public init(count: Int, classes: Int = 4, vocabularySize: Int = 10_000, topicWords: Int = 300, topicality: Double = 0.08,
                lengths: ClosedRange<Int> = 40...160, seed: UInt64 = 1234) {
        var random = RandomState(seed: seed)
        vocabulary = TopicCorpus.words(count: vocabularySize, random: &random)
        // The background's cumulative Zipf weights, over a random ranking of the words.
        let ranking = Array(0..<vocabularySize).shuffled(using: &random)
        var cumulative = [Double](repeating: 0, count: vocabularySize), total = 0.0
        for rank in 0..<vocabularySize {
            total += 1 / (Double(rank) + 2.7)
            cumulative[rank] = total
        }
        let topics = (0..<classes).map { _ in (0..<topicWords).map { _ in Int.random(in: 0..<vocabularySize, using: &random) } }
        var documents: [[Int]] = [], labels: [Int] = []
        for _ in 0..<count {
            let label = Int.random(in: 0..<classes, using: &random)
            let length = Int.random(in: lengths, using: &random)
            documents.append((0..<length).map { _ in
                if random.nextUnit() < topicality { return topics[label][Int.random(in: 0..<topicWords, using: &random)] }
                let target = random.nextUnit() * total
                return ranking[Swift.min(cumulative.partitioningIndex { $0 > target }, vocabularySize - 1)]
            })
            labels.append(label)
        }
        (self.documents, self.labels, self.classes) = (documents, labels, classes)
    }

    /// The number of documents.
    public var count: Int { documents.count }

    /// The documents as a CSR matrix of `dtype`, one row per document and one column per word:
    /// `log(1 + count)` of each word the document has (term frequencies, damped).
    public func bagOfWords(dtype: DType = .float32) throws -> SparseMatrix {
        var rows: [Int] = [], columns: [Int] = []
        for (row, words) in documents.enumerated() {
            rows += repeatElement(row, count: words.count)
            columns += words
        }
        let counts = try SparseMatrix(format: .csr, shape: [count, vocabulary.count], rows: rows, columns: columns,
                                      values: NDArray([Double](repeating: 1, count: rows.count), shape: [rows.count]))
        let damped = counts.data.elements(as: Double.self).map { Foundation.log1p($0) }
        return counts.withData(NDArray(damped, shape: [damped.count]).cast(to: dtype))
    }

    /// The labels as an `int64` vector.
    public var labelArray: NDArray { NDArray(labels.map(Int64.init)) }

    /// The documents at `positions`, in that order.
    public func subset(_ positions: some Sequence<Int>) -> TopicCorpus {
        let positions = Array(positions)
        return TopicCorpus(vocabulary: vocabulary, documents: positions.map { documents[$0] }, labels: positions.map { labels[$0] }, classes: classes)
    }

    private init(vocabulary: [String], documents: [[Int]], labels: [Int], classes: Int) {
        (self.vocabulary, self.documents, self.labels, self.classes) = (vocabulary, documents, labels, classes)
    }

    /// `count` distinct words of two to four syllables.
    private static func words(count: Int, random: inout RandomState) -> [String] {
        let onsets = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "st", "tr", "ch", "sh", "th"]
        let vowels = ["a", "e", "i", "o", "u", "ai", "ou"]
        var seen: Set<String> = [], words: [String] = []
        while words.count < count {
            let syllables = Int.random(in: 2...4, using: &random)
            let word = (0..<syllables).map { _ in onsets.randomElement(using: &random)! + vowels.randomElement(using: &random)! }.joined()
            if seen.insert(word).inserted { words.append(word) }
        }
        return words
    }
}

extension Array {
    /// The first index whose element satisfies `predicate`, which is false then true along the
    /// array (binary search); `count` when none does.
    fileprivate func partitioningIndex(where predicate: (Element) -> Bool) -> Int {
        var (low, high) = (0, count)
        while low < high {
            let middle = (low + high) / 2
            if predicate(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
