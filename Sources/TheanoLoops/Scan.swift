import TheanoCore
import TheanoOps
import TheanoOptimizer
import TheanoAutodiff

/// The loop node ``scan(sequences:outputsInfo:nonSequences:nSteps:goBackwards:truncateGradient:excluding:name:fileID:line:_:)``
/// builds. Inputs: the step count (when given), the sequences, the initial values of the
/// recurrent outputs, the non-sequences. Outputs, one per output of the step: the history of
/// a recurrent output (its initial values, then one row per step), or the stacked values of
/// one that is not fed back.
///
/// The step graph is optimized and linked once, by the linker of the function that runs the
/// loop. The gradient is a second loop walking the steps backwards (`ScanGradient`).
public struct Scan: DifferentiableOp, InnerGraphOp, SelfLinkingOp {
    package let body: ScanBody

    package init(body: ScanBody) {
        self.body = body
    }

    package var innerGraph: FunctionGraph { body.step }

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

    /// The step as built, run by the reference interpreter.
    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        try ScanLoop(body: body, stepExecutor: body.stepExecutor(compiledBy: .unoptimized(linkedBy: ReferenceLinker()))).run(inputs)
    }

    package func runner(for node: Apply, compiledBy compiler: InnerGraphCompiler) throws -> any NodeRunner {
        InnerGraphRunner(node: node, body: ScanLoop(body: body, stepExecutor: try body.stepExecutor(compiledBy: compiler)).run)
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        let signature = body.signature
        guard signature.windowedOutputs.isEmpty else { throw OpError("keeps only the last rows of some outputs; differentiate the loop before optimizing it") }
        // The values kept for the gradient (the last outputs) are not differentiated.
        let outputs = try zip(node.outputs[signature.userOutputs], outputGradients).map { output, gradient in
            try gradient ?? zerosLike(output)
        }
        let sequences = Array(node.inputs[signature.firstSequence..<signature.firstInitial])
        let nonSequences = Array(node.inputs[signature.firstNonSequence...])
        let loop = ScanGradient(body: body)
        let gradientNode = try loop.apply(sequences + node.outputs + nonSequences + outputs, at: node.location)
        let roles = loop.outputGradients(sequenceTypes: sequences.map(\.type), nonSequenceTypes: nonSequences.map(\.type))
        let gradients = Dictionary(uniqueKeysWithValues: zip(roles, gradientNode.outputs))
        // A batched matrix's gradient: one product per batched product, after the loop.
        func batchedGradient(_ k: Int) throws -> Variable? {
            try body.batchedProducts.indices.filter { body.batchedProducts[$0].nonSequence == k }.reduce(nil) { total, p in
                try total.adding(body.batchedProducts[p].gradient(cotangents: gradients[.product(p)]!, node: node, signature: signature))
            }
        }
        return (signature.hasStepCount ? [nil] : []) + sequences.indices.map { gradients[.sequence($0)] }
            + signature.recurrentOutputs.indices.map { gradients[.initialValue($0)] }
            + (try nonSequences.indices.map { k in try gradients[.nonSequence(k)] ?? batchedGradient(k) })
    }
}

/// A stream's state (or any shared variable with a default update) that the step advances:
/// a function that does not pass the loop's `updates` still moves the variable to the
/// loop's final value, so its next call draws new numbers.
extension Scan: SharedStateCarryingOp {
    public func finalValues(of node: Apply) throws -> [SharedVariable: Variable] {
        let signature = body.signature, count = body.sharedStates
        let inputs = node.inputs[(signature.firstNonSequence - count)..<signature.firstNonSequence]
        let outputs = node.outputs[(signature.userOutputs.upperBound - count)..<signature.userOutputs.upperBound]
        var values: [SharedVariable: Variable] = [:]
        for (input, history) in zip(inputs, outputs) {
            guard let variable = input as? SharedVariable, variable.defaultUpdate != nil else { continue }
            values[variable] = try SourceLocation.attributing(to: node.location) { try history[-1] }
        }
        return values
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
        let floatOutputs = signature.userOutputs.filter { body.stateTypes[$0].dtype.isFloat }
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
