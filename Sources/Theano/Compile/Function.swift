import Foundation
import TheanoCore
import TheanoOps
import TheanoOptimizer
import TheanoAutodiff
import TheanoNative
import TheanoLoops

/// A compiled function: call it with arrays for its inputs to get its outputs, and to apply
/// its updates to shared variables.
///
/// ```swift
/// let train = try function(inputs: [x, y], outputs: [cost], updates: [W: W - 0.1 * gW])
/// let loss = try train(batchX, batchY)[0]
/// ```
///
/// A function may be called from several threads at once. Each running call has memory of
/// its own (the first call on a second thread while another runs links the graph a second
/// time, which takes milliseconds; later calls reuse it), and holds the locks of the shared
/// variables it reads or updates from reading them to writing its updates: calls that only
/// read a variable run together, calls that update one take turns with every other call
/// using it, and no update is lost.
public final class Function: @unchecked Sendable {
    /// The name used in error messages.
    public let name: String
    /// The symbolic inputs, in call order.
    public let inputs: [Variable]
    /// The number of results each call returns.
    public let outputCount: Int
    /// Values used for inputs a call leaves out.
    public let defaults: [Variable: NDArray]
    /// The optimized graph the executor runs.
    public let graph: FunctionGraph
    /// What the optimizer did.
    public let rewriteReport: RewriteReport
    /// Seconds spent compiling, by stage (for a function answering calls while its kernels
    /// compile, those of the optimized code: this waits for it).
    public var compileTimes: CompileTimes { linkedCode.summary.times }
    /// Problems the linker worked around (no C compiler, a failed compile). Waits for the
    /// optimized code, as ``compileTimes`` does.
    public var linkWarnings: [String] { linkedCode.summary.warnings }
    /// How many nodes of the graph run generated code. Waits for the optimized code, as
    /// ``compileTimes`` does.
    public var compiledNodes: Int { linkedCode.summary.compiledNodes }
    /// How many nodes may write their result over an input's memory (updates written into
    /// their shared variable, intermediates no other node reads). Waits for the optimized
    /// code, as ``compileTimes`` does.
    public var inplaceNodes: Int { linkedCode.summary.inplaceNodes }
    /// Time per node and per op kind, when compiled with `profile: true`.
    public internal(set) var profile: Profile?
    /// The shared variables the updates write, in the order of the graph's extra outputs.
    public let updatedVariables: [SharedVariable]
    let executors: ExecutorPool
    /// What the linker made: final, or being compiled (see ``CompileOptions/waitsForOptimizedCode``).
    let linkedCode: LinkedCode
    /// The locks of the shared variables the function reads: a call holds them (for
    /// reading, or for writing those it updates).
    private let locks: SharedVariable.LockPlan
    /// How many inputs a call must give (the rest have defaults).
    private let requiredCount: Int
    private let inputTypes: [TensorType]

    init(name: String, inputs: [Variable], outputCount: Int, defaults: [Variable: NDArray], updated: [SharedVariable],
         graph: FunctionGraph, rewriteReport: RewriteReport, compileTimes: CompileTimes, linked: LinkedGraph,
         relink: @escaping () throws -> any Executor) {
        linkedCode = LinkedCode(linked, times: compileTimes)
        self.rewriteReport = rewriteReport
        self.name = name
        self.inputs = inputs
        self.outputCount = outputCount
        self.defaults = defaults
        self.updatedVariables = updated
        self.graph = graph
        executors = ExecutorPool(first: linked.executor, link: relink)
        let read = graph.nodes.flatMap(\.inputs) + graph.outputs
        locks = SharedVariable.LockPlan(reading: read.compactMap { $0 as? SharedVariable }, writing: updated)
        inputTypes = inputs.map(\.type)
        requiredCount = inputs.count - inputs.reversed().prefix { defaults[$0] != nil }.count
    }

    /// Runs the function. Outputs are computed, then every update is applied, all from the
    /// values before the call. A failed call changes no shared variable.
    /// Trailing inputs that have defaults may be left out.
    public func callAsFunction(_ given: [NDArray]) throws -> [NDArray] {
        guard (requiredCount...inputs.count).contains(given.count) else {
            throw TheanoError.wrongArgumentCount(function: name, expected: inputs.count, got: given.count)
        }
        let arguments = given.count == inputs.count ? given : given + inputs[given.count...].map { defaults[$0]! }
        for index in inputs.indices where !inputTypes[index].accepts(arguments[index]) {
            throw TheanoError.badInput(function: name, input: inputs[index].name.map { "'\($0)'" } ?? "#\(index)",
                                       expected: inputTypes[index], dtype: arguments[index].dtype, shape: arguments[index].shape)
        }
        return try SharedVariable.withLocks(locks) {
            let results = try executors.withExecutor { try $0.run(inputs: arguments) }
            for (variable, value) in zip(updatedVariables, results[outputCount...]) { variable.store(value) }
            return updatedVariables.isEmpty ? results : Array(results[..<outputCount])
        }
    }

