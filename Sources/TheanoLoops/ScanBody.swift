import Foundation
import TheanoCore
import TheanoOps
import TheanoOptimizer
import TheanoAutodiff

/// The graph of one step of a scan, with what the loop and its gradient need around it: the
/// layout, and the step compiled (once per kind of linker). ``ScanConstruction`` builds the
/// first body of a loop from the user's step function; rewrites build others from it.
package final class ScanBody: @unchecked Sendable {
    /// The name in error messages and graphs.
    package let name: String
    package let location: SourceLocation
    package let signature: ScanSignature
    /// The step's graph: inputs are the arguments (see ``ScanSignature``), the last ones
    /// standing for the non-sequences; outputs are the step's results, then the `until`
    /// condition.
    package let step: FunctionGraph
    /// The type of one step's value of each output.
    package let stateTypes: [TensorType]
    /// The products whose matrix's gradient is one product after the gradient loop.
    let batchedProducts: [BatchedProduct]
    /// What the construction rewrites did to the step (one report per loop built: a joined
    /// loop carries those of both).
    let constructionReports: [InnerGraphReport]

    /// Guards the two caches below (a compiled function may run on any thread).
    private let lock = NSLock()
    /// The step's graphs optimized for each optimization, with their reports: each link of a
    /// loop links its own executor from them, so that two calls running at once share no memory.
    private var optimized: [String: (graph: FunctionGraph, report: RewriteReport)] = [:]
    private var gradientSteps: [SkippedGradients: GradientStep] = [:]

    /// How many of the user's outputs, the last ones, are the values of shared variables the
    /// step updates (whose initial values are the variables themselves).
    let sharedStates: Int

    package init(name: String, location: SourceLocation, signature: ScanSignature, step: FunctionGraph, stateTypes: [TensorType],
                 constructionReports: [InnerGraphReport], sharedStates: Int = 0) {
        self.name = name
        self.location = location
        self.signature = signature
        self.step = step
        self.stateTypes = stateTypes
        self.constructionReports = constructionReports
        self.sharedStates = sharedStates
        batchedProducts = BatchedProduct.all(in: step, signature: signature)
    }
    /// Whether the gradient loop sums non-sequence `k`'s gradient step by step (a float one,
    /// neither skipped nor multiplied only in batched products).
    func sumsGradient(ofNonSequence k: Int, dtype: DType, skipping skipped: SkippedGradients) -> Bool {
        dtype.isFloat && !skipped.nonSequences.contains(k) && !batchedProducts.contains { $0.nonSequence == k }
    }

    /// The batched products (indices into ``batchedProducts``) whose cotangents the gradient
    /// loop stacks: those of matrices not skipped.
    func stackedProducts(skipping skipped: SkippedGradients) -> [Int] {
        batchedProducts.indices.filter { !skipped.nonSequences.contains(batchedProducts[$0].nonSequence) }
    }

    /// The step's results (without the `until` condition).
    var stepOutputs: [Variable] { Array(step.outputs.prefix(stateTypes.count)) }

    /// The step, compiled by `compiler` (optimized once per optimization); records the
    /// construction reports and the step's with the compiler.
    func stepExecutor(compiledBy compiler: InnerGraphCompiler) throws -> any Executor {
        for report in constructionReports { compiler.reports.record(report.report, as: report.name) }
        return try compiled("step", by: compiler) { step }
    }

    /// The step's pullback (see ``gradientStep(skipping:)``), compiled by `compiler`, with
    /// the transposes the loop makes for it.
    func linkedGradientStep(compiledBy compiler: InnerGraphCompiler, skipping skipped: SkippedGradients) throws -> LinkedGradientStep {
        let gradient = try gradientStep(skipping: skipped), graph = gradient.graph
        // The loop hands over the accumulated non-sequence gradients (the last inputs): the
        // step adds into them in place (`Σ∂W += h_{t-1}ᵀ·dz` is a gemm writing into Σ∂W).
        let inputs = graph.inputs.count
        let executor = try compiled("gradient step \(skipped)", by: compiler,
                                    overwritableInputs: Set((inputs - gradient.accumulators)..<inputs)) { graph }
        return LinkedGradientStep(executor: executor, transposed: gradient.transposed)
    }

    private func compiled(_ what: String, by compiler: InnerGraphCompiler, overwritableInputs: Set<Int> = [],
                          graph: () throws -> FunctionGraph) throws -> any Executor {
        let key = "\(what) \(compiler.optimization)"
        let ready = try lock.withLock { () throws -> (graph: FunctionGraph, report: RewriteReport) in
            if let ready = optimized[key] { return ready }
            let source = try graph()
            let copy = try FunctionGraph(inputs: source.inputs, outputs: source.outputs)
            optimized[key] = (copy, compiler.optimize(copy))
            return optimized[key]!
        }
        compiler.reports.record(ready.report, as: "scan{\(name)} \(what)")
        return try compiler.link(ready.graph, overwritableInputs: overwritableInputs)
    }

    /// The step's pullback as a graph. Inputs: the step's inputs, the step's results (so
    /// the pullback reads them instead of computing them again), one cotangent per float
    /// result, the transposed non-sequences (see ``GradientStep/transposed``), and the
    /// gradient accumulated so far for each float non-sequence not skipped nor batched. Outputs: the gradients of the step's float sequence arguments (but those
    /// of skipped sequences) and state arguments, the cotangents of the batched products
    /// (``BatchedProduct``), then each accumulated non-sequence gradient plus this step's.
    func gradientStep(skipping skipped: SkippedGradients) throws -> GradientStep {
        if let gradient = lock.withLock({ gradientSteps[skipped] }) { return gradient }
        let outputs = stepOutputs
        let results = outputs.enumerated().map { Variable(type: $1.type, name: $1.name ?? "result \($0)", location: location) }
        let floatOutputs = outputs[signature.userOutputs].filter(\.dtype.isFloat)
        let cotangents = floatOutputs.map { Variable(type: $0.type, name: "∂\($0.name ?? "output")", location: location) }
        var arguments = step.inputs[...]
        let sequenceArguments = signature.sequenceTaps.enumerated().flatMap { i, taps in
            let tapArguments = arguments.takeFirst(taps.count)
            return skipped.sequences.contains(i) ? [] : tapArguments
        }
        let stateArguments = arguments.takeFirst(signature.outputTaps.reduce(0) { $0 + $1.count })
        let nonSequences = arguments.enumerated().filter { sumsGradient(ofNonSequence: $0.offset, dtype: $0.element.dtype, skipping: skipped) }
            .map(\.element)
        let perStep = (sequenceArguments + stateArguments).filter(\.dtype.isFloat)
        let products = stackedProducts(skipping: skipped).map { batchedProducts[$0].product }
        let wrt = perStep + products + nonSequences
        let gradients = floatOutputs.isEmpty ? try wrt.map { try zerosLike($0) }
            : try Lop(floatOutputs, wrt: wrt, evalPoints: cotangents, disconnected: .zero)
        let accumulated = nonSequences.map { Variable(type: $0.type, name: "Σ∂\($0.name ?? "non-sequence")", location: location) }
        let sums = try zip(accumulated, gradients[(perStep.count + products.count)...]).map { try $0 + $1 }
        var pullback = Array(gradients[..<(perStep.count + products.count)]) + sums
        // `dz·Uᵀ` reads `U` transposed; the loop makes the transpose once, contiguous.
        let nonSequenceArguments = Dictionary(uniqueKeysWithValues: step.inputs.suffix(signature.nonSequenceCount).enumerated().map { ($1, $0) })
        var transposed: [(nonSequence: Int, op: DimShuffle)] = [], transposes: [Variable] = [], replacements: [Variable: Variable] = [:]
        for node in topologicalOrder(of: pullback, stoppingAt: Set(step.inputs)) {
            guard let op = node.op as? DimShuffle, op.pattern == [.input(1), .input(0)], let k = nonSequenceArguments[node.inputs[0]],
                  replacements[node.output(0)] == nil else { continue }
            let transpose = Variable(type: node.outputTypes[0], name: "\(node.inputs[0].name ?? "non-sequence")ᵀ", location: location)
            replacements[node.output(0)] = transpose
            transposed.append((k, op))
            transposes.append(transpose)
        }
        if !replacements.isEmpty { pullback = try substituting(replacements, in: pullback) }
        let graph = try FunctionGraph(inputs: step.inputs + results + cotangents + transposes + accumulated, outputs: pullback,
                                      givens: Dictionary(zip(outputs, results)) { first, _ in first })
        let gradient = GradientStep(graph: graph, transposed: transposed, accumulators: accumulated.count)
        lock.withLock { gradientSteps[skipped] = gradient }
        return gradient
    }
}

