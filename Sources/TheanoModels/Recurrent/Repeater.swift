import Theano

/// A cell fed the same input at every step (Torch `rnn`'s `Repeater`): `x` is `[batch,
/// features]`, projected once, and the loop runs `steps` times. `normStabilizer: β` adds the
/// norm-stabilizer penalty as a ``Sequencer``'s does.
public struct Repeater {
    public let cell: any RecurrentCell
    /// The norm stabilizer's `β`, or `nil`.
    public let normStabilizer: Double?

    public init(_ cell: any RecurrentCell, normStabilizer: Double? = nil) { (self.cell, self.normStabilizer) = (cell, normStabilizer) }

    /// The weights training moves.
    public var parameters: [SharedVariable] { cell.parameters }

    /// The outputs of `steps` steps (a constant or an integer scalar), `[steps, batch, hidden]`.
    public func callAsFunction(_ x: Variable, steps: Variable, initialStates: [Variable]? = nil) throws -> SequenceOutput {
        let projected = try cell.project(x)
        let start = try initialStates ?? cell.zeroStates(like: x, batchAxis: 0)
        let states = try scan(outputsInfo: start.map { .recurrent($0) }, nonSequences: [projected], nSteps: steps, name: "repeater") { v in
            ScanStep(try cell.step(v[cell.stateCount], Array(v[0..<cell.stateCount])))
        }
        let penalty = try normStabilizer.map { try normStabilizerPenalty(states[0], beta: $0) } ?? constant(0, dtype: x.dtype)
        return SequenceOutput(outputs: states[0], finalStates: try (0..<cell.stateCount).map { try states[$0][-1] }, penalty: penalty)
    }
}
