import Foundation
import Theano
import TheanoModels

/// `theano train rnn`: an Elman network as a character-level language model (in the style
/// of RNNLM) on generated English-like sentences; reports held-out bits per character.
/// `theano train lstm`: an LSTM predicting the next symbol of the embedded Reber grammar;
/// reports how often its most probable symbol is one the grammar allows, over all
/// positions and at the one position that needs a long memory.
struct SequenceTraining: TrainingDriver {
    let settings: TrainingSettings
    let steps = 40

    func languageModel() throws {
        let source = ToySentences()
        var random = RandomState(seed: seed)
        let train = source.text(count: 40_000, using: &random), test = source.text(count: 8_000, using: &random)
        let alphabet = source.alphabet.count
        print("Elman RNN language model: \(alphabet) characters, \(hidden) hidden units, \(train.count) training and \(test.count) held-out characters")
        let model = try compile(.elman, alphabet: alphabet)
        let windows = { (stream: [Int]) in Array(stride(from: 0, to: stream.count - steps - 1, by: steps)) }
        try run(model, train: train, trainStarts: windows(train), alphabet: alphabet, random: &random) {
            let costs = try batches(of: windows(test)).map { starts in
                let (inputs, labels) = nextSymbolBatch(test, starts: starts, steps: steps, alphabet: alphabet)
                return try model.evaluate(inputs, labels).cost
            }
            return "held-out bits per character \(fixed(costs.reduce(0, +) / Double(costs.count) / log(2)))"
        }
    }

    /// The training and held-out streams of `reber()`, drawn from the seed.
    func reberStreams() -> (train: ReberStream, test: ReberStream) {
        var random = RandomState(seed: seed)
        return reberStreams(random: &random)
    }

    private func reberStreams(random: inout RandomState) -> (train: ReberStream, test: ReberStream) {
        let grammar = EmbeddedReberGrammar()
        return (ReberStream(grammar, strings: 3000, steps: steps, random: &random), ReberStream(grammar, strings: 500, steps: steps, random: &random))
    }

    func reber() throws {
        var random = RandomState(seed: seed)
        let (train, test) = reberStreams(random: &random)
        let alphabet = EmbeddedReberGrammar().alphabet.count
        print("LSTM on the embedded Reber grammar: \(hidden) hidden units, \(train.starts.count) training and \(test.starts.count) held-out strings (windows of \(steps) symbols)")
        let model = try compile(.lstm, alphabet: alphabet)
        try run(model, train: train.symbols, trainStarts: train.starts, alphabet: alphabet, random: &random) {
            var score = ReberStream.Score()
            for starts in batches(of: test.starts) {
                let (inputs, labels) = nextSymbolBatch(test.symbols, starts: starts, steps: steps, alphabet: alphabet)
                test.score(try model.evaluate(inputs, labels).predictions.elements(as: Int64.self), starts: starts, into: &score)
            }
            return "next-symbol accuracy \(fixed(score.accuracy))  long-range \(fixed(score.longRangeAccuracy))"
        }
    }

    private func compile(_ cell: RecurrentNetwork.Cell, alphabet: Int) throws -> RecurrentNetwork {
        let started = ContinuousClock.now
        let model = try RecurrentNetwork(cell: cell, inputs: alphabet, hidden: hidden, outputs: alphabet, loss: .crossentropy,
                                         learningRate: learningRate, seed: seed, options: options)
        print("compiled in \(format(ContinuousClock.now - started))")
        return model
    }

    private func batches(of starts: [Int]) -> [[Int]] {
        stride(from: 0, to: starts.count - batchSize + 1, by: batchSize).map { Array(starts[$0..<($0 + batchSize)]) }
    }

    /// Trains for `epochs` passes over shuffled windows, printing the training loss, the
    /// held-out report and the time of each epoch.
    private func run(_ model: RecurrentNetwork, train: [Int], trainStarts: [Int], alphabet: Int, random: inout RandomState,
                     evaluate: () throws -> String) throws {
        let started = ContinuousClock.now
        var report = ""
        for epoch in 1...epochs {
            let epochStart = ContinuousClock.now
            var order = trainStarts
            for i in order.indices.reversed() { order.swapAt(i, Int(random.next() % UInt64(i + 1))) }
            var losses: [Double] = []
            for starts in batches(of: order) {
                let (inputs, labels) = nextSymbolBatch(train, starts: starts, steps: steps, alphabet: alphabet)
                losses.append(try model.step(inputs, labels))
            }
            let elapsed = ContinuousClock.now - epochStart
            report = try evaluate()
            print("epoch \(pad(epoch, epochs))  loss \(fixed(losses.reduce(0, +) / Double(losses.count)))  \(report)  time \(format(elapsed))")
        }
        print("total time \(format(ContinuousClock.now - started))")
        print(report)
    }
}
