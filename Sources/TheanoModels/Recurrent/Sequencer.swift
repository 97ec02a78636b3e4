import Theano

/// What a recurrent layer gives for a sequence.
public struct SequenceOutput {
    /// The output at every step, `[steps, batch, hidden]`, in time order.
    public let outputs: Variable
    /// The states after the last step (after the first, going backwards), each `[batch, hidden]`.
    public let finalStates: [Variable]
    /// The layer's norm-stabilizer penalty (zero when it has none), to add to the cost.
    public let penalty: Variable
}

/// A cell applied at every step of a time-major sequence `[steps, batch, features]` by `scan`
/// (Torch `rnn`'s `Sequencer` around a recurrent module): the input's share of every step is
/// one product before the loop.
///
/// - A mask `[steps, batch]` (1 for a real step, 0 for padding) lets sequences of different
///   lengths share a batch: at a padded step the states stay as they were, so a sequence
///   padded at its end finishes with the states of its last real step, and going backwards it
///   starts at its last real step from the initial states.
/// - `normStabilizer: β` adds Krueger and Memisevic's penalty on the output's norm changing
///   between steps (``normStabilizerPenalty(_:mask:beta:)``) as ``SequenceOutput/penalty``.
/// - `truncateGradient: k` backpropagates through the last `k` steps only.
public struct Sequencer {
    public let cell: any RecurrentCell
    /// Whether the loop runs from the last step to the first (the outputs stay in time order).
    public let goBackwards: Bool
    /// The norm stabilizer's `β`, or `nil`.
    public let normStabilizer: Double?

    public init(_ cell: any RecurrentCell, goBackwards: Bool = false, normStabilizer: Double? = nil) {
        (self.cell, self.goBackwards, self.normStabilizer) = (cell, goBackwards, normStabilizer)
    }

    /// The weights training moves.
    public var parameters: [SharedVariable] { cell.parameters }

    /// The layer over `x`, from `initialStates` (zeros by default), with padded steps where
    /// `mask` is 0.
    public func callAsFunction(_ x: Variable, mask: Variable? = nil, initialStates: [Variable]? = nil, truncateGradient: Int? = nil) throws -> SequenceOutput {
        guard x.ndim == 3 else {
            throw TheanoError.invalidArgument(function: "Sequencer", reason: "expects a [steps, batch, features] sequence, not \(x.type)",
                                              location: .resolve(fileID: #fileID, line: #line))
        }
        let start = try initialStates ?? cell.zeroStates(like: x)
        let count = cell.stateCount
        var sequences = [ScanSequence(try cell.project(x))]
        if let mask { sequences.append(ScanSequence(try cast(mask, to: x.dtype).dimshuffle(0, 1, .newAxis))) }
        let states = try scan(sequences: sequences, outputsInfo: start.map { .recurrent($0) }, goBackwards: goBackwards,
                              truncateGradient: truncateGradient, name: "sequencer") { v in
            let previous = Array(v[sequences.count..<(sequences.count + count)])
            let next = try cell.step(v[0], previous)
            guard mask != nil else { return ScanStep(next) }
            // Padding keeps the states: m · new + (1 − m) · old.
            let m = v[1]
            return ScanStep(try zip(next, previous).map { new, old in try old + m * (new - old) })
        }
        var outputs = states[0]
        if goBackwards { outputs = try outputs[.stride(by: -1)] }
        let finals = try (0..<count).map { try states[$0][-1] }
        let penalty = try normStabilizer.map { try normStabilizerPenalty(outputs, mask: mask, beta: $0) } ?? constant(0, dtype: outputs.dtype)
        return SequenceOutput(outputs: outputs, finalStates: finals, penalty: penalty)
    }
}