/// The sequences and non-sequences of a loop (by position) whose gradients nothing reads, so
/// the gradient loop does not compute them.
struct SkippedGradients: Hashable, Sendable, CustomStringConvertible {
    package var sequences: Set<Int> = []
    package var nonSequences: Set<Int> = []

    package init(sequences: Set<Int> = [], nonSequences: Set<Int> = []) {
        self.sequences = sequences
        self.nonSequences = nonSequences
    }

    package var description: String { "skipping sequences \(sequences.sorted()), non-sequences \(nonSequences.sorted())" }
}

/// A loop step's pullback: its graph, and the non-sequences it reads transposed (`Uᵀ` in
/// `dz·Uᵀ`), which the gradient loop makes once per run as contiguous matrices and hands in
/// after the cotangents — at a step's sizes BLAS multiplies by a contiguous matrix up to
/// 1.6× faster than by a transposed view.
struct GradientStep {
    package let graph: FunctionGraph
    package let transposed: [(nonSequence: Int, op: DimShuffle)]
    /// How many of the last inputs are accumulated non-sequence gradients.
    let accumulators: Int

    package init(graph: FunctionGraph, transposed: [(nonSequence: Int, op: DimShuffle)], accumulators: Int) {
        self.graph = graph
        self.transposed = transposed
        self.accumulators = accumulators
    }
}

/// ``GradientStep`` linked: the executor, and the transposes to make for it.
struct LinkedGradientStep {
    package let executor: any Executor
    package let transposed: [(nonSequence: Int, op: DimShuffle)]

    package init(executor: any Executor, transposed: [(nonSequence: Int, op: DimShuffle)]) {
        self.executor = executor
        self.transposed = transposed
    }
}