    /// Runs the function (see ``callAsFunction(_:)-([NDArray])``).
    public func callAsFunction(_ arguments: NDArray...) throws -> [NDArray] { try callAsFunction(arguments) }

    /// Runs the function with inputs given by name; inputs left out take their defaults.
    public func callAsFunction(named arguments: [String: NDArray]) throws -> [NDArray] {
        let known = Set(inputs.compactMap(\.name))
        if let unknown = arguments.keys.sorted().first(where: { !known.contains($0) }) {
            throw TheanoError.badArgumentName(function: name, name: unknown, known: known.sorted())
        }
        return try callAsFunction(inputs.map { input in
            guard let value = input.name.flatMap({ arguments[$0] }) ?? defaults[input] else {
                throw TheanoError.missingArgument(function: name, input: input.name ?? "an unnamed input")
            }
            return value
        })
    }
}

/// How `function` compiles a graph. Options are values: nothing is configured globally.
public struct CompileOptions: Sendable {
    /// Turns the graph into something that runs.
    public var linker: any Linker
    /// Which rewrite phases run.
    public var optimization: OptimizationLevel
    /// Names of rules or phases (`RewritePhase.rawValue`) to leave out.
    public var excluding: Set<String>
    /// Whether `function` returns only once the native backend's kernels are compiled
    /// (`true`, the default), or at once (`false`): when the kernels are not in the cache,
    /// calls then run the first tier — the reference implementations, with matrix products
    /// on BLAS — while the kernels compile on another thread, and the compiled code is
    /// swapped in between calls when it is ready. Results agree whichever tier computes them,
    /// to the rounding that separates the reference implementations from generated code
    /// (summation order, fused multiply-adds, vectorized transcendental functions; exact
    /// operations give the same bits). Functions compiled with `profile: true` always wait,
    /// so that the profile times the optimized code; other linkers always compile at once.
    /// See ``Function/isOptimizedCodeReady`` and ``Function/waitForOptimizedCode()``.
    public var waitsForOptimizedCode: Bool
    /// Whether to record every rule firing in the function's `rewriteReport`.
    public var trace: Bool
    /// Whether to check the graph's invariants after every rule (slow; for tests).
    public var checkInvariants: Bool
    /// Rules of your own, each run with the rules of its phase (every phase but `merge`,
    /// which is a single whole-graph pass).
    public var additionalRules: [(phase: RewritePhase, rule: Rewrite)]

    /// Options with the given linker, optimization level, exclusions, waiting for compiled
    /// code, tracing, invariant checks and rules of your own; the defaults are those of ``default``.
    public init(linker: any Linker = ReferenceLinker(), optimization: OptimizationLevel = .fastRun,
                excluding: Set<String> = [], waitsForOptimizedCode: Bool = true, trace: Bool = false, checkInvariants: Bool = false,
                additionalRules: [(phase: RewritePhase, rule: Rewrite)] = []) {
        self.linker = linker
        self.optimization = optimization
        self.excluding = excluding
        self.waitsForOptimizedCode = waitsForOptimizedCode
        self.trace = trace
        self.checkInvariants = checkInvariants
        self.additionalRules = additionalRules
    }

    /// Compiles the inner graphs of ops (loop steps) as these options compile the function.
    var innerGraphCompiler: InnerGraphCompiler {
        let optimization = "\(optimization) without \(excluding.sorted()) with \(additionalRules.map(\.rule.name)) for \(linker)"
        return InnerGraphCompiler(linker: linker, optimization: optimization) { [self] in Pipeline.optimize($0, options: self) }
    }

    /// Every phase, the reference interpreter.
    public static let `default` = CompileOptions()
    /// Every phase, the native backend (generated C where it can, reference elsewhere).
    public static let native = CompileOptions(linker: NativeLinker())
    /// No rewriting: the graph runs as built.
    public static let unoptimized = CompileOptions(optimization: .none)
}

