import Theano

/// Sequencers stacked, each reading the outputs of the one below (Torch `rnn`'s stacking of
/// recurrent modules in a `Sequencer`/`Recursor`): the top layer's outputs, every layer's
/// final states in order, and the layers' penalties summed.
public struct RecurrentStack {
    public let layers: [Sequencer]

    public init(_ layers: [Sequencer]) { self.layers = layers }

    /// The weights training moves.
    public var parameters: [SharedVariable] { layers.flatMap(\.parameters) }

    /// The stack over `x`; `initialStates` gives each layer's (all zeros by default).
    public func callAsFunction(_ x: Variable, mask: Variable? = nil, initialStates: [[Variable]]? = nil, truncateGradient: Int? = nil) throws -> SequenceOutput {
        var input = x, finals: [Variable] = [], penalty: Variable = constant(0, dtype: x.dtype)
        for (index, layer) in layers.enumerated() {
            let output = try layer(input, mask: mask, initialStates: initialStates?[index], truncateGradient: truncateGradient)
            (input, finals, penalty) = (output.outputs, finals + output.finalStates, try penalty + output.penalty)
        }
        return SequenceOutput(outputs: input, finalStates: finals, penalty: penalty)
    }
}
