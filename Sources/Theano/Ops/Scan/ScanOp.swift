/// The loop node ``scan(sequences:outputsInfo:nonSequences:nSteps:goBackwards:truncateGradient:name:fileID:line:_:)``
/// builds. Inputs: the step count (when given), the sequences, the initial values of the
/// recurrent outputs, the non-sequences. Outputs, one per output of the step: the history of
/// a recurrent output (its initial values, then one row per step), or the stacked values of
/// one that is not fed back.
///
/// The step graph is optimized and linked once, by the linker of the function that runs the
/// loop. The gradient is a second loop walking the steps backwards (``ScanGradient``).
public struct Scan: DifferentiableOp, InnerGraphOp {
    let body: ScanBody

    var innerGraph: FunctionGraph { body.step }

    public var description: String { "scan{\(body.name)}" }

    public static func == (a: Scan, b: Scan) -> Bool { a.body === b.body }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(body)) }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let signature = body.signature
        guard inputs.count == signature.inputCount else { throw OpError("expects \(signature.inputCount) inputs, not \(inputs.count)") }
        if signature.hasStepCount {
            guard inputs[0].ndim == 0, !inputs[0].dtype.isFloat, inputs[0].dtype != .bool else {
                throw OpError("the number of steps must be an integer scalar, not \(inputs[0])")
            }
        }
        return body.stateTypes.map { TensorType($0.dtype, shape: [nil] + $0.shape) }
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        try ScanLoop(body: body, program: body.program(linkedBy: ReferenceLinker())).run(inputs)
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        let signature = body.signature
        guard signature.windowedOutputs.isEmpty else { throw OpError("keeps only the last rows of some outputs; differentiate the loop before optimizing it") }
        let outputs = try zip(node.outputs, outputGradients).map { output, gradient in
            try gradient ?? zerosLike(output)
        }
        let sequences = Array(node.inputs[signature.firstSequence..<signature.firstInitial])
        let nonSequences = Array(node.inputs[signature.firstNonSequence...])
        let gradients = try ScanGradient(body: body).apply(sequences + node.outputs + nonSequences + outputs, at: node.location).outputs
        // The gradient loop returns one gradient per float input; the others get none.
        var remaining = gradients[...]
        let differentiable = Array(node.inputs[signature.firstSequence...])
        return (signature.hasStepCount ? [nil] : []) + differentiable.map { $0.dtype.isFloat ? remaining.popFirst() : nil }
    }
}

/// One run of a scan's loop over concrete arrays.
struct ScanLoop {
    let body: ScanBody
    let program: any Executor

    func run(_ inputs: [NDArray]) throws -> [NDArray] {
        let signature = body.signature
        let sequences = signature.sequenceTaps.indices.map { i in
            let x = inputs[signature.firstSequence + i]
            return signature.goBackwards ? x.reversedAlongFirstAxis() : x
        }
        let nonSequences = Array(inputs[signature.firstNonSequence...])
        let steps = try stepCount(inputs, sequences: sequences)
        // A windowed history is a ring of its last rows (one more than the deepest tap reads).
        let capacity = signature.outputTaps.indices.map { j in
            signature.windowedOutputs.contains(j) ? signature.historyOffset(j) + 1 : signature.historyOffset(j) + steps
        }
        func row(_ j: Int, _ index: Int) -> Int { signature.windowedOutputs.contains(j) ? index % capacity[j] : index }
        var histories: [NDArray?] = try signature.outputTaps.indices.map { j in
            guard let position = signature.recurrentOutputs.firstIndex(of: j) else { return nil }
            return try history(of: j, initial: inputs[signature.firstInitial + position], rows: capacity[j])
        }
        let sequenceRows = sequences.map(RowViews.init)
        var historyRows = histories.map { $0.map(RowViews.init) }
        var arguments: [NDArray] = []
        arguments.reserveCapacity(signature.argumentCount)
        var done = steps
        for t in 0..<steps {
            arguments.removeAll(keepingCapacity: true)
            for (i, taps) in signature.sequenceTaps.enumerated() {
                for tap in taps { arguments.append(sequenceRows[i][signature.sequenceElement(i, tap: tap, step: t)]) }
            }
            for j in signature.recurrentOutputs {
                for tap in signature.outputTaps[j] { arguments.append(historyRows[j]![row(j, signature.historyRow(j, tap: tap, step: t))]) }
            }
            arguments += nonSequences
            let results = try program.run(inputs: arguments)
            for j in signature.outputTaps.indices {
                let value = results[j]
                if histories[j] == nil {
                    histories[j] = NDArray(uninitialized: [capacity[j]] + value.shape, dtype: value.dtype)
                    historyRows[j] = RowViews(histories[j]!)
                }
                let target = historyRows[j]![row(j, t + signature.historyOffset(j))]
                guard value.shape == target.shape else {
                    throw OpError("step \(t) gives output \(j) the shape \(shapeText(value.shape)), where earlier values have \(shapeText(target.shape))")
                }
                target.assign(from: value)
            }
            if signature.hasUntil, results.last!.scalar(as: Bool.self) {
                done = t + 1
                break
            }
        }
        return signature.outputTaps.indices.map { j in
            let rows = done + signature.historyOffset(j)
            let history = histories[j] ?? NDArray(zeros: [0] + body.stateTypes[j].shape.map { $0 ?? 0 }, dtype: body.stateTypes[j].dtype)
            guard signature.windowedOutputs.contains(j) else {
                return rows == history.shape[0] ? history : history.sliced(axis: 0, start: 0, count: rows)
            }
            return lastRows(Swift.min(rows, Swift.max(signature.historyOffset(j), 1)), of: history, written: rows)
        }
    }

