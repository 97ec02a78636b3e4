import TheanoCore
import TheanoOps
import TheanoOptimizer
import TheanoAutodiff

/// The gradient of a scan (backpropagation through time): a loop over the steps from the
/// last to the first that runs the step's pullback, accumulating into each history row the
/// gradient every later step sends it before the row's own step sends it on.
///
/// Inputs: the scan's sequences, its outputs (histories and stacked values, which the
/// pullback reads instead of computing them again), its non-sequences, then the gradient of
/// each of its outputs. Outputs: the gradients of its float sequences,
/// initial values and non-sequences, in that order, but those of the sequences and
/// non-sequences ``skipped`` names (nothing reads them; the rewrite
/// ``pruneLoopGradients`` finds them); for a matrix whose products are batched
/// (``BatchedProduct``), the products' cotangents of every step, stacked, come last instead
/// of its gradient. With `truncateGradient = k`, only the
/// last `k` steps send gradients back. Not differentiable itself (no second derivatives
/// through a scan).
struct ScanGradient: InnerGraphOp, SelfLinkingOp {
    package let body: ScanBody
    package var skipped = SkippedGradients()

    package init(body: ScanBody) {
        self.body = body
    }

    /// The step the gradient loop differentiates.
    package var innerGraph: FunctionGraph { body.step }

    package var description: String { "scan_gradient{\(body.name)}" }

    package static func == (a: ScanGradient, b: ScanGradient) -> Bool { a.body === b.body && a.skipped == b.skipped }
    package func hash(into hasher: inout Hasher) {
        hasher.combine(ObjectIdentifier(body))
        hasher.combine(skipped)
    }

    /// What each output is the gradient of.
    package enum Gradient: Hashable {
        case sequence(Int), initialValue(Int), nonSequence(Int)
        /// The stacked cotangents of a batched product (its index in ``ScanBody/batchedProducts``).
        case product(Int)
    }

    /// What each output is the gradient of, in order, given the loop's input types.
    package func outputGradients(sequenceTypes: [TensorType], nonSequenceTypes: [TensorType]) -> [Gradient] {
        let sequences = sequenceTypes.indices.filter { sequenceTypes[$0].dtype.isFloat && !skipped.sequences.contains($0) }
        let initials = signature.recurrentOutputs.indices.filter { body.stateTypes[signature.recurrentOutputs[$0]].dtype.isFloat }
        let nonSequences = nonSequenceTypes.indices.filter { body.sumsGradient(ofNonSequence: $0, dtype: nonSequenceTypes[$0].dtype, skipping: skipped) }
        let products = body.stackedProducts(skipping: skipped)
        return sequences.map(Gradient.sequence) + initials.map(Gradient.initialValue) + nonSequences.map(Gradient.nonSequence)
            + products.map(Gradient.product)
    }

    /// The step's pullback, compiled by `compiler`.
    func linkedStep(compiledBy compiler: InnerGraphCompiler) throws -> LinkedGradientStep {
        try body.linkedGradientStep(compiledBy: compiler, skipping: skipped)
    }

    package func runner(for node: Apply, compiledBy compiler: InnerGraphCompiler) throws -> any NodeRunner {
        let step = try linkedStep(compiledBy: compiler)
        return InnerGraphRunner(node: node) { try run($0, gradientStep: step) }
    }

    private var signature: ScanSignature { body.signature }

