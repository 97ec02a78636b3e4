import Theano

/// Two sequencers over the same sequence, one forwards and one backwards, their outputs
/// merged at every step (Torch `rnn`'s `BiSequencer`): concatenated along the features, or
/// summed. With a mask, the backward one starts at each sequence's last real step.
public struct BiSequencer {
    /// How the two outputs of a step become one.
    public enum Merge: Sendable {
        case concatenate, sum
    }

    public let forward: Sequencer, backward: Sequencer
    public let merge: Merge

    public init(forward: any RecurrentCell, backward: any RecurrentCell, merge: Merge = .concatenate, normStabilizer: Double? = nil) {
        self.forward = Sequencer(forward, normStabilizer: normStabilizer)
        self.backward = Sequencer(backward, goBackwards: true, normStabilizer: normStabilizer)
        self.merge = merge
    }

    /// The weights training moves.
    public var parameters: [SharedVariable] { forward.parameters + backward.parameters }

    /// The merged outputs `[steps, batch, 2·hidden]` (or `hidden` when summed); the final
    /// states are the forward ones, then the backward ones.
    public func callAsFunction(_ x: Variable, mask: Variable? = nil) throws -> SequenceOutput {
        let (ahead, behind) = (try forward(x, mask: mask), try backward(x, mask: mask))
        let outputs = merge == .sum ? try ahead.outputs + behind.outputs : try concatenate([ahead.outputs, behind.outputs], axis: 2)
        return SequenceOutput(outputs: outputs, finalStates: ahead.finalStates + behind.finalStates, penalty: try ahead.penalty + behind.penalty)
    }
}