/// Compiles a function from `inputs` to `outputs` (Theano's `theano.function`).
///
/// - Parameters:
///   - inputs: the free variables each call gives values for, in call order.
///   - outputs: the variables each call computes and returns, in order.
///   - updates: new values of shared variables, assigned after each call; all are computed
///     from the values before the call. Shared variables the graph reads that have a
///     ``SharedVariable/defaultUpdate`` and no update here get their default update.
///   - givens: substitutions made before compiling: each key is replaced by its value.
///   - defaults: values for inputs a call leaves out (trailing ones, or any when calling
///     with named arguments).
///   - name: the name error messages use (by default `function at` the file and line that
///     compiled it).
///   - options: how the graph is optimized and linked (``CompileOptions``).
///   - profile: time every node of every call; the function's `profile` reports it.
///   - noDefaultUpdates: apply no shared variable's ``SharedVariable/defaultUpdate`` (a
///     random stream then draws the same numbers on every call).
///   - fileID: the file that compiled the function, for error messages (leave the default).
///   - line: the line that compiled the function, for error messages (leave the default).
public func function(inputs: [Variable], outputs: [Variable], updates: [SharedVariable: Variable] = [:],
                     givens: [Variable: Variable] = [:], defaults: [Variable: NDArray] = [:], name: String? = nil,
                     options: CompileOptions = .default, profile: Bool = false, noDefaultUpdates: Bool = false,
                     fileID: String = #fileID, line: Int = #line) throws -> Function {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    let updates = noDefaultUpdates ? updates : try withDefaultUpdates(updates, reading: outputs + givens.values)
    let name = name ?? "function at \(location)"
    func fail(_ reason: String) -> TheanoError { .invalidArgument(function: "function", reason: reason, location: location) }
    guard Set(inputs).count == inputs.count else { throw fail("an input is listed twice") }
    for input in inputs where input.owner != nil || input is Constant || input is SharedVariable {
        throw fail("input \(input) is not a free variable: it is computed, constant or shared")
    }
    let updated = updates.keys.sorted { ($0.name ?? "") < ($1.name ?? "") }
    for variable in updated {
        let value = updates[variable]!
        guard value.dtype == variable.dtype, value.ndim == variable.ndim,
              zip(value.staticShape, variable.staticShape).allSatisfy({ $0 == nil || $1 == nil || $0 == $1 })
        else { throw fail("the update of \(variable) has type \(value.type), which does not fit") }
    }
    for (input, value) in defaults where !inputs.contains(input) || value.dtype != input.dtype || !input.type.accepts(shape: value.shape) {
        throw fail("the default for \(input) must be an input's and fit its type, not \(value.dtype) of shape \(shapeText(value.shape))")
    }
    var checkedGivens: [Variable: Variable] = [:]
    for (key, value) in givens {
        let current = (value as? SharedVariable)?.value.shape ?? (value as? Constant)?.value.shape
        let sizes = zip(key.staticShape, current.map { $0.map(Optional.some) } ?? value.staticShape)
        guard key.dtype == value.dtype, key.ndim == value.ndim, sizes.allSatisfy({ $0 == nil || $1 == nil || $0 == $1 }) else {
            throw fail("given \(value) (\(value.type)\(current.map { ", now of shape \(shapeText($0))" } ?? "")) cannot replace \(key) (\(key.type))")
        }
        // Sizes only known when the function runs are checked then.
        checkedGivens[key] = try value.checked(toFit: key, at: location)
    }
    // An update whose type does not guarantee the variable's static shape is checked by a
    // node of the graph, which runs before any update is written in place: a call that fails
    // this check changes nothing.
    let updateValues = try updated.map { variable in try updates[variable]!.checked(toFit: variable, at: location) }
    let graph = try FunctionGraph(inputs: inputs, outputs: outputs + updateValues, givens: checkedGivens)
    if let missing = graph.missingInputs().first {
        throw fail("the outputs depend on \(missing), built at \(missing.location), which is not an input (add it to inputs, or to givens)")
    }
    var report = Pipeline.optimize(graph, options: options)
    let linkStart = ContinuousClock.now
    let innerGraphs = options.innerGraphCompiler
    // A first tier, when asked for, from what the cache holds (compiling nothing).
    let firstTier = options.waitsForOptimizedCode || profile ? nil : (options.linker as? NativeLinker).map(CachedKernelsLinker.init)
    let linker: any Linker = firstTier ?? options.linker
    let linked = try linker.link(graph, updates: updated, overwritableInputs: [], innerGraphs: innerGraphs.linking(with: linker))
    report.innerGraphs = innerGraphs.reports.all
    let times = CompileTimes(rewrite: report.seconds, link: seconds(since: linkStart), codegen: linked.codegenSeconds,
                             compile: linked.compileSeconds, load: linked.loadSeconds, cacheHit: linked.cacheHit)
    let recorder = profile ? (linked.executor as? Interpreter).map { Profile(nodes: $0.nodes, compileTimes: times) } : nil
    /// Every executor of the function records into the one profile.
    func profiled(_ executor: any Executor) -> any Executor {
        (executor as? Interpreter)?.profile = recorder
        return executor
    }
    let function = Function(name: name, inputs: inputs, outputCount: outputs.count, defaults: defaults, updated: updated,
                            graph: graph, rewriteReport: report, compileTimes: times, linked: linked) {
        profiled(try linker.link(graph, updates: updated, overwritableInputs: [], innerGraphs: innerGraphs.linking(with: linker)).executor)
    }
    _ = profiled(linked.executor)
    function.profile = recorder
    if firstTier?.linkedProvisionally == true {
        function.compileOptimizedCode(rewriteSeconds: report.seconds) { [linker = options.linker] in
            try linker.link(graph, updates: updated, overwritableInputs: [], innerGraphs: innerGraphs)
        }
    }
    return function
}
