import Foundation

/// The graph of one step of a scan, built once by calling the user's step function on
/// placeholders, with what the loop and its gradient need around it: the layout, the
/// non-sequences the step captured, and the step compiled (once per kind of linker).
final class ScanBody: @unchecked Sendable {
    /// The name in error messages and graphs.
    let name: String
    let location: SourceLocation
    let signature: ScanSignature
    /// The step's graph: inputs are the arguments (see ``ScanSignature``) followed by the
    /// captured non-sequences; outputs are the step's results, then the `until` condition.
    let step: FunctionGraph
    /// The outer variables standing for the step's non-sequence inputs: those given, then
    /// those the step function used without receiving them.
    let outerNonSequences: [Variable]
    /// The type of one step's value of each output (the step's, then one per updated
    /// shared variable).
    let stateTypes: [TensorType]
    /// The shared variables the step updates, whose histories are the last outputs.
    let updatedVariables: [SharedVariable]
    /// Sequences computed before the loop (``LoopInvariantProducts``), after the given ones.
    let productSequences: [Variable]

    /// Guards the two caches below (a compiled function may run on any thread).
    private let lock = NSLock()
    private var programs: [String: any Executor] = [:]
    private var gradientStep: FunctionGraph?

    init(name: String, sequences: [ScanSequence], outputs: [ScanOutput], nonSequences: [Variable], hasStepCount: Bool,
         goBackwards: Bool, truncateGradient: Int?, location: SourceLocation, step: ([Variable]) throws -> ScanStep) throws {
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
        arguments += given

        let result = try step(arguments)
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
        // the value the previous step left, and the loop's last value is the update.
        let updated = result.updates.keys.sorted { ($0.name ?? "") < ($1.name ?? "") }
        for variable in updated where !variable.type.fits(result.updates[variable]!.type) {
            throw fail("the update of \(variable) has type \(result.updates[variable]!.type), which does not fit \(variable.type)")
        }
        let updatedStates = updated.map { Variable(type: $0.type, name: "\($0.name ?? "shared")[t-1]", location: location) }
        arguments.insert(contentsOf: updatedStates, at: arguments.count - given.count)
        var results = result.outputs + updated.map { result.updates[$0]! }
        if let until = result.until {
            guard until.ndim == 0 else { throw fail("the until condition must be a scalar, not \(until.type)") }
            results.append(until.dtype == .bool ? until : try neq(until, 0))
        }
        let products = try LoopInvariantProducts(results: results, sequenceArguments: sequenceArguments,
                                                 nonSequenceArguments: Array(zip(given, nonSequences)), arguments: arguments + updated,
                                                 location: location)
        results = products.results
        arguments.insert(contentsOf: products.arguments, at: sequenceArguments.count)
        let captured = capturedVariables(of: results, given: arguments + updated)
        self.name = name
        self.location = location
        self.step = try FunctionGraph(inputs: arguments + captured, outputs: results,
                                      givens: Dictionary(uniqueKeysWithValues: zip(updated as [Variable], updatedStates)))
        self.stateTypes = zip(stateTypes, result.outputs).map { $0 ?? $1.type } + updated.map(\.type)
        updatedVariables = updated
        productSequences = products.sequences.map(\.variable)
        outerNonSequences = nonSequences + captured
        signature = ScanSignature(hasStepCount: hasStepCount, sequenceTaps: (sequences + products.sequences).map(\.taps),
                                  outputTaps: outputs.map(\.taps) + updated.map { _ in [-1] },
                                  nonSequenceCount: nonSequences.count + captured.count, hasUntil: result.until != nil,
                                  goBackwards: goBackwards, truncateGradient: truncateGradient)
    }

    /// The step's results (without the `until` condition).
    var stepOutputs: [Variable] { Array(step.outputs.prefix(stateTypes.count)) }

    /// The step, optimized and linked by `linker` (once per linker configuration).
    func program(linkedBy linker: any Linker) throws -> any Executor {
        try compiled("step", linker: linker) { step }
    }

    /// The step's pullback (see ``gradientGraph()``), optimized and linked by `linker`.
    func gradientProgram(linkedBy linker: any Linker) throws -> any Executor {
        // The loop hands over the accumulated non-sequence gradients (the last inputs): the
        // step adds into them in place (`Σ∂W += h_{t-1}ᵀ·dz` is a gemm writing into Σ∂W).
        let inputs = try gradientGraph().inputs.count, accumulators = step.inputs.suffix(signature.nonSequenceCount).filter(\.dtype.isFloat).count
        return try compiled("gradient", linker: linker, overwritableInputs: Set((inputs - accumulators)..<inputs)) { try gradientGraph() }
    }

    private func compiled(_ what: String, linker: any Linker, overwritableInputs: Set<Int> = [],
                          graph: () throws -> FunctionGraph) throws -> any Executor {
        let key = "\(what) \(linker)"
        if let program = lock.withLock({ programs[key] }) { return program }
        let source = try graph()
        let copy = try FunctionGraph(inputs: source.inputs, outputs: source.outputs)
        _ = Pipeline.optimize(copy, options: CompileOptions(linker: linker))
        let program = try linker.link(copy, updates: [], overwritableInputs: overwritableInputs).executor
        lock.withLock { programs[key] = program }
        return program
    }

    /// The step's pullback as a graph. Inputs: the step's inputs, the step's results (so
    /// the pullback reads them instead of computing them again), one cotangent per float
    /// result, and the gradient accumulated so far for each float non-sequence. Outputs: the
    /// gradients of the step's float sequence and state inputs, then each float
    /// non-sequence's accumulated gradient plus this step's (one `gemm` for `Wₕ`).
    func gradientGraph() throws -> FunctionGraph {
        if let graph = lock.withLock({ gradientStep }) { return graph }
        let outputs = stepOutputs
        let results = outputs.enumerated().map { Variable(type: $1.type, name: $1.name ?? "result \($0)", location: location) }
        let floatOutputs = outputs.filter(\.dtype.isFloat)
        let cotangents = floatOutputs.map { Variable(type: $0.type, name: "∂\($0.name ?? "output")", location: location) }
        let firstNonSequence = step.inputs.count - signature.nonSequenceCount
        let wrt = step.inputs.filter(\.dtype.isFloat)
        let gradients = floatOutputs.isEmpty ? try wrt.map { try zerosLike($0) }
            : try Lop(floatOutputs, wrt: wrt, evalPoints: cotangents, disconnected: .zero)
        let nonSequences = step.inputs[firstNonSequence...].filter(\.dtype.isFloat)
        let accumulated = nonSequences.map { Variable(type: $0.type, name: "Σ∂\($0.name ?? "non-sequence")", location: location) }
        let perStep = gradients.count - nonSequences.count
        let sums = try zip(accumulated, gradients[perStep...]).map { try $0 + $1 }
        let graph = try FunctionGraph(inputs: step.inputs + results + cotangents + accumulated, outputs: Array(gradients[..<perStep]) + sums,
                                      givens: Dictionary(zip(outputs, results)) { first, _ in first })
        lock.withLock { gradientStep = graph }
        return graph
    }
}

/// `+1`, `-2` or nothing for tap 0.
private func tapText(_ tap: Int) -> String { tap == 0 ? "" : tap > 0 ? "+\(tap)" : "\(tap)" }

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
