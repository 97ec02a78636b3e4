import Testing
@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoLoops
@testable import TheanoNative
@testable import TheanoOps
@testable import TheanoOptimizer
import TheanoModels

// The recurrent models of the examples: their data generators, and a few SGD steps that
// lower the loss on both executors.

@Suite("Recurrent models")
struct RecurrentModelTests {
    @Test func reberStringsFollowTheirSuccessorSets() {
        let grammar = EmbeddedReberGrammar()
        var random = RandomState(seed: 3)
        for _ in 0..<200 {
            let (symbols, successors) = grammar.string(using: &random)
            #expect(symbols.first == 0 && symbols.last == grammar.alphabet.firstIndex(of: "E"))
            #expect(symbols[1] == symbols[symbols.count - 2], "the embedded symbol comes back")
            for i in 0..<(symbols.count - 1) { #expect(successors[i].contains(symbols[i + 1])) }
            #expect(successors.last == [0])
        }
    }

    @Test func sentencesUseTheirAlphabet() {
        let source = ToySentences()
        var random = RandomState(seed: 4)
        let text = source.text(count: 500, using: &random)
        #expect(text.count == 500 && text.allSatisfy { source.alphabet.indices.contains($0) })
        let (inputs, labels) = nextSymbolBatch(text, starts: [0, 100], steps: 7, alphabet: source.alphabet.count)
        #expect(inputs.shape == [7, 2, source.alphabet.count] && labels.shape == [7, 2])
        #expect(labels.element([3, 1], as: Int64.self) == Int64(text[104]))
        #expect(inputs.element([3, 1, text[103]], as: Float.self) == 1)
    }

    @Test(arguments: [RecurrentNetwork.Cell.elman, .lstm], [false, true])
    func trainingLowersTheLoss(cell: RecurrentNetwork.Cell, native: Bool) throws {
        let grammar = EmbeddedReberGrammar()
        var random = RandomState(seed: 5)
        var stream: [Int] = []
        while stream.count < 400 { stream += grammar.string(using: &random).symbols }
        let alphabet = grammar.alphabet.count
        let model = try RecurrentNetwork(cell: cell, inputs: alphabet, hidden: 16, outputs: alphabet, loss: .crossentropy,
                                         learningRate: 1, options: native ? CompileOptions(linker: Scratch.linker()) : .default)
        let (inputs, labels) = nextSymbolBatch(stream, starts: [0, 90, 180, 270], steps: 12, alphabet: alphabet)
        let before = try model.evaluate(inputs, labels).cost
        for _ in 0..<30 { try model.step(inputs, labels) }
        let after = try model.evaluate(inputs, labels).cost
        #expect(after < before - 0.2, "\(cell): \(before) → \(after)")
    }
}