    /// The last `count` of the `written` rows of a ring of rows, in order.
    private func lastRows(_ count: Int, of ring: NDArray, written: Int) -> NDArray {
        let first = written - count
        guard count > 0 else { return ring.sliced(axis: 0, start: 0, count: 0) }
        guard first % ring.shape[0] + count > ring.shape[0] else { return ring.sliced(axis: 0, start: first % ring.shape[0], count: count) }
        let rows = NDArray(uninitialized: [count] + ring.shape.dropFirst(), dtype: ring.dtype)
        let (source, target) = (RowViews(ring), RowViews(rows))
        for i in 0..<count { target[i].assign(from: source[(first + i) % ring.shape[0]]) }
        return rows
    }

    /// The number of steps: the one given, which every sequence must be long enough for, or
    /// the one all sequences allow (they must agree).
    private func stepCount(_ inputs: [NDArray], sequences: [NDArray]) throws -> Int {
        let signature = body.signature
        let allowed = sequences.indices.map { sequences[$0].shape[0] - signature.extent(ofSequence: $0) }
        func lengths() -> String {
            sequences.indices.map { "sequence \($0): \(sequences[$0].shape[0]) elements, taps \(signature.sequenceTaps[$0])" }.joined(separator: "; ")
        }
        guard signature.hasStepCount else {
            guard let steps = allowed.first, allowed.allSatisfy({ $0 == steps }), steps >= 0 else {
                throw OpError("the sequences do not allow one number of steps (\(lengths())); pass nSteps to use fewer elements")
            }
            return steps
        }
        let steps = Int(inputs[0].scalar(as: Int64.self))
        guard steps >= 0 else { throw OpError("nSteps is \(steps); it must not be negative") }
        guard allowed.allSatisfy({ $0 >= steps }) else { throw OpError("\(steps) steps need more elements (\(lengths()))") }
        return steps
    }

    /// A new history for output `j` of `rows` rows: its initial values, then room for the steps'.
    private func history(of j: Int, initial: NDArray, rows: Int) throws -> NDArray {
        let signature = body.signature
        let depth = signature.historyOffset(j)
        let initialRows = signature.outputTaps[j] == [-1] ? initial.expanded([nil] + Array(0..<initial.ndim)) : initial
        guard initialRows.shape[0] == depth else {
            throw OpError("output \(j) reads \(depth) steps back, so its initial value needs \(depth) rows; it has \(initialRows.shape[0])")
        }
        let state = Array(initialRows.shape.dropFirst())
        let history = NDArray(uninitialized: [rows] + state, dtype: initial.dtype)
        history.sliced(axis: 0, start: 0, count: depth).assign(from: initialRows)
        return history
    }
}

extension NDArray {
    /// A view with the first axis reversed.
    func reversedAlongFirstAxis() -> NDArray {
        shape[0] == 0 ? self : sliced(axis: 0, start: shape[0] - 1, count: shape[0], step: -1)
    }
}

/// Forward mode through a loop: a second loop that runs the step and the step's
/// pushforward together, carrying the tangent of every float recurrent output as a state of
/// its own (Theano builds the R-operator of a scan the same way).
extension Scan: ForwardDifferentiableOp {
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        let signature = body.signature
        let sequences = Array(node.inputs[signature.firstSequence..<signature.firstInitial])
        let initials = Array(node.inputs[signature.firstInitial..<signature.firstNonSequence])
        let nonSequences = Array(node.inputs[signature.firstNonSequence...])
        let sequenceTangents = Array(inputTangents[signature.firstSequence..<signature.firstInitial])
        let initialTangents = Array(inputTangents[signature.firstInitial..<signature.firstNonSequence])
        let nonSequenceTangents = Array(inputTangents[signature.firstNonSequence...])
        guard inputTangents.contains(where: { $0 != nil }) else { return node.outputs.map { _ in nil } }

