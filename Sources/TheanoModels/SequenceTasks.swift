import Theano

// Symbol streams for the recurrent examples, generated (seeded) so nothing needs
// downloading: every stream is a list of indices into its source's `alphabet`.

/// The embedded Reber grammar (Cleeremans, Servan-Schreiber and McClelland 1989; the
/// benchmark of Hochreiter and Schmidhuber's 1997 LSTM paper): `B`, then `T` or `P`, then a
/// string of the Reber grammar, then the same `T` or `P` again, then `E`. Predicting the
/// second-to-last symbol needs a memory of the second one across the whole inner string.
public struct EmbeddedReberGrammar {
    /// The symbols; streams hold indices into it.
    public let alphabet: [Character] = ["B", "T", "P", "S", "X", "V", "E"]

    /// The grammar.
    public init() {}

    /// The inner grammar: for each state, the symbols that may come next and the state each
    /// leads to (state 6 only ends the string).
    private static let transitions: [[(symbol: Character, next: Int)]] = [
        [("B", 1)], [("T", 2), ("P", 3)], [("S", 2), ("X", 4)], [("T", 3), ("V", 5)], [("X", 3), ("S", 6)], [("P", 4), ("V", 6)], [("E", -1)],
    ]

    /// One string, and for each of its symbols the set of symbols that may follow it (the
    /// last one's: `B`, which starts the next string).
    public func string(using random: inout RandomState) -> (symbols: [Int], successors: [Set<Int>]) {
        let index = Dictionary(uniqueKeysWithValues: alphabet.enumerated().map { ($1, $0) })
        let embedded: Character = random.next() % 2 == 0 ? "T" : "P"
        var symbols: [Character] = ["B", embedded], successors: [Set<Character>] = [["T", "P"], ["B"]]
        var state = 0
        while state >= 0 {
            let choices = Self.transitions[state]
            let (symbol, next) = choices[Int(random.next() % UInt64(choices.count))]
            symbols.append(symbol)
            successors.append(next >= 0 ? Set(Self.transitions[next].map(\.symbol)) : [embedded])
            state = next
        }
        symbols += [embedded, "E"]
        successors += [["E"], ["B"]]
        return (symbols.map { index[$0]! }, successors.map { Set($0.map { index[$0]! }) })
    }
}

/// Strings of the embedded Reber grammar one after another, as one stream cut into windows
/// of `steps` symbols (one starting at each string), with what may follow each symbol: the
/// data of `theano train lstm`, and how its predictions are scored.
public struct ReberStream {
    /// The symbols, and for each the symbols the grammar allows next.
    public let symbols: [Int], successors: [Set<Int>]
    /// Where each window starts (each with `steps` symbols and the one after them).
    public let starts: [Int]
    /// The window length.
    public let steps: Int
    /// The index of `E`, which ends each string.
    private let end: Int

    /// `strings` strings of `grammar`, drawn from `random`.
    public init(_ grammar: EmbeddedReberGrammar, strings: Int, steps: Int, random: inout RandomState) {
        var symbols: [Int] = [], successors: [Set<Int>] = [], starts: [Int] = []
        for _ in 0..<strings {
            starts.append(symbols.count)
            let string = grammar.string(using: &random)
            symbols += string.symbols
            successors += string.successors
        }
        (self.symbols, self.successors, self.steps) = (symbols, successors, steps)
        self.starts = starts.filter { $0 + steps + 1 < symbols.count }
        end = grammar.alphabet.firstIndex(of: "E")!
    }

    /// How many predictions were right: over all positions, and at the one position that
    /// needs a long memory (the second-to-last symbol of a string, which repeats the second).
    public struct Score: Sendable {
        public var right = 0, total = 0, rightLongRange = 0, totalLongRange = 0

        public init() {}

        /// The fraction right over all positions.
        public var accuracy: Double { Double(right) / Double(Swift.max(total, 1)) }
        /// The fraction right at the long-range position.
        public var longRangeAccuracy: Double { Double(rightLongRange) / Double(Swift.max(totalLongRange, 1)) }
    }

    /// The score of `predictions` (`[steps, starts.count]`, the most probable next symbol)
    /// for the windows at `starts`, added to `score`.
    public func score(_ predictions: [Int64], starts windows: [Int], into score: inout Score) {
        for t in 0..<steps {
            for (b, start) in windows.enumerated() {
                let allowed = successors[start + t], ok = allowed.contains(Int(predictions[t * windows.count + b]))
                (score.right, score.total) = (score.right + (ok ? 1 : 0), score.total + 1)
                if allowed.count == 1, start + t + 2 < symbols.count, symbols[start + t + 2] == end {
                    (score.rightLongRange, score.totalLongRange) = (score.rightLongRange + (ok ? 1 : 0), score.totalLongRange + 1)
                }
            }
        }
    }
}

/// English-like sentences from a small grammar ("the old cat follows a bird ."), as a
/// character stream: a corpus for character-level language models.
public struct ToySentences {
    /// The characters the sentences use, sorted; streams hold indices into it.
    public let alphabet: [Character]

    private static let determiners = ["the", "a", "every", "some", "no"]
    private static let adjectives = ["small", "big", "red", "old", "happy", "quiet"]
    private static let nouns = ["cat", "dog", "bird", "child", "teacher", "river", "garden"]
    private static let verbs = ["sees", "likes", "follows", "chases", "finds", "hears"]
    private static let intransitive = ["sleeps", "sings", "waits", "runs"]

    /// The grammar, with its alphabet.
    public init() {
        let words = Self.determiners + Self.adjectives + Self.nouns + Self.verbs + Self.intransitive
        alphabet = Array(Set(words.joined() + " .")).sorted()
    }

    /// `count` characters of sentences.
    public func text(count: Int, using random: inout RandomState) -> [Int] {
        func pick(_ words: [String]) -> String { words[Int(random.next() % UInt64(words.count))] }
        func nounPhrase() -> String {
            let adjective = random.next() % 2 == 0 ? pick(Self.adjectives) + " " : ""
            return pick(Self.determiners) + " " + adjective + pick(Self.nouns)
        }
        let index = Dictionary(uniqueKeysWithValues: alphabet.enumerated().map { ($1, $0) })
        var characters: [Int] = []
        while characters.count < count {
            let predicate = random.next() % 3 == 0 ? pick(Self.intransitive) : pick(Self.verbs) + " " + nounPhrase()
            characters += (nounPhrase() + " " + predicate + " . ").map { index[$0]! }
        }
        return Array(characters.prefix(count))
    }
}

/// Batches of windows of a symbol stream, time-major, for next-symbol prediction: inputs
/// one-hot `[steps, batch, alphabet]`, labels `[steps, batch]` (the symbol after each input).
public func nextSymbolBatch(_ stream: [Int], starts: [Int], steps: Int, alphabet: Int) -> (inputs: NDArray, labels: NDArray) {
    var inputs = [Float](repeating: 0, count: steps * starts.count * alphabet)
    var labels = [Int64](repeating: 0, count: steps * starts.count)
    for (b, start) in starts.enumerated() {
        for t in 0..<steps {
            inputs[(t * starts.count + b) * alphabet + stream[start + t]] = 1
            labels[t * starts.count + b] = Int64(stream[start + t + 1])
        }
    }
    return (NDArray(inputs, shape: [steps, starts.count, alphabet]), NDArray(labels, shape: [steps, starts.count]))
}
