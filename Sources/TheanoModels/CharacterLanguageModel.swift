import Foundation
import Theano

/// A character-level language model as in the experiments of "Regularizing RNNs by Stabilizing
/// Activations" (Krueger and Memisevic, 2016): one recurrent layer (an LSTM, or an IRNN —
/// ReLU units with identity-initialized recurrent weights) over one-hot characters, a softmax
/// layer predicting the next character, optionally the norm-stabilizer penalty
/// `β · mean (‖h_t‖ − ‖h_{t−1}‖)²` added to the training cost. Trained by Adam with the
/// gradients clipped by norm, on windows that each start from a zero state; evaluated on
/// windows of any length, step by step, so that a model trained on short windows can be
/// judged on longer ones.
public final class CharacterLanguageModel {
    /// The recurrent layer's kind.
    public enum Cell: String, Sendable, CaseIterable {
        case lstm, irnn
    }

    /// The recurrent layer, with its penalty.
    public let layer: Sequencer
    /// The softmax layer.
    public let readout: Dense
    /// Everything training moves.
    public var parameters: [SharedVariable] { layer.parameters + readout.parameters }
    private let trainStep: Function, evaluator: Function

    /// A model of `alphabet` characters with `hidden` recurrent units of kind `cell`, the
    /// norm stabilizer of weight `normStabilizer` (none when nil) in its training cost.
    public init(alphabet: Int, hidden: Int, cell: Cell, normStabilizer: Double? = nil, learningRate: Double, clipNorm: Double = 1,
                seed: UInt64 = 1234, options: CompileOptions = .native) throws {
        var random = RandomState(seed: seed)
        let recurrent: any RecurrentCell = switch cell {
        case .lstm: try LSTMCell(inputs: alphabet, hidden: hidden, random: &random)
        case .irnn: try ElmanCell.irnn(inputs: alphabet, hidden: hidden, random: &random)
        }
        layer = Sequencer(recurrent, normStabilizer: normStabilizer)
        readout = try Dense(hidden, alphabet, name: "readout", random: &random)

        let characters = matrix("characters", dtype: .int64), targets = matrix("targets", dtype: .int64)
        let output = try layer(oneHot(characters, classes: alphabet, dtype: .float32))
        let losses = try stepCrossentropies(readout(output.outputs), targets)
        let crossentropy = try mean(losses)
        let updates = try Optimizer(.adam(), learningRate: .constant(learningRate), clipNorm: clipNorm)
            .updates(crossentropy + output.penalty, parameters: layer.parameters + readout.parameters)
        trainStep = try function(inputs: [characters, targets], outputs: [crossentropy], updates: updates, name: "train", options: options)

        // Per step: the cross-entropy and the hidden state's norm, each averaged over the batch.
        let norms = try sqrt(sum(sqr(output.outputs), axis: 2))
        evaluator = try function(inputs: [characters, targets], outputs: [mean(losses, axis: 1), mean(norms, axis: 1)], name: "evaluate", options: options)
    }

    /// One training step on windows `[steps, batch]` of characters and their next characters;
    /// returns the mean cross-entropy in nats per character (without the penalty).
    public func step(characters: NDArray, targets: NDArray) throws -> Double {
        try trainStep(characters, targets)[0].scalar(as: Double.self)
    }

    /// For each step of the windows `[steps, batch]`, each read from a zero state: the mean
    /// cross-entropy of the next character (nats) and the mean norm of the hidden state.
    public func evaluate(characters: NDArray, targets: NDArray) throws -> (crossentropy: [Double], norms: [Double]) {
        let results = try evaluator(characters, targets)
        return (results[0].elements(as: Double.self), results[1].elements(as: Double.self))
    }
}