    package func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        var rest = inputs[...]
        let sequences = rest.takeFirst(signature.sequenceTaps.count)
        let outputs = rest.takeFirst(signature.outputTaps.count)
        let nonSequences = rest.takeFirst(signature.nonSequenceCount)
        return outputGradients(sequenceTypes: sequences, nonSequenceTypes: nonSequences).map { gradient in
            switch gradient {
            case .sequence(let i): return sequences[i]
            case .nonSequence(let k): return nonSequences[k]
            case .product(let p):
                let product = body.batchedProducts[p].product.type
                return TensorType(product.dtype, shape: [nil] + product.shape)
            case .initialValue(let position):
                let history = outputs[signature.recurrentOutputs[position]]
                return signature.outputTaps[signature.recurrentOutputs[position]] == [-1]
                    ? TensorType(history.dtype, shape: Array(history.shape.dropFirst())) : history
            }
        }
    }

    package func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        try run(inputs, gradientStep: linkedStep(compiledBy: .unoptimized(linkedBy: ReferenceLinker())))
    }

    /// The backward loop, the step's pullback run by `gradientStep`.
    package func run(_ inputs: [NDArray], gradientStep: LinkedGradientStep) throws -> [NDArray] {
        let sequenceCount = signature.sequenceTaps.count, recurrent = signature.recurrentOutputs
        var rest = inputs[...]
        let sequences = rest.takeFirst(sequenceCount).map { signature.goBackwards ? $0.reversedAlongFirstAxis() : $0 }
        let outputs = rest.takeFirst(signature.outputTaps.count)
        let nonSequences = rest.takeFirst(signature.nonSequenceCount)
        let outputGradients = rest.takeFirst(signature.userOutputs.count)
        let steps = outputGradients.indices.first.map { outputGradients[$0].shape[0] - signature.historyOffset($0) } ?? 0

        // Accumulators: gradients of the sequences (in the order the loop reads them), of
        // each history (starting from the gradient of the scan's output), of the non-sequences.
        let sequenceGradients = sequences.indices.map { i in
            sequences[i].dtype.isFloat && !skipped.sequences.contains(i) ? NDArray(zeros: sequences[i].shape, dtype: sequences[i].dtype) : nil
        }
        let historyGradients = recurrent.map { outputGradients[$0].contiguousCopy() }
        let first = signature.truncateGradient.map { Swift.max(0, steps - $0) } ?? 0
        let summed = nonSequences.indices.filter { body.sumsGradient(ofNonSequence: $0, dtype: nonSequences[$0].dtype, skipping: skipped) }
        var nonSequenceGradients = summed.map { NDArray(zeros: nonSequences[$0].shape, dtype: nonSequences[$0].dtype) }
        // The batched products' cotangents of every step (`h_{t-1}`'s rows times `U`'s
        // columns); zeros only where a truncated gradient leaves steps out.
        let productCotangents = body.stackedProducts(skipping: skipped).map { p in
            let product = body.batchedProducts[p], state = outputs[product.output], matrix = nonSequences[product.nonSequence]
            let shape = [steps] + state.shape.dropFirst().dropLast() + [matrix.shape[1]]
            return first == 0 ? NDArray(uninitialized: shape, dtype: product.product.dtype) : NDArray(zeros: shape, dtype: product.product.dtype)
        }
        let floatOutputs = signature.userOutputs.filter { body.stepOutputs[$0].dtype.isFloat }
        let transposes = try gradientStep.transposed.map { try $0.op.perform([nonSequences[$0.nonSequence]])[0].contiguousCopy() }

        let (sequenceRows, sequenceGradientRows) = (sequences.map(RowViews.init), sequenceGradients.map { $0.map(RowViews.init) })
        let (outputRows, outputGradientRows) = (outputs.map(RowViews.init), outputGradients.map(RowViews.init))
        let historyGradientRows = historyGradients.map(RowViews.init)
        for t in stride(from: steps - 1, through: first, by: -1) {
            var arguments: [NDArray] = []
            var targets: [NDArray?] = []
            for (i, taps) in signature.sequenceTaps.enumerated() {
                for tap in taps {
                    let element = signature.sequenceElement(i, tap: tap, step: t)
                    arguments.append(sequenceRows[i][element])
                    targets.append(sequenceGradientRows[i]?[element])
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
            arguments += transposes
            arguments += nonSequenceGradients
            let gradients = try gradientStep.executor.run(inputs: arguments)
            let perStep = targets.compactMap { $0 }
            for (target, gradient) in zip(perStep, gradients) { target.accumulate(from: gradient) }
            for (stack, cotangent) in zip(productCotangents, gradients[perStep.count...]) { stack.indexed(axis: 0, at: t).assign(from: cotangent) }
            nonSequenceGradients = Array(gradients[(perStep.count + productCotangents.count)...])
        }

        let initialGradients = zip(recurrent, historyGradients).map { j, gradient in
            let depth = signature.historyOffset(j)
            return signature.outputTaps[j] == [-1] ? gradient.indexed(axis: 0, at: 0) : gradient.sliced(axis: 0, start: 0, count: depth)
        }
        let sequenceResults = sequenceGradients.compactMap { $0.map { signature.goBackwards ? $0.reversedAlongFirstAxis() : $0 } }
        return sequenceResults + initialGradients.filter(\.dtype.isFloat) + nonSequenceGradients + productCotangents
    }
}
