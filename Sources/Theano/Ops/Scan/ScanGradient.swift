/// The gradient of a scan (backpropagation through time): a loop over the steps from the
/// last to the first that runs the step's pullback, accumulating into each history row the
/// gradient every later step sends it before the row's own step sends it on.
///
/// Inputs: the scan's sequences, the histories of its recurrent outputs, its non-sequences,
/// then the gradient of each of its outputs. Outputs: the gradients of its float sequences,
/// initial values and non-sequences, in that order. With `truncateGradient = k`, only the
/// last `k` steps send gradients back. Not differentiable itself (no second derivatives
/// through a scan).
struct ScanGradient: Op {
    let body: ScanBody

    var description: String { "scan_gradient{\(body.name)}" }

    static func == (a: ScanGradient, b: ScanGradient) -> Bool { a.body === b.body }
    func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(body)) }

    private var signature: ScanSignature { body.signature }

    func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let sequences = inputs.prefix(signature.sequenceTaps.count)
        let recurrent = signature.recurrentOutputs.count
        let histories = inputs.dropFirst(sequences.count).prefix(recurrent)
        let nonSequences = inputs.dropFirst(sequences.count + recurrent).prefix(signature.nonSequenceCount)
        let initials = zip(signature.recurrentOutputs, histories).map { j, history in
            signature.outputTaps[j] == [-1] ? TensorType(history.dtype, shape: Array(history.shape.dropFirst())) : history
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
        func take(_ count: Int) -> [NDArray] { defer { rest = rest.dropFirst(count) }; return Array(rest.prefix(count)) }
        let sequences = take(sequenceCount).map { signature.goBackwards ? $0.reversedAlongFirstAxis() : $0 }
        let histories = take(recurrent.count)
        let nonSequences = take(signature.nonSequenceCount)
        let outputGradients = take(signature.outputTaps.count)
        let steps = outputGradients.indices.first.map { outputGradients[$0].shape[0] - signature.historyOffset($0) } ?? 0

        // Accumulators: gradients of the sequences (in the order the loop reads them), of
        // each history (starting from the gradient of the scan's output), of the non-sequences.
        let sequenceGradients = sequences.map { NDArray(zeros: $0.shape, dtype: $0.dtype) }
        let historyGradients = recurrent.map { outputGradients[$0].contiguousCopy() }
        let nonSequenceGradients = nonSequences.map { NDArray(zeros: $0.shape, dtype: $0.dtype) }
        let floatOutputs = signature.outputTaps.indices.filter { body.stepOutputs[$0].dtype.isFloat }
        let first = signature.truncateGradient.map { Swift.max(0, steps - $0) } ?? 0

        for t in stride(from: steps - 1, through: first, by: -1) {
            var arguments: [NDArray] = []
            var targets: [NDArray?] = []
            for (i, taps) in signature.sequenceTaps.enumerated() {
                for tap in taps {
                    let element = signature.sequenceElement(i, tap: tap, step: t)
                    arguments.append(sequences[i].indexed(axis: 0, at: element))
                    targets.append(sequences[i].dtype.isFloat ? sequenceGradients[i].indexed(axis: 0, at: element) : nil)
                }
            }
            for (position, j) in recurrent.enumerated() {
                for tap in signature.outputTaps[j] {
                    let row = signature.historyRow(j, tap: tap, step: t)
                    arguments.append(histories[position].indexed(axis: 0, at: row))
                    targets.append(histories[position].dtype.isFloat ? historyGradients[position].indexed(axis: 0, at: row) : nil)
                }
            }
            arguments += nonSequences
            targets += nonSequenceGradients.enumerated().map { nonSequences[$0.offset].dtype.isFloat ? $0.element : nil }
            let cotangents = floatOutputs.map { j in
                if let position = recurrent.firstIndex(of: j) {
                    return historyGradients[position].indexed(axis: 0, at: t + signature.historyOffset(j))
                }
                return outputGradients[j].indexed(axis: 0, at: t)
            }
            let gradients = try gradientProgram.run(inputs: arguments + cotangents)
            for (target, gradient) in zip(targets.compactMap { $0 }, gradients) { target.accumulate(from: gradient) }
        }

        let initialGradients = zip(recurrent, historyGradients).map { j, gradient in
            let depth = signature.historyOffset(j)
            return signature.outputTaps[j] == [-1] ? gradient.indexed(axis: 0, at: 0) : gradient.sliced(axis: 0, start: 0, count: depth)
        }
        let sequenceResults = sequenceGradients.map { signature.goBackwards ? $0.reversedAlongFirstAxis() : $0 }
        return (sequenceResults + initialGradients + nonSequenceGradients).filter(\.dtype.isFloat)
    }
}
