import Foundation
import Testing
import Theano
import TheanoModels

// The character-level language model of `theano train charlm` and its bundled text.

@Suite("Character-level language model")
struct CharacterLanguageModelTests {
    /// The bundled Genesis is the whole book, its alphabet sorted, and windows pair each
    /// character with the next, time first.
    @Test func genesisLoadsAndWindowsPairEachCharacterWithTheNext() throws {
        let text = try CharacterText.genesis()
        #expect(text.symbols.count == 196_818 && text.alphabet.count == 60)
        #expect(String(text.symbols.prefix(16).map { text.alphabet[$0] }) == "In the beginning")
        #expect(String(text.symbols.suffix(15).map { text.alphabet[$0] }) == "ffin in Egypt.\n")
        #expect(text.alphabet == text.alphabet.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) })

        let starts = text.windowStarts(in: 100..<160, steps: 7)
        #expect(starts == [100, 107, 114, 121, 128, 135, 142, 149])
        let (characters, targets) = text.windows(starts: [3, 40], steps: 5)
        #expect(characters.shape == [5, 2] && targets.shape == [5, 2])
        let c = characters.elements(as: Int64.self), t = targets.elements(as: Int64.self)
        for step in 0..<5 {
            for (b, start) in [3, 40].enumerated() {
                #expect(c[step * 2 + b] == Int64(text.symbols[start + step]) && t[step * 2 + b] == Int64(text.symbols[start + step + 1]))
            }
        }
        let small = CharacterText("abca")
        #expect(small.alphabet == ["a", "b", "c"] && small.symbols == [0, 1, 2, 0])
    }

    /// The per-step evaluation agrees with the training cost (measured before the update) and
    /// with the layer's states computed on their own; the norm stabilizer changes the update
    /// but not the reported cost.
    @Test(arguments: CharacterLanguageModel.Cell.allCases)
    func evaluationAgreesWithTrainingAndThePenaltyActs(cell: CharacterLanguageModel.Cell) throws {
        let text = CharacterText("in the beginning god created the heaven and the earth. and the earth was without form, and void.")
        let (characters, targets) = text.windows(starts: [0, 20, 41], steps: 12)
        let plain = try CharacterLanguageModel(alphabet: text.alphabet.count, hidden: 8, cell: cell, learningRate: 0.01, seed: 3, options: .default)
        let stabilized = try CharacterLanguageModel(alphabet: text.alphabet.count, hidden: 8, cell: cell, normStabilizer: 50, learningRate: 0.01,
                                                    seed: 3, options: .default)
        let evaluation = try plain.evaluate(characters: characters, targets: targets)
        #expect(evaluation.crossentropy.count == 12 && evaluation.norms.count == 12)
        let mean = evaluation.crossentropy.reduce(0, +) / 12
        #expect(abs(mean - log(Double(text.alphabet.count))) < 0.5, "an untrained model is near uniform: \(mean)")

        // The states on their own: ‖h_t‖ averaged over the batch.
        let x = matrix(dtype: .int64)
        let states = try function(inputs: [x], outputs: [plain.layer(oneHot(x, classes: text.alphabet.count, dtype: .float32)).outputs])(characters)[0]
        let h = states.elements(as: Double.self)
        for step in 0..<12 {
            let norms = (0..<3).map { b in sqrt((0..<8).map { h[(step * 3 + b) * 8 + $0] * h[(step * 3 + b) * 8 + $0] }.reduce(0, +)) }
            #expect(abs(norms.reduce(0, +) / 3 - evaluation.norms[step]) < 1e-5)
        }

        let cost = try plain.step(characters: characters, targets: targets)
        #expect(abs(cost - mean) < 1e-5)
        #expect(abs(try stabilized.step(characters: characters, targets: targets) - cost) < 1e-6, "the same start, the cost without the penalty")
        #expect(plain.parameters[1].value != stabilized.parameters[1].value, "the penalty moves the recurrent weights differently")
        for _ in 0..<40 { _ = try plain.step(characters: characters, targets: targets) }
        #expect(try plain.step(characters: characters, targets: targets) < 0.8 * cost)
    }
}
