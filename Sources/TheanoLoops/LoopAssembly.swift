import TheanoCore
import TheanoOps
import TheanoOptimizer
import TheanoAutodiff

/// A loop put together from the parts of existing loops — their sequences, outputs and
/// non-sequences, each with the step's arguments standing for it — by the loop rewrites
/// (``loopRewrites``): taking parts away, keeping a shorter history, joining two loops.
struct LoopAssembly {
    package struct Sequence {
        package let outer: Variable
        let taps: [Int]
        /// The step's arguments for the taps.
        package let arguments: [Variable]

        package init(outer: Variable, taps: [Int], arguments: [Variable]) {
            self.outer = outer
            self.taps = taps
            self.arguments = arguments
        }
    }

    package struct Output {
        /// The initial values of a recurrent output; `nil` for one not fed back.
        package let initial: Variable?
        let taps: [Int]
        package let arguments: [Variable]
        /// The step's result.
        package let result: Variable
        let stateType: TensorType
        /// Whether the loop keeps only the last rows of the history (see ``ScanSignature/windowedOutputs``).
        var windowed: Bool
        /// Whether it is a value kept for the gradient (see ``ScanSignature/savedOutputs``).
        let saved: Bool
        /// The loop output this part was.
        package let original: Variable
    }

    struct NonSequence {
        package let outer: Variable
        package let argument: Variable
    }

    package let name: String
    package let location: SourceLocation
    let stepCount: Variable?
    package var sequences: [Sequence]
    package var outputs: [Output]
    package var nonSequences: [NonSequence]
    package let until: Variable?
    package let goBackwards: Bool
    package let truncateGradient: Int?
    /// Step arguments that stand for others (a joined loop's sequence read by both).
    var aliases: [Variable: Variable] = [:]
    /// What the construction rewrites did to the loops this one is put together from.
    var constructionReports: [InnerGraphReport]

    /// The parts of the loop `node` (a ``Scan``).
    package init(_ node: Apply) {
        let body = (node.op as! Scan).body, signature = body.signature
        var inputs = node.inputs[...], arguments = body.step.inputs[...]
        name = body.name
        location = node.location
        stepCount = signature.hasStepCount ? inputs.popFirst() : nil
        sequences = signature.sequenceTaps.map { taps in
            Sequence(outer: inputs.popFirst()!, taps: taps, arguments: arguments.takeFirst(taps.count))
        }
        let results = body.stepOutputs
        outputs = signature.outputTaps.indices.map { j in
            let taps = signature.outputTaps[j]
            return Output(initial: taps.isEmpty ? nil : inputs.popFirst()!, taps: taps, arguments: arguments.takeFirst(taps.count),
                          result: results[j], stateType: body.stateTypes[j], windowed: signature.windowedOutputs.contains(j),
                          saved: !signature.userOutputs.contains(j), original: node.outputs[j])
        }
        nonSequences = zip(inputs, arguments).map { NonSequence(outer: $0, argument: $1) }
        until = signature.hasUntil ? body.step.outputs.last : nil
        goBackwards = signature.goBackwards
        truncateGradient = signature.truncateGradient
        constructionReports = body.constructionReports
    }

    /// The step's arguments each part's result reads, directly or not.
    func argumentsRead(by results: [Variable]) -> Set<Variable> {
        let arguments = Set(sequences.flatMap(\.arguments) + outputs.flatMap(\.arguments) + nonSequences.map(\.argument))
        var read = Set(results.filter(arguments.contains))
        for node in topologicalOrder(of: results, stoppingAt: arguments) { read.formUnion(node.inputs.filter(arguments.contains)) }
        return read.union(read.compactMap { aliases[$0] })
    }

    /// The new loop node; its outputs are in the order of ``outputs``, where the values kept
    /// for the gradient come last.
    package func build() throws -> Apply {
        let saved = outputs.count { $0.saved }
        precondition(outputs.suffix(saved).allSatisfy(\.saved), "values kept for the gradient must be the last outputs")
        let arguments = sequences.flatMap(\.arguments) + outputs.flatMap(\.arguments) + nonSequences.map(\.argument)
        let step = try FunctionGraph(inputs: arguments, outputs: outputs.map(\.result) + (until.map { [$0] } ?? []), givens: aliases)
        let signature = ScanSignature(hasStepCount: stepCount != nil, sequenceTaps: sequences.map(\.taps), outputTaps: outputs.map(\.taps),
                                      nonSequenceCount: nonSequences.count, hasUntil: until != nil, goBackwards: goBackwards,
                                      truncateGradient: truncateGradient,
                                      windowedOutputs: Set(outputs.indices.filter { outputs[$0].windowed }), savedOutputs: saved)
        let body = ScanBody(name: name, location: location, signature: signature, step: step, stateTypes: outputs.map(\.stateType),
                            constructionReports: constructionReports)
        let inputs = (stepCount.map { [$0] } ?? []) + sequences.map(\.outer) + outputs.compactMap(\.initial) + nonSequences.map(\.outer)
        return try Scan(body: body).apply(inputs, at: location)
    }
}
