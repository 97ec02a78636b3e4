/// The gradient of a scan (backpropagation through time): a loop over the steps from the
/// last to the first that runs the step's pullback, accumulating into each history row the
/// gradient every later step sends it before the row's own step sends it on.
///
/// Inputs: the scan's sequences, its outputs (histories and stacked values, which the
/// pullback reads instead of computing them again), its non-sequences, then the gradient of
/// each of its outputs. Outputs: the gradients of its float sequences,
/// initial values and non-sequences, in that order. With `truncateGradient = k`, only the
/// last `k` steps send gradients back. Not differentiable itself (no second derivatives
/// through a scan).
struct ScanGradient: InnerGraphOp {
    let body: ScanBody

    /// The step the gradient loop differentiates.
    var innerGraph: FunctionGraph { body.step }

    var description: String { "scan_gradient{\(body.name)}" }

    static func == (a: ScanGradient, b: ScanGradient) -> Bool { a.body === b.body }
    func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(body)) }

    private var signature: ScanSignature { body.signature }

    func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let sequences = inputs.prefix(signature.sequenceTaps.count)
        let outputs = Array(inputs.dropFirst(sequences.count).prefix(signature.outputTaps.count))
        let nonSequences = inputs.dropFirst(sequences.count + outputs.count).prefix(signature.nonSequenceCount)
        let initials = signature.recurrentOutputs.map { j in
            signature.outputTaps[j] == [-1] ? TensorType(outputs[j].dtype, shape: Array(outputs[j].shape.dropFirst())) : outputs[j]
        }
        return (Array(sequences) + initials + Array(nonSequences)).filter(\.dtype.isFloat)
    }

    func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        try run(inputs, gradientProgram: body.gradientProgram(linkedBy: ReferenceLinker()))
    }

    /// The backward loop, the step's pullback run by `gradientProgram`.
    func run(_ inputs: [NDArray], gradientProgram: any Executor) throws -> [NDArray] {
        let sequenceCount = signature.sequenceTaps.count, recurrent = signature.recurrentOutputs
        var rest = inputs[...]
        let sequences = rest.takeFirst(sequenceCount).map { signature.goBackwards ? $0.reversedAlongFirstAxis() : $0 }
        let outputs = rest.takeFirst(signature.outputTaps.count)
        let nonSequences = rest.takeFirst(signature.nonSequenceCount)
        let outputGradients = rest.takeFirst(signature.outputTaps.count)
        let steps = outputGradients.indices.first.map { outputGradients[$0].shape[0] - signature.historyOffset($0) } ?? 0

        // Accumulators: gradients of the sequences (in the order the loop reads them), of
        // each history (starting from the gradient of the scan's output), of the non-sequences.
        let sequenceGradients = sequences.map { NDArray(zeros: $0.shape, dtype: $0.dtype) }
        let historyGradients = recurrent.map { outputGradients[$0].contiguousCopy() }
        let floatNonSequences = nonSequences.indices.filter { nonSequences[$0].dtype.isFloat }
        var nonSequenceGradients = floatNonSequences.map { NDArray(zeros: nonSequences[$0].shape, dtype: nonSequences[$0].dtype) }
        let floatOutputs = signature.outputTaps.indices.filter { body.stepOutputs[$0].dtype.isFloat }
        let first = signature.truncateGradient.map { Swift.max(0, steps - $0) } ?? 0

        let (sequenceRows, sequenceGradientRows) = (sequences.map(RowViews.init), sequenceGradients.map(RowViews.init))
        let (outputRows, outputGradientRows) = (outputs.map(RowViews.init), outputGradients.map(RowViews.init))
        let historyGradientRows = historyGradients.map(RowViews.init)
        for t in stride(from: steps - 1, through: first, by: -1) {
            var arguments: [NDArray] = []
            var targets: [NDArray?] = []
            for (i, taps) in signature.sequenceTaps.enumerated() {
                for tap in taps {
                    let element = signature.sequenceElement(i, tap: tap, step: t)
                    arguments.append(sequenceRows[i][element])
                    targets.append(sequences[i].dtype.isFloat ? sequenceGradientRows[i][element] : nil)
                }
            }
            for (position, j) in recurrent.enumerated() {
                for tap in signature.outputTaps[j] {
                    let row = signature.historyRow(j, tap: tap, step: t)
                    arguments.append(outputRows[j][row])
                    targets.append(outputs[j].dtype.isFloat ? historyGradientRows[position][row] : nil)
                }
            }
            arguments += nonSequences
            arguments += outputs.indices.map { outputRows[$0][t + signature.historyOffset($0)] }
            arguments += floatOutputs.map { j in
                if let position = recurrent.firstIndex(of: j) {
                    return historyGradientRows[position][t + signature.historyOffset(j)]
                }
                return outputGradientRows[j][t]
            }
            arguments += nonSequenceGradients
            let gradients = try gradientProgram.run(inputs: arguments)
            let perStep = targets.compactMap { $0 }
            for (target, gradient) in zip(perStep, gradients) { target.accumulate(from: gradient) }
            nonSequenceGradients = Array(gradients[perStep.count...])
        }

        let initialGradients = zip(recurrent, historyGradients).map { j, gradient in
            let depth = signature.historyOffset(j)
            return signature.outputTaps[j] == [-1] ? gradient.indexed(axis: 0, at: 0) : gradient.sliced(axis: 0, start: 0, count: depth)
        }
        let sequenceResults = sequenceGradients.map { signature.goBackwards ? $0.reversedAlongFirstAxis() : $0 }
        return (sequenceResults + initialGradients).filter(\.dtype.isFloat) + nonSequenceGradients
    }
}