        let movingSequences = sequences.indices.filter { sequenceTangents[$0] != nil }
        let movingNonSequences = nonSequences.indices.filter { nonSequenceTangents[$0] != nil }
        let floatOutputs = body.stateTypes.indices.filter { body.stateTypes[$0].dtype.isFloat }
        var outputsInfo = signature.outputTaps.enumerated().map { j, taps -> ScanOutput in
            guard let position = signature.recurrentOutputs.firstIndex(of: j) else { return .notFedBack }
            return .recurrent(initials[position], taps: taps)
        }
        for j in floatOutputs {
            guard let position = signature.recurrentOutputs.firstIndex(of: j) else {
                outputsInfo.append(.notFedBack)
                continue
            }
            outputsInfo.append(.recurrent(try initialTangents[position] ?? zerosLike(initials[position]), taps: signature.outputTaps[j]))
        }
        let allSequences = sequences.indices.map { ScanSequence(sequences[$0], taps: signature.sequenceTaps[$0]) }
            + movingSequences.map { ScanSequence(sequenceTangents[$0]!, taps: signature.sequenceTaps[$0]) }
        let (joint, _) = try scanNode(sequences: allSequences, outputsInfo: outputsInfo,
                                      nonSequences: nonSequences + movingNonSequences.map { nonSequenceTangents[$0]! },
                                      nSteps: signature.hasStepCount ? node.inputs[0] : nil, goBackwards: signature.goBackwards,
                                      truncateGradient: nil, name: "\(body.name), tangents", location: node.location) { arguments in
            try jointStep(arguments, movingSequences: movingSequences, movingNonSequences: movingNonSequences, floatOutputs: floatOutputs)
        }
        var tangents: [Variable?] = node.outputs.map { _ in nil }
        for (index, j) in floatOutputs.enumerated() { tangents[j] = joint.output(signature.outputTaps.count + index) }
        return tangents
    }

    /// The step and its pushforward, on the joint loop's arguments: the original sequences'
    /// taps, the tangent sequences' taps, the original states' taps, the tangent states' taps,
    /// the non-sequences, the tangent non-sequences.
    private func jointStep(_ arguments: [Variable], movingSequences: [Int], movingNonSequences: [Int], floatOutputs: [Int]) throws -> ScanStep {
        let signature = body.signature
        var rest = arguments[...]
        let sequenceArguments = signature.sequenceTaps.map { rest.takeFirst($0.count) }
        let sequenceTangents = movingSequences.map { rest.takeFirst(signature.sequenceTaps[$0].count) }
        let stateArguments = signature.recurrentOutputs.map { rest.takeFirst(signature.outputTaps[$0].count) }
        let stateTangents = floatOutputs.filter(signature.recurrentOutputs.contains).map { rest.takeFirst(signature.outputTaps[$0].count) }
        let nonSequenceArguments = rest.takeFirst(signature.nonSequenceCount)
        let nonSequenceTangents = rest.takeFirst(movingNonSequences.count)

        let stepInputs = sequenceArguments.flatMap { $0 } + stateArguments.flatMap { $0 } + nonSequenceArguments
        let results = try substituting(Dictionary(uniqueKeysWithValues: zip(body.step.inputs, stepInputs)), in: body.step.outputs)
        let outputs = Array(results.prefix(signature.outputTaps.count))
        var wrt = movingSequences.flatMap { sequenceArguments[$0] }
        var points = sequenceTangents.flatMap { $0 }
        let floatRecurrent = floatOutputs.filter(signature.recurrentOutputs.contains)
        for (index, j) in floatRecurrent.enumerated() {
            wrt += stateArguments[signature.recurrentOutputs.firstIndex(of: j)!]
            points += stateTangents[index]
        }
        wrt += movingNonSequences.map { nonSequenceArguments[$0] }
        points += nonSequenceTangents
        let moving = floatOutputs.map { outputs[$0] }
        let tangents = wrt.isEmpty ? try moving.map { try zerosLike($0) } : try Rop(moving, wrt: wrt, evalPoints: points, disconnected: .zero)
        return ScanStep(outputs + tangents, until: signature.hasUntil ? results.last : nil)
    }
}
