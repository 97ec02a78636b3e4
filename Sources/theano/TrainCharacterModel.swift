import ArgumentParser
import Foundation
import Theano
import TheanoModels

extension CharacterLanguageModel.Cell: ExpressibleByArgument {}

/// `theano train charlm`: the character-level experiment of "Regularizing RNNs by Stabilizing
/// Activations" at small scale, on the Book of Genesis bundled with the library (the last
/// tenth held out). Each configuration — an LSTM and an IRNN, each without and with the norm
/// stabilizer — trains on windows of 50 characters from a zero state, then is evaluated on
/// held-out windows of 50 and of 200 characters (four times longer than trained on). The
/// summary gives bits per character at both lengths, over the last 50 steps of the long
/// windows, and the hidden state's mean norm at steps 50 and 200.
///
/// Each cell has its own defaults (`--epochs` and `--learning-rate` override them): the IRNN
/// needs a smaller step than the LSTM. A run whose cost stops being finite ends there, and is
/// evaluated with the parameters of its last finite epoch.
struct CharacterModelTraining {
    let epochs: Int?, batchSize: Int, hidden: Int, learningRate: Double?, seed: UInt64, options: CompileOptions
    let cells: [CharacterLanguageModel.Cell]
    /// The penalty weights to compare; nil trains without the penalty.
    let stabilizers: [Double?]
    let steps = 50, longer = 4

    /// A cost that stopped being finite in `epoch`.
    private struct Diverged: Error { let epoch: Int }

    func run() throws {
        let text = try CharacterText.genesis()
        let split = text.symbols.count * 9 / 10
        let trainStarts = text.windowStarts(in: 0..<split, steps: steps)
        let short = text.windows(starts: text.windowStarts(in: split..<text.symbols.count, steps: steps), steps: steps)
        let long = text.windows(starts: text.windowStarts(in: split..<text.symbols.count, steps: longer * steps), steps: longer * steps)
        print("character-level language models on Genesis (KJV): \(text.alphabet.count) characters, \(split) for training "
              + "(\(trainStarts.count) windows of \(steps)), \(text.symbols.count - split) held out; \(hidden) hidden units")
        let bits = { (nats: [Double]) in nats.reduce(0, +) / Double(nats.count) / log(2) }
        var summary: [String] = []
        for cell in cells {
            for beta in stabilizers {
                let name = "\(cell.rawValue)" + (beta.map { ", norm stabilizer β = \(Int($0))" } ?? ", no penalty")
                print("\n\(name)")
                let model = try compiling {
                    try CharacterLanguageModel(alphabet: text.alphabet.count, hidden: hidden, cell: cell, normStabilizer: beta,
                                               learningRate: learningRate ?? (cell == .lstm ? 0.01 : 0.001), seed: seed, options: options)
                }
                var random = RandomState(seed: seed)
                var kept = model.parameters.map(\.value), note = ""
                let started = ContinuousClock.now
                do {
                    try trainEpochs(epochs ?? (cell == .lstm ? 6 : 15), title: name) { epoch in
                        let loss = try meanOverMinibatches(count: trainStarts.count, batchSize: batchSize, random: &random) { rows in
                            let (characters, targets) = text.windows(starts: rows.map { trainStarts[$0] }, steps: steps)
                            return try model.step(characters: characters, targets: targets)
                        }
                        guard loss.isFinite else { throw Diverged(epoch: epoch) }
                        kept = model.parameters.map(\.value)
                        let heldOut = try model.evaluate(characters: short.characters, targets: short.targets)
                        return EpochReport(loss: loss / log(2), ["held-out bits/char": bits(heldOut.crossentropy)])
                    }
                } catch let diverged as Diverged {
                    for (parameter, value) in zip(model.parameters, kept) { try parameter.setValue(value) }
                    note = "  diverged in epoch \(diverged.epoch), evaluated as after epoch \(diverged.epoch - 1)"
                    print(note.dropFirst(2))
                }
                let time = ContinuousClock.now - started
                let atLength = try model.evaluate(characters: short.characters, targets: short.targets)
                let atFour = try model.evaluate(characters: long.characters, targets: long.targets)
                let row = [name.padding(toLength: 36, withPad: " ", startingAt: 0), fixed(bits(atLength.crossentropy)), fixed(bits(atFour.crossentropy)),
                           fixed(bits(Array(atFour.crossentropy.suffix(steps)))),
                           String(format: "%.1f / %.1f", atFour.norms[steps - 1], atFour.norms[longer * steps - 1]), format(time)]
                summary.append(row.joined(separator: "  ") + note)
            }
        }
        print("\nheld-out bits per character (windows of \(steps) as trained, of \(longer * steps), and the last \(steps) steps of those); "
              + "mean ‖h‖ at steps \(steps) / \(longer * steps); training time")
        for line in summary { print(line) }
    }
}
