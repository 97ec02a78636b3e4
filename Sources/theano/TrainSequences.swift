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

    func reber() throws {
        let grammar = EmbeddedReberGrammar()
        var random = RandomState(seed: seed)
        func stream(_ strings: Int) -> (symbols: [Int], successors: [Set<Int>], starts: [Int]) {
            var symbols: [Int] = [], successors: [Set<Int>] = [], starts: [Int] = []
            for _ in 0..<strings {
                starts.append(symbols.count)
                let string = grammar.string(using: &random)
                symbols += string.symbols
                successors += string.successors
            }
            return (symbols, successors, starts.filter { $0 + steps + 1 < symbols.count })
        }
        let train = stream(3000), test = stream(500)
        let alphabet = grammar.alphabet.count, end = grammar.alphabet.firstIndex(of: "E")!
        print("LSTM on the embedded Reber grammar: \(hidden) hidden units, \(train.starts.count) training and \(test.starts.count) held-out strings (windows of \(steps) symbols)")
        let model = try compile(.lstm, alphabet: alphabet)
        try run(model, train: train.symbols, trainStarts: train.starts, alphabet: alphabet, random: &random) {
            var (right, total, rightLong, totalLong) = (0, 0, 0, 0)
            for starts in batches(of: test.starts) {
                let (inputs, labels) = nextSymbolBatch(test.symbols, starts: starts, steps: steps, alphabet: alphabet)
                let predictions = try model.evaluate(inputs, labels).predictions.elements(as: Int64.self)
                for t in 0..<steps {
                    for (b, start) in starts.enumerated() {
                        let allowed = test.successors[start + t], ok = allowed.contains(Int(predictions[t * starts.count + b]))
                        (right, total) = (right + (ok ? 1 : 0), total + 1)
                        // The second-to-last symbol: only the memory of the second one tells which.
                        if allowed.count == 1, start + t + 2 < test.symbols.count, test.symbols[start + t + 2] == end {
                            (rightLong, totalLong) = (rightLong + (ok ? 1 : 0), totalLong + 1)
                        }
                    }
                }
            }
            return "next-symbol accuracy \(fixed(Double(right) / Double(total)))  long-range \(fixed(Double(rightLong) / Double(max(totalLong, 1))))"
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
