import TheanoCore
import TheanoOps
import TheanoOptimizer
import TheanoAutodiff

/// A loop's first body, built by calling the user's step function once on placeholders, and
/// the outer variables the loop node reads besides the given sequences and initial values.
///
/// Everything that depends on non-sequences alone leaves the step while it is built (the
/// step reads the outer non-sequences themselves, so `transpose(W)` or `W * mask` is
/// computed once, before the loop, as a captured value). Then the construction rewrites run
/// (``LoopConstructionRewrite``), unless excluded: the work on whole sequences
/// ``WholeSequenceWork`` takes out, and values the gradient would compute again from
/// products become outputs of their own (``SavedPreactivations``; the loop rewrites remove
/// them when no gradient reads them). Their report travels with the body.
struct ScanConstruction {
    package let body: ScanBody
    /// Sequences computed before the loop, read after the given ones.
    let extraSequences: [Variable]
    /// The shared variables the step updates: recurrent outputs after the given ones, whose
    /// initial values are the variables themselves.
    package let updatedVariables: [SharedVariable]
    /// The outer variables the step's non-sequence arguments stand for: the given ones the
    /// step uses and the values it captured.
    package let nonSequences: [Variable]

    package init(name: String, sequences: [ScanSequence], outputs: [ScanOutput], nonSequences: [Variable], hasStepCount: Bool,
         goBackwards: Bool, truncateGradient: Int?, excluding: Set<LoopConstructionRewrite>, location: SourceLocation,
         step: ([Variable]) throws -> ScanStep) throws {
        func fail(_ reason: String) -> TheanoError { .invalidArgument(function: "scan", reason: "\(name): \(reason)", location: location) }
        guard !sequences.isEmpty || hasStepCount else { throw fail("without sequences, nSteps must say how many steps to run") }
        if let truncateGradient, truncateGradient <= 0 { throw fail("truncateGradient must be positive, not \(truncateGradient)") }
        var arguments: [Variable] = []
        var sequenceArguments: [(argument: Variable, sequence: ScanSequence, tap: Int)] = []
        for (i, sequence) in sequences.enumerated() {
            let x = sequence.variable
            guard x.ndim >= 1 else { throw fail("sequence \(i) (\(x.type)) has no axis to iterate over") }
            guard !sequence.taps.isEmpty, Set(sequence.taps).count == sequence.taps.count else {
                throw fail("sequence \(i) needs distinct taps, not \(sequence.taps)")
            }
            let element = TensorType(x.dtype, shape: Array(x.staticShape.dropFirst()))
            for tap in sequence.taps {
                let argument = Variable(type: element, name: "\(x.name ?? "sequence \(i)")[t\(tapText(tap))]", location: location)
                arguments.append(argument)
                sequenceArguments.append((argument, sequence, tap))
            }
        }
        var stateTypes: [TensorType?] = []
        for (j, output) in outputs.enumerated() {
            guard let initial = output.initial else {
                stateTypes.append(nil)
                continue
            }
            guard !output.taps.isEmpty, output.taps.allSatisfy({ $0 < 0 }), Set(output.taps).count == output.taps.count else {
                throw fail("output \(j) needs distinct negative taps, not \(output.taps)")
            }
            let state: TensorType
            if output.taps == [-1] {
                state = initial.type
            } else {
                let depth = -output.taps.min()!
                guard initial.ndim >= 1, initial.staticShape[0] == nil || initial.staticShape[0] == depth else {
                    throw fail("output \(j) reads \(depth) steps back, so its initial value needs \(depth) rows along a first axis; it is \(initial.type)")
                }
                state = TensorType(initial.dtype, shape: Array(initial.staticShape.dropFirst()))
            }
            stateTypes.append(state)
            arguments += output.taps.map { Variable(type: state, name: "\(initial.name ?? "output \(j)")[t\(tapText($0))]", location: location) }
        }
        let given = nonSequences.map { Variable(type: $0.type, name: $0.name, location: location) }

        let result = try step(arguments + given)
        guard result.outputs.count == outputs.count else {
            throw fail("the step function returns \(result.outputs.count) output\(result.outputs.count == 1 ? "" : "s"), but outputsInfo describes \(outputs.count)")
        }
        for (j, (value, state)) in zip(result.outputs, stateTypes).enumerated() {
            guard let state else { continue }
            guard value.dtype == state.dtype, value.ndim == state.ndim,
                  zip(value.staticShape, state.shape).allSatisfy({ $0 == nil || $1 == nil || $0 == $1 }) else {
                throw fail("the step function returns \(value.type) for output \(j), which is fed back as \(state)")
            }
        }
        // Each shared variable the step updates is one more recurrent output: the step reads
        // the value the previous step left, and the loop's last value is the update. Shared
        // variables with a default update that the step reads (a random stream's state) are
        // updated by every step, as Theano's scan does, so each step draws anew.
        let stepUpdates = try withDefaultUpdates(result.updates, reading: result.outputs + (result.until.map { [$0] } ?? []))
        let updated = stepUpdates.keys.sorted { ($0.name ?? "") < ($1.name ?? "") }
        for variable in updated where !variable.type.fits(stepUpdates[variable]!.type) {
            throw fail("the update of \(variable) has type \(stepUpdates[variable]!.type), which does not fit \(variable.type)")
        }
        let updatedStates = updated.map { Variable(type: $0.type, name: "\($0.name ?? "shared")[t-1]", location: location) }
        arguments += updatedStates
        var results = result.outputs + updated.map { stepUpdates[$0]! }
        if let until = result.until {
            guard until.ndim == 0 else { throw fail("the until condition must be a scalar, not \(until.type)") }
            results.append(until.dtype == .bool ? until : try neq(until, 0))
        }
        // The step reads the outer non-sequences: what depends on them alone is captured.
        results = try substituting(Dictionary(zip(given, nonSequences)) { first, _ in first }, in: results)
        var rewriter = LoopConstructionRewriter(excluding: excluding)
        let unchanged = results
        let work = rewriter.run(.wholeSequenceWork, unchanged: WholeSequenceWork(unchanged: unchanged), changes: \.sequences.count) {
            try WholeSequenceWork(results: unchanged, sequenceArguments: sequenceArguments, arguments: arguments + updated, location: location)
        }
        results = work.results
        arguments.insert(contentsOf: work.arguments, at: sequenceArguments.count)
        let userResults = Array(results.prefix(outputs.count + updated.count)), stepArguments = arguments + updated
        let saved = rewriter.run(.savedPreactivations, unchanged: [], changes: \.count) {
            try SavedPreactivations.values(results: userResults, arguments: stepArguments)
        }
        results.insert(contentsOf: saved, at: userResults.count)
        let captured = capturedVariables(of: results, given: arguments + updated)
        let stepGraph = try FunctionGraph(inputs: arguments + captured, outputs: results,
                                          givens: Dictionary(uniqueKeysWithValues: zip(updated as [Variable], updatedStates)))
        let signature = ScanSignature(hasStepCount: hasStepCount, sequenceTaps: (sequences + work.sequences).map(\.taps),
                                      outputTaps: outputs.map(\.taps) + updated.map { _ in [-1] } + saved.map { _ in [] },
                                      nonSequenceCount: captured.count, hasUntil: result.until != nil,
                                      goBackwards: goBackwards, truncateGradient: truncateGradient, savedOutputs: saved.count)
        body = ScanBody(name: name, location: location, signature: signature, step: stepGraph,
                        stateTypes: zip(stateTypes, result.outputs).map { $0 ?? $1.type } + updated.map(\.type) + saved.map(\.type),
                        constructionReports: [InnerGraphReport(name: "scan{\(name)} construction", report: rewriter.report)],
                        sharedStates: updated.count)
        extraSequences = work.sequences.map(\.variable)
        updatedVariables = updated
        self.nonSequences = captured
    }
}

/// `+1`, `-2` or nothing for tap 0.
func tapText(_ tap: Int) -> String { tap == 0 ? "" : tap > 0 ? "+\(tap)" : "\(tap)" }

/// The variables `results` depend on that are neither computed from `given` nor constants:
/// what a step function used from outside without receiving it (weights, shared variables,
/// values computed before the loop). They become non-sequences.
private func capturedVariables(of results: [Variable], given: [Variable]) -> [Variable] {
    let order = topologicalOrder(of: results, stoppingAt: Set(given))
    var dependent = Set(given)
    for node in order where node.inputs.contains(where: dependent.contains) { dependent.formUnion(node.outputs) }
    var captured: [Variable] = [], seen = Set<Variable>()
    func consider(_ variable: Variable) {
        guard !dependent.contains(variable), !(variable is Constant), seen.insert(variable).inserted else { return }
        captured.append(variable)
    }
    for node in order where node.outputs.contains(where: dependent.contains) { node.inputs.forEach(consider) }
    results.forEach(consider)
    return captured
}
