import Theano

/// A cell fed the same input at every step (Torch `rnn`'s `Repeater`): `x` is `[batch,
/// features]`, projected once, and the loop runs `steps` times.
public struct Repeater {
    public let cell: any RecurrentCell

    public init(_ cell: any RecurrentCell) { self.cell = cell }

    /// The weights training moves.
    public var parameters: [SharedVariable] { cell.parameters }

    /// The outputs of `steps` steps (a constant or an integer scalar), `[steps, batch, hidden]`.
    public func callAsFunction(_ x: Variable, steps: Variable, initialStates: [Variable]? = nil) throws -> SequenceOutput {
        let projected = try cell.project(x)
        let start = try initialStates ?? cell.zeroStates(like: x, batchAxis: 0)
        let states = try scan(outputsInfo: start.map { .recurrent($0) }, nonSequences: [projected], nSteps: steps, name: "repeater") { v in
            ScanStep(try cell.step(v[cell.stateCount], Array(v[0..<cell.stateCount])))
        }
        return SequenceOutput(outputs: states[0], finalStates: try (0..<cell.stateCount).map { try states[$0][-1] }, penalty: constant(0, dtype: x.dtype))
    }
}
