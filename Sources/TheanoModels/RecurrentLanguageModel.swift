import Foundation
import Theano

/// The recurrent language model of "Online Representation Learning in Recurrent Neural
/// Language Models" (Rei, 2015): `h_t = σ(E[w_t] + b + h_{t−1} · W_h)` (an Elman step of
/// sigmoid units whose input weights are the word embeddings `E`), `p(w_{t+1}) =
/// softmax(h_t · V + c)`; trained by Adam with backpropagation through time over windows of
/// words, and evaluated word by word, optionally updating the embeddings at test time: after
/// each prediction, one gradient step on that word's loss with respect to `E`.
public final class RecurrentLanguageModel {
    /// The word embeddings, vocabulary × hidden: the cell's input weights.
    public let embeddings: SharedVariable
    /// The recurrent step.
    public let cell: ElmanCell
    /// The softmax layer.
    public let readout: Dense
    /// Everything training moves.
    public var parameters: [SharedVariable] { cell.parameters + readout.parameters }
    private let trainStep: Function, adaptiveStep: Function, frozenStep: Function
    private let hidden: Int

    /// A model of `vocabulary` words and `hidden` units, trained at `learningRate` and adapted
    /// online at `onlineRate`.
    public init(vocabulary: Int, hidden: Int, learningRate: Double, onlineRate: Double, seed: UInt64 = 1234, options: CompileOptions = .native) throws {
        var random = RandomState(seed: seed)
        self.hidden = hidden
        let embeddings = try shared(Initializer.glorotUniform.array([vocabulary, hidden], random: &random), name: "E")
        let cell = try ElmanCell(inputWeights: embeddings,
                             recurrentWeights: try shared(Initializer.orthogonal(gain: 1).array([hidden, hidden], random: &random), name: "W_h"),
                             bias: try shared(NDArray(zeros: [hidden], dtype: .float32), name: "b_h"), activation: .sigmoid)
        let readout = try Dense(hidden, vocabulary, name: "output", random: &random)
        (self.embeddings, self.cell, self.readout) = (embeddings, cell, readout)

        // Training: windows of words [steps, batch], predicting each next word.
        let words = matrix("words", dtype: .int64), targets = matrix("targets", dtype: .int64)
        let start = try alloc(constant(0, dtype: .float32), sizes: [words.shape[1], constant(NDArray(scalar: Int64(hidden)))])
        let states = try scan(sequences: [ScanSequence(embeddings[words] + cell.bias)], outputsInfo: [.recurrent(start)], name: "rnnlm") { v in
            ScanStep(try cell.step(v[0], [v[1]]))
        }[0]
        let cost = try sequenceCrossentropy(readout(states), targets)
        let updates = try Optimizer(.adam(), learningRate: .constant(learningRate), clipNorm: 5).updates(cost, parameters: cell.parameters + readout.parameters)
        trainStep = try function(inputs: [words, targets], outputs: [cost], updates: updates, name: "train", options: options)

        // Evaluation, one word at a time from the carried state.
        let word = scalar("word", dtype: .int64), next = scalar("next", dtype: .int64), previous = vector("h", dtype: .float32)
        let state = try cell.step((embeddings[word] + cell.bias).dimshuffle(.newAxis, 0), [previous.dimshuffle(.newAxis, 0)])[0]
        let loss = try sum(categoricalCrossentropy(softmax(readout(state)), next.dimshuffle(.newAxis)))
        let outputs = [loss, try state[0]]
        frozenStep = try function(inputs: [word, next, previous], outputs: outputs, name: "evaluate", options: options)
        let adapted = try embeddings - onlineRate * grad(loss, wrt: [embeddings])[0]
        adaptiveStep = try function(inputs: [word, next, previous], outputs: outputs, updates: [embeddings: adapted], name: "evaluate_online", options: options)
    }

    /// One SGD step on windows of words `[steps, batch]` and their next words; returns its cost.
    public func step(words: NDArray, targets: NDArray) throws -> Double {
        try trainStep(words, targets)[0].scalar(as: Double.self)
    }

    /// The perplexity of `documents`, each read word by word from a zero state. With `online`,
    /// the embeddings move after every prediction (and are restored afterwards).
    public func perplexity(of documents: [[Int]], online: Bool) throws -> Double {
        let saved = embeddings.value
        defer { try? embeddings.setValue(saved) }
        let evaluate = online ? adaptiveStep : frozenStep
        var total = 0.0, count = 0
        for document in documents where document.count > 1 {
            var state = NDArray(zeros: [hidden], dtype: .float32)
            for t in 0..<(document.count - 1) {
                let results = try evaluate(NDArray(scalar: Int64(document[t])), NDArray(scalar: Int64(document[t + 1])), state)
                total += results[0].scalar(as: Double.self)
                state = results[1]
                count += 1
            }
        }
        return Foundation.exp(total / Double(Swift.max(count, 1)))
    }
}
