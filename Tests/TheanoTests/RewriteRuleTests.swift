@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoLoops
@testable import TheanoNative
@testable import TheanoOps
@testable import TheanoOptimizer
import Testing

// MARK: - Rule cases

/// A tiny graph: its free inputs and its outputs.
typealias RuleGraph = (inputs: [Variable], outputs: [Variable])

/// One rule of the optimizer applied to a tiny graph where it fires, with the exact
/// optimized graph it should leave (as `debugprint` shows it).
struct RewriteRuleCase: Sendable, CustomTestStringConvertible {
    /// The rule's name, as `rewriteReport.counts` and `CompileOptions.excluding` know it.
    let rule: String
    /// The graph, in words.
    let label: String
    let optimization: OptimizationLevel
    let excluding: Set<String>
    let expected: String
    let build: @Sendable () throws -> RuleGraph

    var testDescription: String { "\(rule): \(label)" }

    init(_ rule: String, _ label: String, optimization: OptimizationLevel = .fastRun, excluding: Set<String> = [],
         expected: String, build: @escaping @Sendable () throws -> RuleGraph) {
        self.rule = rule
        self.label = label
        self.optimization = optimization
        self.excluding = excluding
        self.expected = expected
        self.build = build
    }

    /// A graph of one float32 input `x` of static shape `x` and one output.
    init(_ rule: String, _ label: String, x shape: [Int?], optimization: OptimizationLevel = .fastRun,
         excluding: Set<String> = [], expected: String, output: @escaping @Sendable (Variable) throws -> Variable) {
        self.init(rule, label, optimization: optimization, excluding: excluding, expected: expected) {
            let x = tensor("x", shape: shape)
            return ([x], [try output(x)])
        }
    }

    /// Compiles the graph with tracing and invariant checks, and checks that the rule fired
    /// cleanly, that the optimized graph is `expected`, and that it computes what the
    /// unoptimized graph computes.
    func check() throws {
        let graph = try build()
        let optimized = try compile(graph, options: tracedOptions(optimization: optimization, excluding: excluding))
        let report = optimized.rewriteReport
        #expect(report.counts[rule, default: 0] > 0, "\(rule) did not fire; the report says:\n\(report)")
        expectClean(report)
        let printed = debugprint(optimized)
        #expect(printed == expected, "the optimized graph is\n\(printed)")
        try expectSameValues(optimized, as: graph)
    }
}

/// Phases these tests leave out: elementwise fusion folds the ops the rules produce into
/// composites, which would hide each rule's own result.
private let phasesOutOfScope: Set<String> = [RewritePhase.fusion.rawValue]

/// Options that trace every firing and check the graph's invariants after each rule (and
/// leave out ``phasesOutOfScope``). Graphs run on the reference interpreter, so that only
/// the rewrites can make optimized and unoptimized values differ.
private func tracedOptions(optimization: OptimizationLevel = .fastRun, excluding: Set<String> = [],
                           additionalRules: [(phase: RewritePhase, rule: Rewrite)] = []) -> CompileOptions {
    CompileOptions(linker: ReferenceLinker(), optimization: optimization, excluding: excluding.union(phasesOutOfScope),
                   trace: true, checkInvariants: true, additionalRules: additionalRules)
}

/// `CompileOptions.unoptimized`, on the reference interpreter.
private let unoptimizedOptions: CompileOptions = {
    var options = CompileOptions.unoptimized
    options.linker = ReferenceLinker()
    return options
}()

/// `graph` compiled with `options` (by default: traced, invariants checked).
private func compile(_ graph: RuleGraph, options: CompileOptions = tracedOptions()) throws -> Function {
    try function(inputs: graph.inputs, outputs: graph.outputs, options: options)
}

/// No rule failed, broke an invariant, or left its phase short of a fixpoint.
private func expectClean(_ report: RewriteReport, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    #expect(report.violations.isEmpty, "broken invariants: \(report.violations)", sourceLocation: sourceLocation)
    #expect(report.failures.isEmpty, "failed rules: \(report.failures)", sourceLocation: sourceLocation)
    #expect(report.unfinishedPhases.isEmpty, "unfinished phases: \(report.unfinishedPhases)", sourceLocation: sourceLocation)
}

/// A deterministic value for input number `index`: its static shape with 3 for unknown
/// sizes; floats in (0, 1) (safe for `log`, `sqrt`, negative powers), integers 0…2 (valid
/// labels for 3 classes), alternating booleans.
private func sampleValue(for input: Variable, index: Int) -> NDArray {
    let shape = input.staticShape.map { $0 ?? 3 }
    let values: [Double] = (0..<shape.reduce(1, *)).map { i in
        switch input.dtype {
        case .bool: Double((i + index) % 2)
        case let dtype where dtype.isInteger: Double((i + index) % 3)
        default: Double((i + 3 * index) % 5 + 1) / 8
        }
    }
    return NDArray(values, shape: shape).cast(to: input.dtype)
}

/// `optimized` gives what the graph gives unoptimized, on `arguments` (by default sample
/// values of the inputs). NaNs must match NaNs.
private func expectSameValues(_ optimized: Function, as graph: RuleGraph, arguments: [NDArray]? = nil,
                              sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
    let reference = try compile(graph, options: unoptimizedOptions)
    let arguments = arguments ?? graph.inputs.enumerated().map { sampleValue(for: $1, index: $0) }
    let (actual, expected) = (try optimized(arguments), try reference(arguments))
    #expect(actual.count == expected.count, sourceLocation: sourceLocation)
    for (value, wanted) in zip(actual, expected) {
        #expect(value.dtype == wanted.dtype && value.isClose(to: wanted, equalNaN: true),
                "optimized \(value), unoptimized \(wanted)", sourceLocation: sourceLocation)
    }
}

/// `op` applied directly (for nodes no public builder makes, such as a cast to the same
/// dtype), recorded as built on the caller's line.
private func applied(_ op: some Op, _ inputs: [Variable], fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try op(inputs, at: Theano.SourceLocation(fileID: fileID, line: line))
}

/// The tables of rule cases, one group per phase.
enum RewriteRuleCases {
    static let inlinePhase: [RewriteRuleCase] = [
        RewriteRuleCase("remove_gradient_override", "exp(gradScale(zeroGrad(x), by: 2))", x: [nil], expected: """
            exp [id A] float32[?]
             └─ x [id B] float32[?]
            """) { x in try exp(gradScale(zeroGrad(x), by: 2)) },
        RewriteRuleCase("inline_op_from_graph", "op(x) for an op computing tanh(a) * 3", x: [nil], expected: """
            mul [id A] float32[?]
             ├─ tanh [id B] float32[?]
             │   └─ x [id C] float32[?]
             └─ constant 3. [id D] float32[1]
            """) { x in
            let a = vector("a")
            return try OpFromGraph(inputs: [a], outputs: [tanh(a) * 3])(x)[0]
        },
    ]

    static let shapePhase: [RewriteRuleCase] = [
        RewriteRuleCase("shape_of_known_dimension", "shape(x)[1] of a float32[?, 3]", x: [nil, 3], expected: """
            constant 3 [id A] int64[]
            """) { x in try applied(ShapeAt(axis: 1), [x]) },
        RewriteRuleCase("shape_from_inputs", "shape(exp(x))[0]", x: [nil], expected: """
            shape[0] [id A] int64[]
             └─ x [id B] float32[?]
            """) { x in try applied(ShapeAt(axis: 0), [exp(x)]) },
        RewriteRuleCase("shape_to_sizes", "shape(x) of a float32[?, 3]", x: [nil, 3], expected: """
            make_vector [id A] int64[2]
             ├─ shape[0] [id B] int64[]
             │   └─ x [id C] float32[?, 3]
             └─ constant 3 [id D] int64[]
            """) { x in try shape(x) },
        RewriteRuleCase("useless_reshape", "exp(reshape(x, [2, 3])) of a float32[2, 3]", x: [2, 3], expected: """
            exp [id A] float32[2, 3]
             └─ x [id B] float32[2, 3]
            """) { x in try exp(reshape(x, [2, 3])) },
        RewriteRuleCase("reshape_of_reshape", "reshape(reshape(x, [2, 3]), [3, 2])", x: [6], expected: """
            reshape{2} [id A] float32[3, 2]
             ├─ x [id B] float32[6]
             ├─ constant 3 [id C] int64[]
             └─ constant 2 [id D] int64[]
            """) { x in try reshape(reshape(x, [2, 3]), [3, 2]) },
        RewriteRuleCase("useless_dimshuffle", "exp(x.dimshuffle(0, 1))", x: [nil, nil], expected: """
            exp [id A] float32[?, ?]
             └─ x [id B] float32[?, ?]
            """) { x in try exp(x.dimshuffle(0, 1)) },
        RewriteRuleCase("dimshuffle_of_dimshuffle", "x.T.dimshuffle(1, x, 0)", x: [nil, nil], expected: """
            dimshuffle{0,x,1} [id A] float32[?, 1, ?]
             └─ x [id B] float32[?, ?]
            """) { x in try x.T.dimshuffle(1, .newAxis, 0) },
        RewriteRuleCase("useless_subtensor", "exp(x[:])", x: [nil], expected: """
            exp [id A] float32[?]
             └─ x [id B] float32[?]
            """) { x in try exp(x[.all]) },
        RewriteRuleCase("element_of_make_vector", "shape(x)[-1] of a float32[?, ?]", x: [nil, nil], expected: """
            shape[1] [id A] int64[]
             └─ x [id B] float32[?, ?]
            """) { x in try shape(x)[-1] },
        RewriteRuleCase("useless_alloc", "exp(alloc(x, [3])) of a float32[3]", x: [3], expected: """
            exp [id A] float32[3]
             └─ x [id B] float32[3]
            """) { x in try exp(alloc(x, shape: [3])) },
        RewriteRuleCase("useless_cast", "exp(cast{float32}(x)) of a float32", x: [nil], expected: """
            exp [id A] float32[?]
             └─ x [id B] float32[?]
            """) { x in try exp(applied(Cast(dtype: .float32), [x])) },
        RewriteRuleCase("switch_of_constant_condition", "exp(switch(true, x, y))", expected: """
            exp [id A] float32[?]
             └─ x [id B] float32[?]
            """) {
            let x = vector("x"), y = vector("y")
            return ([x, y], [try exp(`switch`(constant(1, dtype: .bool), x, y))])
        },
        RewriteRuleCase("ifelse_of_constant_condition", "exp(ifelse(false, x, y))", expected: """
            exp [id A] float32[?]
             └─ y [id B] float32[?]
            """) {
            let x = vector("x"), y = vector("y")
            return ([x, y], [try exp(ifelse(constant(0, dtype: .bool), x, y))])
        },
        RewriteRuleCase("switch_of_equal_branches", "exp(switch(c, x, x))", expected: """
            exp [id A] float32[?]
             └─ x [id B] float32[?]
            """) {
            let c = vector("c", dtype: .bool), x = vector("x")
            return ([c, x], [try exp(`switch`(c, x, x))])
        },
    ]

    static let canonicalizePhase: [RewriteRuleCase] = [
        RewriteRuleCase("add_canonizer", "(x + 2) + 3 → x + 5", x: [], expected: """
            add [id A] float32[]
             ├─ x [id B] float32[]
             └─ constant 5. [id C] float32[]
            """) { x in try (x + 2) + 3 },
        RewriteRuleCase("add_canonizer", "exp((x + y) - x) → exp(y)", expected: """
            exp [id A] float32[]
             └─ y [id B] float32[]
            """) {
            let x = scalar("x"), y = scalar("y")
            return ([x, y], [try exp((x + y) - x)])
        },
        RewriteRuleCase("mul_canonizer", "(2 * x) / 4 → x * 0.5", x: [], expected: """
            mul [id A] float32[]
             ├─ x [id B] float32[]
             └─ constant 0.5 [id C] float32[]
            """) { x in try (2 * x) / 4 },
        RewriteRuleCase("mul_canonizer", "exp(x * y / x) → exp(y)", expected: """
            exp [id A] float32[]
             └─ y [id B] float32[]
            """) {
            let x = scalar("x"), y = scalar("y")
            return ([x, y], [try exp(x * y / x)])
        },
        RewriteRuleCase("neg_neg", "exp(-(-x))", x: [], expected: """
            exp [id A] float32[]
             └─ x [id B] float32[]
            """) { x in try exp(-(-x)) },
        RewriteRuleCase("lift_dimshuffle", "(x + y).dimshuffle(x, 0)", expected: """
            add [id A] float32[1, ?]
             ├─ dimshuffle{x,0} [id B] float32[1, ?]
             │   └─ x [id C] float32[?]
             └─ dimshuffle{x,0} [id D] float32[1, ?]
                 └─ y [id E] float32[?]
            """) {
            let x = vector("x"), y = vector("y")
            return ([x, y], [try (x + y).dimshuffle(.newAxis, 0)])
        },
        RewriteRuleCase("sum_of_scaled", "sum(x * 3) → sum(x) * 3", x: [nil], expected: """
            mul [id A] float32[]
             ├─ sum{axes=[0]} [id B] float32[]
             │   └─ x [id C] float32[?]
             └─ constant 3. [id D] float32[]
            """) { x in try sum(x * 3) },
        RewriteRuleCase("lift_subtensor", "(x + y)[1..<3] of static length 4", expected: """
            add [id A] float32[2]
             ├─ subtensor[1:3] [id B] float32[2]
             │   └─ x [id C] float32[4]
             └─ subtensor[1:3] [id D] float32[2]
                 └─ y [id E] float32[4]
            """) {
            let x = vector("x", length: 4), y = vector("y", length: 4)
            return ([x, y], [try (x + y)[1..<3]])
        },
        RewriteRuleCase("join_slice_gradients", "gradient of z[:, 0..<2] and z[:, 3..<4]", expected: """
            join{axis=1} [id A] float32[?, 4]
             ├─ g [id B] float32[?, 2]
             ├─ alloc [id C] float32[?, 1]
             │   ├─ constant 0. [id D] float32[]
             │   ├─ shape[0] [id E] int64[]
             │   │   └─ z [id F] float32[?, 4]
             │   └─ constant 1 [id G] int64[]
             └─ alloc [id H] float32[?, 1]
                 ├─ constant 1. [id I] float32[1, 1]
                 ├─ slice_length [id J] int64[]
                 │   └─ shape[0] [id E] int64[] ···
                 └─ constant 1 [id G] int64[]
            """) {
            let z = matrix("z", shape: (nil, 4)), g = matrix("g", shape: (nil, 2))
            return ([z, g], [try grad(sum(z[.all, 0..<2] * g) + sum(z[.all, 3..<4]), wrt: [z])[0]])
        },
        RewriteRuleCase("reduce_of_reduce", "sum(sum(x, axis: 1), axis: 0)", x: [nil, nil], expected: """
            sum{axes=[0, 1]} [id A] float32[]
             └─ x [id B] float32[?, ?]
            """) { x in try sum(sum(x, axis: 1), axis: 0) },
    ]

    static let stabilizePhase: [RewriteRuleCase] = [
        RewriteRuleCase("log1p", "log(1 + x)", x: [], expected: """
            log1p [id A] float32[]
             └─ x [id B] float32[]
            """) { x in try log(1 + x) },
        RewriteRuleCase("expm1", "exp(x) - 1", x: [], expected: """
            expm1 [id A] float32[]
             └─ x [id B] float32[]
            """) { x in try exp(x) - 1 },
        RewriteRuleCase("log_sigmoid", "log(sigmoid(x)) → -softplus(-x)", x: [], expected: """
            neg [id A] float32[]
             └─ softplus [id B] float32[]
                 └─ neg [id C] float32[]
                     └─ x [id D] float32[]
            """) { x in try log(sigmoid(x)) },
        RewriteRuleCase("one_minus_sigmoid", "1 - sigmoid(x) → sigmoid(-x)", x: [], expected: """
            sigmoid [id A] float32[]
             └─ neg [id B] float32[]
                 └─ x [id C] float32[]
            """) { x in try 1 - sigmoid(x) },
        RewriteRuleCase("one_minus_sigmoid", "log(1 - sigmoid(x)) → -softplus(x), through log(sigmoid(-x))", x: [], expected: """
            neg [id A] float32[]
             └─ softplus [id B] float32[]
                 └─ x [id C] float32[]
            """) { x in try log(1 - sigmoid(x)) },
        RewriteRuleCase("one_minus_sigmoid", "1 - sigmoid(-x) → sigmoid(x)", x: [], expected: """
            sigmoid [id A] float32[]
             └─ x [id B] float32[]
            """) { x in try 1 - sigmoid(-x) },
        // Dimshuffles not lifted toward the inputs, as `grad` sees the cost (it only stabilizes).
        RewriteRuleCase("one_minus_sigmoid", "float64 ones([2, 3]) - sigmoid(x) of a float32 vector: beneath a cast and a dimshuffle",
                        x: [3], excluding: ["lift_dimshuffle"], expected: """
            alloc [id A] float64[2, 3]
             ├─ cast{float64} [id B] float64[1, 3]
             │   └─ dimshuffle{x,0} [id C] float32[1, 3]
             │       └─ sigmoid [id D] float32[3]
             │           └─ neg [id E] float32[3]
             │               └─ x [id F] float32[3]
             ├─ constant 2 [id G] int64[]
             └─ constant 3 [id H] int64[]
            """) { x in try ones([2, 3], dtype: .float64) - sigmoid(x) },
        RewriteRuleCase("log1p_of_difference", "log(1 - x)", x: [], expected: """
            log1p [id A] float32[]
             └─ neg [id B] float32[]
                 └─ x [id C] float32[]
            """) { x in try log(1 - x) },
        RewriteRuleCase("softplus", "log(1 + exp(x)), through log1p(exp(x))", x: [], expected: """
            softplus [id A] float32[]
             └─ x [id B] float32[]
            """) { x in try log(1 + exp(x)) },
        RewriteRuleCase("softplus", "log1p(exp(cast(x))) of an int32 x", expected: """
            softplus [id A] float32[?]
             └─ cast{float32} [id B] float32[?]
                 └─ x [id C] int32[?]
            """) {
            let x = vector("x", dtype: .int32)
            return ([x], [try log1p(exp(cast(x, to: .float32)))])
        },
        RewriteRuleCase("softplus", "log1p(float64(exp(x))) of a float32 x: beneath a cast", x: [nil], expected: """
            cast{float64} [id A] float64[?]
             └─ softplus [id B] float32[?]
                 └─ x [id C] float32[?]
            """) { x in try log1p(cast(exp(x), to: .float64)) },
        RewriteRuleCase("softplus", "log1p(float32(exp(x))) of a float64 x: beneath a narrowing cast", expected: """
            cast{float32} [id A] float32[?]
             └─ softplus [id B] float64[?]
                 └─ x [id C] float64[?]
            """) {
            let x = vector("x", dtype: .float64)
            return ([x], [try log1p(cast(exp(x), to: .float32))])
        },
        RewriteRuleCase("log1mexp", "log(1 - exp(x)), through log1p(-exp(x))", x: [], expected: """
            log1mexp [id A] float32[]
             └─ x [id B] float32[]
            """) { x in try log(1 - exp(x)) },
        RewriteRuleCase("log1mexp", "log1p(-exp(x)) of a matrix", x: [nil, nil], expected: """
            log1mexp [id A] float32[?, ?]
             └─ x [id B] float32[?, ?]
            """) { x in try log1p(-exp(x)) },
        RewriteRuleCase("log1mexp", "log(ones([1, 1]) - exp(x)) of a vector: beneath a dimshuffle", x: [nil],
                        excluding: ["lift_dimshuffle"], expected: """
            dimshuffle{x,0} [id A] float32[1, ?]
             └─ log1mexp [id B] float32[?]
                 └─ x [id C] float32[?]
            """) { x in try log(ones([1, 1]) - exp(x)) },
        RewriteRuleCase("log_exp", "log(exp(x)) + 1", x: [nil], expected: """
            add [id A] float32[?]
             ├─ x [id B] float32[?]
             └─ constant 1. [id C] float32[1]
            """) { x in try log(exp(x)) + 1 },
        RewriteRuleCase("log_exp", "log(float64(exp(x))) of a float32 x: beneath a cast", x: [nil], expected: """
            cast{float64} [id A] float64[?]
             └─ x [id B] float32[?]
            """) { x in try log(cast(exp(x), to: .float64)) },
        RewriteRuleCase("exp_log", "exp(log(x))", x: [nil], expected: """
            switch [id A] float32[?]
             ├─ ge [id B] bool[?]
             │   ├─ x [id C] float32[?]
             │   └─ constant 0. [id D] float32[1]
             ├─ x [id C] float32[?]
             └─ constant nan [id E] float32[1]
            """) { x in try exp(log(x)) },
        RewriteRuleCase("log_softmax", "log(softmax(x))", x: [nil, nil], expected: """
            log_softmax{axis=1} [id A] float32[?, ?]
             └─ x [id B] float32[?, ?]
            """) { x in try log(softmax(x)) },
        RewriteRuleCase("logsumexp", "log(sum(exp(x)))", x: [nil], expected: """
            logsumexp{axes=[0]} [id A] float32[]
             └─ x [id B] float32[?]
            """) { x in try log(sum(exp(x))) },
        RewriteRuleCase("sigmoid_from_exp", "1 / (1 + exp(-x))", x: [], expected: """
            sigmoid [id A] float32[]
             └─ x [id B] float32[]
            """) { x in try 1 / (1 + exp(-x)) },
        RewriteRuleCase("reciprocal_sigmoid_from_exp", "reciprocal(1 + exp(-x))", x: [], expected: """
            sigmoid [id A] float32[]
             └─ x [id B] float32[]
            """) { x in try reciprocal(1 + exp(-x)) },
        RewriteRuleCase("softmax_from_exp", "exp(x) / sum(exp(x), last axis, keepDims)", x: [nil, nil], expected: """
            softmax{axis=1} [id A] float32[?, ?]
             └─ x [id B] float32[?, ?]
            """) { x in
            let e = try exp(x)
            return try e / sum(e, axis: -1, keepDims: true)
        },
        RewriteRuleCase("crossentropy_softmax", "categoricalCrossentropy(softmax(x), y)", expected: """
            crossentropy_softmax [id A] float32[?]
             ├─ x [id B] float32[?, ?]
             └─ y [id C] int64[?]
            """) {
            let x = matrix("x"), y = vector("y", dtype: .int64)
            return ([x, y], [try categoricalCrossentropy(softmax(x), y)])
        },
        RewriteRuleCase("crossentropy_softmax", "categoricalCrossentropy(softmax(x), y), a static batch of 2", expected: """
            crossentropy_softmax [id A] float32[2]
             ├─ x [id B] float32[2, 4]
             └─ y [id C] int64[2]
            """) {
            let x = matrix("x", shape: (2, 4)), y = vector("y", dtype: .int64, length: 2)
            return ([x, y], [try categoricalCrossentropy(softmax(x), y)])
        },
    ]

    static let specializePhase: [RewriteRuleCase] = [
        RewriteRuleCase("pow_to_sqr", "pow(x, 2)", x: [nil], expected: """
            sqr [id A] float32[?]
             └─ x [id B] float32[?]
            """) { x in try pow(x, 2) },
        RewriteRuleCase("pow_to_sqrt", "pow(x, 0.5)", x: [nil], expected: """
            sqrt [id A] float32[?]
             └─ x [id B] float32[?]
            """) { x in try pow(x, 0.5) },
        RewriteRuleCase("pow_to_reciprocal", "pow(x, -1)", x: [nil], expected: """
            reciprocal [id A] float32[?]
             └─ x [id B] float32[?]
            """) { x in try pow(x, -1) },
        RewriteRuleCase("pow_to_products", "pow(x, 5) → x * sqr(sqr(x))", x: [nil], expected: """
            mul [id A] float32[?]
             ├─ x [id B] float32[?]
             └─ sqr [id C] float32[?]
                 └─ sqr [id D] float32[?]
                     └─ x [id B] float32[?]
            """) { x in try pow(x, 5) },
        RewriteRuleCase("pow_to_products", "pow(x, -3) → reciprocal(x * sqr(x))", x: [nil], expected: """
            reciprocal [id A] float32[?]
             └─ mul [id B] float32[?]
                 ├─ x [id C] float32[?]
                 └─ sqr [id D] float32[?]
                     └─ x [id C] float32[?]
            """) { x in try pow(x, -3) },
        RewriteRuleCase("mul_self_to_sqr", "x * x", x: [nil], expected: """
            sqr [id A] float32[?]
             └─ x [id B] float32[?]
            """) { x in try x * x },
        RewriteRuleCase("div_by_constant", "x / 4 → x * 0.25", x: [nil], expected: """
            mul [id A] float32[?]
             ├─ x [id B] float32[?]
             └─ constant 0.25 [id C] float32[1]
            """) { x in try x / 4 },
        RewriteRuleCase("mul_by_minus_one", "x * -1", x: [nil], expected: """
            neg [id A] float32[?]
             └─ x [id B] float32[?]
            """) { x in try x * -1 },
        RewriteRuleCase("mul_by_zero", "n * 0 for an int32 n", expected: """
            alloc [id A] int32[?]
             ├─ constant 0 [id B] int32[1]
             └─ shape[0] [id C] int64[]
                 └─ n [id D] int32[?]
            """) {
            let n = vector("n", dtype: .int32)
            return ([n], [try n * 0])
        },
        RewriteRuleCase("gemm", "W - 0.1 * dot(x, g)", expected: """
            gemm [id A] float32[?, ?]
             ├─ W [id B] float32[?, ?]
             ├─ constant -0.1 [id C] float32[]
             ├─ x [id D] float32[?, ?]
             ├─ g [id E] float32[?, ?]
             └─ constant 1. [id F] float32[]
            """) {
            let w = matrix("W"), x = matrix("x"), g = matrix("g")
            return ([w, x, g], [try w - 0.1 * dot(x, g)])
        },
        gemvCase(excluding: []),
        gemvCase(excluding: ["dot_to_gemv"]),
        RewriteRuleCase("ger", "A + 0.5 * outer(x, y)", expected: """
            ger [id A] float32[?, ?]
             ├─ A [id B] float32[?, ?]
             ├─ constant 0.5 [id C] float32[]
             ├─ x [id D] float32[?]
             └─ y [id E] float32[?]
            """) {
            let a = matrix("A"), x = vector("x"), y = vector("y")
            return ([a, x, y], [try a + 0.5 * outer(x, y)])
        },
        RewriteRuleCase("conv_to_matrix_products", "conv2d with filters of static size", expected: """
            dimshuffle{1,0,2,3} [id A] float32[?, 4, 4, 4]
             └─ reshape{4} [id B] float32[4, ?, 4, 4]
                 ├─ dot [id C] float32[4, ?]
                 │   ├─ reshape{2} [id D] float32[4, 27]
                 │   │   ├─ w [id E] float32[4, 3, 3, 3]
                 │   │   ├─ constant 4 [id F] int64[]
                 │   │   └─ constant -1 [id G] int64[]
                 │   └─ image_patches{window=[3, 3]} [id H] float32[27, ?]
                 │       └─ x [id I] float32[?, 3, 6, 6]
                 ├─ constant 4 [id F] int64[]
                 ├─ shape[0] [id J] int64[]
                 │   └─ x [id I] float32[?, 3, 6, 6]
                 ├─ constant 4 [id F] int64[]
                 └─ constant 4 [id F] int64[]
            """) {
            let x = tensor("x", shape: [nil, 3, 6, 6]), w = tensor("w", shape: [4, 3, 3, 3])
            return ([x, w], [try conv2d(x, w, flipFilters: false)])
        },
        RewriteRuleCase("reduce_over_runs", "sum over axes 0, 2 and 3", x: [nil, nil, nil, nil], expected: """
            sum{axes=[0]} [id A] float32[?]
             └─ sum{axes=[2, 3]} [id B] float32[?, ?]
                 └─ x [id C] float32[?, ?, ?, ?]
            """) { x in try sum(x, axis: [0, 2, 3]) },
        RewriteRuleCase("dot_to_gemv", "dot(A, x)", expected: """
            gemv{no_y} [id A] float32[?]
             ├─ constant 1. [id B] float32[]
             ├─ A [id C] float32[?, ?]
             └─ x [id D] float32[?]
            """) {
            let a = matrix("A"), x = vector("x")
            return ([a, x], [try dot(a, x)])
        },
    ]

    /// `y + dot(A, x)` is one gemv, whether or not `dot_to_gemv` may run.
    static func gemvCase(excluding: Set<String>) -> RewriteRuleCase {
        RewriteRuleCase("gemv", "y + dot(A, x), excluding \(excluding.sorted())", excluding: excluding, expected: """
            gemv [id A] float32[?]
             ├─ y [id B] float32[?]
             ├─ constant 1. [id C] float32[]
             ├─ A [id D] float32[?, ?]
             ├─ x [id E] float32[?]
             └─ constant 1. [id C] float32[]
            """) {
            let y = vector("y"), a = matrix("A"), x = vector("x")
            return ([y, a, x], [try y + dot(a, x)])
        }
    }

    static let wholeGraph: [RewriteRuleCase] = [
        RewriteRuleCase("merge", "exp(x) + exp(x), built twice", x: [nil], optimization: .fastCompile, expected: """
            add [id A] float32[?]
             ├─ exp [id B] float32[?]
             │   └─ x [id C] float32[?]
             └─ exp [id B] float32[?] ···
            """) { x in try exp(x) + exp(x) },
        RewriteRuleCase("constant_folding", "x + 2 * 3 of constants", x: [nil], optimization: .fastCompile, expected: """
            add [id A] float32[?]
             ├─ x [id B] float32[?]
             └─ constant 6. [id C] float32[1]
            """) { x in try x + constant(2.0) * constant(3.0) },
    ]

    static let all = inlinePhase + shapePhase + canonicalizePhase + stabilizePhase + specializePhase + wholeGraph + matrixAlgebra + sparse
}

@Suite("Rewrite rules")
struct RewriteRuleTests {
    @Test(arguments: RewriteRuleCases.inlinePhase)
    func inlineRule(_ rule: RewriteRuleCase) throws { try rule.check() }

    @Test(arguments: RewriteRuleCases.shapePhase)
    func shapeRule(_ rule: RewriteRuleCase) throws { try rule.check() }

    @Test(arguments: RewriteRuleCases.canonicalizePhase)
    func canonicalizeRule(_ rule: RewriteRuleCase) throws { try rule.check() }

    @Test(arguments: RewriteRuleCases.stabilizePhase)
    func stabilizeRule(_ rule: RewriteRuleCase) throws { try rule.check() }

    @Test(arguments: RewriteRuleCases.specializePhase)
    func specializeRule(_ rule: RewriteRuleCase) throws { try rule.check() }

    @Test(arguments: RewriteRuleCases.wholeGraph)
    func wholeGraphRule(_ rule: RewriteRuleCase) throws { try rule.check() }

    @Test func everyRuleOfThePipelineHasACase() {
        let rules = inlineRules + shapeRules + canonicalizeRules + stabilizeRules + specializeRules + [constantFolding]
        let names = Set(rules.map(\.name) + [mergeEquivalentNodes.name])
        #expect(names.subtracting(RewriteRuleCases.all.map(\.rule)).isEmpty)
    }
}

// MARK: - Rules at the edges

/// A graph of two float32 scalars `x` and `y` (either may go unused), named for test
/// listings.
struct NamedGraph: Sendable, CustomTestStringConvertible {
    let name: String
    /// Whether the rule under test should fire on it.
    let fires: Bool
    let build: @Sendable (Variable, Variable) throws -> Variable
    var testDescription: String { name }

    init(_ name: String, fires: Bool = true, _ build: @escaping @Sendable (Variable, Variable) throws -> Variable) {
        self.name = name
        self.fires = fires
        self.build = build
    }

    /// The graph, with inputs `x` and `y`.
    func built() throws -> RuleGraph {
        let x = scalar("x"), y = scalar("y")
        return ([x, y], [try build(x, y)])
    }
}

/// Graphs near the limits of a rule's conditions, where a rule must decline (not fail) or
/// keep the graph's meaning.
@Suite("Rewrite rules at the edges")
struct RewriteRuleEdgeTests {
    /// Pattern rules whose pattern has a constant operand: here the constant (ones of shape
    /// [3]) is what gives the result its shape, and the variable is broadcast. The rule must
    /// decline or broadcast its result, not fail.
    @Test(arguments: [
        NamedGraph("log(ones([3]) + x)") { x, _ in try log(ones([3]) + x) },
        NamedGraph("exp(x) - ones([3])") { x, _ in try exp(x) - ones([3]) },
        NamedGraph("log(ones([3]) - sigmoid(x))") { x, _ in try log(ones([3]) - sigmoid(x)) },
        NamedGraph("ones([3]) / (1 + exp(-x))") { x, _ in try ones([3]) / (1 + exp(-x)) },
        NamedGraph("reciprocal(ones([3]) + exp(-x))") { x, _ in try reciprocal(ones([3]) + exp(-x)) },
        NamedGraph("ones([3]) - sigmoid(x)") { x, _ in try ones([3]) - sigmoid(x) },
        NamedGraph("int8 ones([2, 1]) - sigmoid(x)") { x, _ in try ones([2, 1], dtype: .int8) - sigmoid(x) },
        NamedGraph("log(ones([3]) - exp(x))") { x, _ in try log(ones([3]) - exp(x)) },
        NamedGraph("log(float64 ones([2, 3]) + exp(x))") { x, _ in try log(ones([2, 3], dtype: .float64) + exp(x)) },
    ])
    func patternRulesHandleAConstantThatGivesTheShape(_ graph: NamedGraph) throws {
        let built = try graph.built()
        let f = try compile(built)
        expectClean(f.rewriteReport)
        try expectSameValues(f, as: built)
    }

    /// A pattern may look beneath casts and broadcasts only where the rule can give its
    /// replacement the same ones: beneath elementwise ops whose other operands are constants.
    @Test func patternsLookBeneathCastsAndBroadcastsOnlyBelowElementwiseOpsOfConstants() {
        let exp = Pattern.underCastsAndBroadcasts(.op(Exp.self, "x"))
        #expect(Pattern.op(Log.self, exp).relaysOutSoundly)
        #expect(Pattern.op(LogOnePlus.self, .op(Negate.self, exp)).relaysOutSoundly)
        #expect(Pattern.op(Subtract.self, 1, exp).relaysOutSoundly)
        #expect(!Pattern.op(Subtract.self, "y", exp).relaysOutSoundly, "a variable operand would need the layout too")
        #expect(!Pattern.op(Add.self, exp, exp).relaysOutSoundly, "two chains of layout")
        #expect(!Pattern.op(Reduce.self, exp).relaysOutSoundly, "a reduction does not commute with a dimshuffle")
        #expect(!Pattern.op(Log.self, .underCastsAndBroadcasts(.op(Reduce.self, exp))).relaysOutSoundly)
        #expect(Pattern.op(Log.self, .underCastsAndBroadcasts(.op(Softmax.self, "x"))).relaysOutSoundly)
    }

    /// One site where `log1p` cannot apply must not stop it everywhere else (a rule that
    /// fails is skipped for the rest of the compilation).
    @Test func oneAwkwardSiteDoesNotDisableARuleForTheWholeGraph() throws {
        let s = scalar("s"), t = vector("t")
        let built: RuleGraph = ([s, t], [try log(1 + t), try log(ones([3]) + s)])
        let f = try compile(built)
        #expect(f.graph.outputs[0].owner?.op is LogOnePlus, "the optimized graph is\n\(debugprint(f))")
        expectClean(f.rewriteReport)
        try expectSameValues(f, as: built)
    }

    /// A batch of one row declared statically: the fused op's output type says 1 row where
    /// the indexing it replaces says "unknown".
    @Test func crossentropySoftmaxWithAStaticBatchOfOne() throws {
        let x = matrix("x", shape: (1, 4)), y = vector("y", dtype: .int64)
        let built: RuleGraph = ([x, y], [try categoricalCrossentropy(softmax(x), y)])
        let f = try compile(built)
        expectClean(f.rewriteReport)
        try expectSameValues(f, as: built, arguments: [NDArray([[0.1, 0.2, 0.3, 0.4]] as [[Float]]), NDArray([2] as [Int64])])
    }

    /// `sum(x * inf)` is NaN when `x` holds a 0 and a positive number; `sum(x) * inf` is inf.
    @Test func sumOfScaledKeepsTheValueForAnInfiniteScale() throws {
        let x = vector("x")
        let built: RuleGraph = ([x], [try sum(x * Double.infinity)])
        let f = try compile(built)
        expectClean(f.rewriteReport)
        try expectSameValues(f, as: built, arguments: [NDArray([0, 1] as [Float])])
    }

    /// `(x + y)[0]` fails when `x` and `y` differ in length; selecting first must not hide it.
    @Test func liftSubtensorKeepsTheShapeCheck() throws {
        let x = vector("x"), y = vector("y")
        let built: RuleGraph = ([x, y], [try (x + y)[0]])
        let arguments = [NDArray([0, 1, 2] as [Float]), NDArray([0, 1, 2, 3] as [Float])]
        let reference = try compile(built, options: unoptimizedOptions)
        #expect(throws: TheanoError.self) { try reference(arguments) }
        let f = try compile(built)
        #expect(throws: TheanoError.self, "the optimized graph is\n\(debugprint(f))") { try f(arguments) }
    }

    /// Integer products wrap around; the canonizer's folded constant must wrap the same way.
    @Test func canonizersFoldIntegerConstantsAsTheGraphComputesThem() throws {
        let n = vector("n", dtype: .int32)
        let built: RuleGraph = ([n], [try (n * 65536) * 65536])
        let f = try compile(built)
        expectClean(f.rewriteReport)
        try expectSameValues(f, as: built, arguments: [NDArray([1, 2] as [Int32])])
    }
}

// MARK: - The engine

/// Counts the calls of a rule. The optimizer runs rules one at a time on the compiling
/// thread, so plain storage is enough.
private final class CallCounter: @unchecked Sendable {
    private(set) var count = 0
    func increment() { count += 1 }
}

/// How `CompileOptions.excluding` is tested: what is left out, and the graph left.
struct Exclusion: Sendable, CustomTestStringConvertible {
    let excluded: Set<String>
    let firing: [String]
    let silent: [String]
    let expected: String
    var testDescription: String { "excluding \(excluded.sorted())" }
}

/// The nodes computing `variable`, in no particular order.
private func nodes(computing variable: Variable) -> [Apply] {
    var seen = Set<ObjectIdentifier>(), stack = [variable], found: [Apply] = []
    while let next = stack.popLast() {
        guard let node = next.owner, seen.insert(ObjectIdentifier(node)).inserted else { continue }
        found.append(node)
        stack.append(contentsOf: node.inputs)
    }
    return found
}

/// `fileID:line` as source locations print.
private func sourceLine(_ line: Int, fileID: String = #fileID) -> String { "\(fileID):\(line)" }

@Suite("Rewrite engine")
struct RewriteRuleEngineTests {
    @Test func aThrowingRuleIsSkippedAndReportedOnce() throws {
        let calls = CallCounter()
        let failing = Rewrite.node("always_throws", on: [Exp.self]) { _, _ in
            calls.increment()
            throw OpError("deliberate failure")
        }
        let x = scalar("x"), y = scalar("y")
        let graph: RuleGraph = ([x, y], [try exp(x) + exp(y), try log(1 + x)])
        let f = try compile(graph, options: tracedOptions(additionalRules: [(.canonicalize, failing)]))
        let report = f.rewriteReport
        #expect(calls.count == 1, "the rule is skipped after it fails")
        #expect(report.failures == ["always_throws": "deliberate failure"])
        #expect(report.counts["always_throws"] == nil)
        #expect(report.counts["log1p"] == 1, "the other rules still run")
        #expect(report.violations.isEmpty && report.unfinishedPhases.isEmpty)
        let mentions = report.description.split(separator: "\n").filter { $0.contains("always_throws") }
        #expect(mentions == ["rule always_throws failed and was skipped: deliberate failure"])
        #expect(debugprint(f) == """
            add [id A] float32[]
             ├─ exp [id B] float32[]
             │   └─ x [id C] float32[]
             └─ exp [id D] float32[]
                 └─ y [id E] float32[]
            log1p [id F] float32[]
             └─ x [id C] float32[]
            """)
        try expectSameValues(f, as: graph)
    }

    static let exclusions = [
        Exclusion(excluded: ["log1p"], firing: ["log_sigmoid"], silent: ["log1p"], expected: """
            log [id A] float32[]
             └─ add [id B] float32[]
                 ├─ constant 1. [id C] float32[]
                 └─ x [id D] float32[]
            neg [id E] float32[]
             └─ softplus [id F] float32[]
                 └─ neg [id G] float32[]
                     └─ x [id D] float32[]
            """),
        Exclusion(excluded: ["stabilize"], firing: [], silent: ["log1p", "log_sigmoid"], expected: """
            log [id A] float32[]
             └─ add [id B] float32[]
                 ├─ constant 1. [id C] float32[]
                 └─ x [id D] float32[]
            log [id E] float32[]
             └─ sigmoid [id F] float32[]
                 └─ x [id D] float32[]
            """),
    ]

    @Test(arguments: exclusions)
    func excludingStopsARuleOrAPhase(_ exclusion: Exclusion) throws {
        let x = scalar("x")
        let graph: RuleGraph = ([x], [try log(1 + x), try log(sigmoid(x))])
        let f = try compile(graph, options: tracedOptions(excluding: exclusion.excluded))
        let report = f.rewriteReport
        for rule in exclusion.firing { #expect(report.counts[rule] == 1, "\(rule) still fires") }
        for rule in exclusion.silent { #expect(report.counts[rule] == nil, "\(rule) is left out") }
        #expect(report.events.allSatisfy { !exclusion.excluded.contains($0.rule) && !exclusion.excluded.contains($0.phase) })
        expectClean(report)
        let printed = debugprint(f)
        #expect(printed == exclusion.expected, "the optimized graph is\n\(printed)")
        try expectSameValues(f, as: graph)
    }

    @Test func noOptimizationLeavesTheGraphAsBuilt() throws {
        let x = vector("x")
        let y = try (x + 2) + 3
        let f = try function(inputs: [x], outputs: [y], options: tracedOptions(optimization: .none))
        #expect(f.rewriteReport.counts.isEmpty && f.rewriteReport.events.isEmpty)
        #expect(debugprint(f) == debugprint([y]))
        #expect(debugprint(f) == """
            add [id A] float32[?]
             ├─ add [id B] float32[?]
             │   ├─ x [id C] float32[?]
             │   └─ dimshuffle{x} [id D] float32[1]
             │       └─ constant 2. [id E] float32[]
             └─ dimshuffle{x} [id F] float32[1]
                 └─ constant 3. [id G] float32[]
            """)
    }

    @Test func traceNamesTheRuleTheOpAndTheUsersLine() throws {
        let x = scalar("x")
        let builderLine = #line + 1
        let viaBuilder = try log(1 + x)
        let operatorLine = #line + 1
        let viaOperator = try exp(x) - 1
        let f = try function(inputs: [x], outputs: [viaBuilder, viaOperator], options: tracedOptions())
        let events = f.rewriteReport.events
        let log1pEvent = try #require(events.first { $0.rule == "log1p" })
        #expect((log1pEvent.phase, log1pEvent.op, log1pEvent.location.description) == ("stabilize", "log", sourceLine(builderLine)))
        #expect(log1pEvent.description == "stabilize: log1p rewrote log (built at \(sourceLine(builderLine)))")
        let expm1Event = try #require(events.first { $0.rule == "expm1" })
        #expect(expm1Event.description == "stabilize: expm1 rewrote sub (built at \(sourceLine(operatorLine)))")
        #expect(f.rewriteReport.description.contains(log1pEvent.description))

        var quiet = tracedOptions()
        quiet.trace = false
        let untraced = try function(inputs: [x], outputs: [viaBuilder, viaOperator], options: quiet)
        #expect(untraced.rewriteReport.events.isEmpty)
        #expect(untraced.rewriteReport.counts == f.rewriteReport.counts)
    }

    @Test func nodesBuiltByARuleKeepTheReplacedNodesLocation() throws {
        let x = vector("x"), y = vector("y"), z = vector("z")
        let builderLine = #line + 1
        let stable = try log(1 + x)
        let operatorLine = #line + 1
        let square = try y * y
        let powerLine = #line + 1
        let power = try pow(z, 5)
        let f = try function(inputs: [x, y, z], outputs: [stable, square, power], options: tracedOptions())
        let rewritten = f.graph.outputs.map { nodes(computing: $0) }
        #expect(rewritten.map { $0.map(\.op.description).sorted() } == [["log1p"], ["sqr"], ["mul", "sqr", "sqr"]])
        for (computed, line) in zip(rewritten, [builderLine, operatorLine, powerLine]) {
            #expect(computed.allSatisfy { $0.location.description == sourceLine(line) }, "\(computed.map(\.location))")
        }
    }

    static let freshCopy = Rewrite.node("fresh_copy", on: [Exp.self]) { node, _ in [try exp(node.inputs[0])] }
    static let plusZero = Rewrite.node("plus_zero", on: [Exp.self]) { node, _ in [try exp(node.inputs[0]) + 0] }

    @Test(arguments: [freshCopy, plusZero])
    func aRuleThatNeverSettlesStopsAtThePassBound(_ rule: Rewrite) throws {
        let x = scalar("x")
        let graph: RuleGraph = ([x], [try exp(x)])
        let f = try compile(graph, options: tracedOptions(additionalRules: [(.canonicalize, rule)]))
        let report = f.rewriteReport
        #expect(report.unfinishedPhases == ["canonicalize"])
        // One firing per pass, for each of the phase's 20 passes.
        #expect(report.counts[rule.name] == 20)
        #expect(report.description.contains("phase canonicalize stopped at its pass bound before a fixpoint"))
        #expect(report.violations.isEmpty && report.failures.isEmpty)
        #expect(debugprint(f) == """
            exp [id A] float32[]
             └─ x [id B] float32[]
            """)
        try expectSameValues(f, as: graph)
    }

    @Test(arguments: [
        NamedGraph("log(1 + x)") { x, _ in try log(1 + x) },
        NamedGraph("log(x + 1)") { x, _ in try log(x + 1) },
    ])
    func patternsMatchCommutativeOperandsInEitherOrder(_ graph: NamedGraph) throws {
        let built = try graph.built()
        let f = try compile(built)
        #expect(f.rewriteReport.counts["log1p"] == 1)
        #expect(debugprint(f) == """
            log1p [id A] float32[]
             └─ x [id B] float32[]
            """)
        try expectSameValues(f, as: built)
    }

    /// `a * (a + 1) → sqr(a) + a`: the placeholder `a` appears twice.
    static let squarePlusSelf = Rewrite.pattern("square_plus_self", .op(Multiply.self, "a", .op(Add.self, "a", 1))) { match in
        try sqr(match["a"]) + match["a"]
    }

    @Test(arguments: [
        NamedGraph("x * (x + 1)") { x, _ in try x * (x + 1) },
        NamedGraph("(1 + x) * x") { x, _ in try (1 + x) * x },
        NamedGraph("(x + 1) * x") { x, _ in try (x + 1) * x },
        NamedGraph("x * (y + 1)", fires: false) { x, y in try x * (y + 1) },
        NamedGraph("x * (x + 2)", fires: false) { x, _ in try x * (x + 2) },
    ])
    func repeatedPlaceholdersMatchOneVariable(_ graph: NamedGraph) throws {
        let built = try graph.built()
        let f = try compile(built, options: tracedOptions(additionalRules: [(.canonicalize, Self.squarePlusSelf)]))
        #expect(f.rewriteReport.counts["square_plus_self"] == (graph.fires ? 1 : nil))
        expectClean(f.rewriteReport)
        try expectSameValues(f, as: built)
    }

    @Test func mulSelfToSqrNeedsTheSameVariableTwice() throws {
        let x = vector("x"), y = vector("y")
        let f = try function(inputs: [x, y], outputs: [x * y], options: tracedOptions())
        #expect(f.rewriteReport.counts["mul_self_to_sqr"] == nil)
        #expect(debugprint(f) == """
            mul [id A] float32[?]
             ├─ x [id B] float32[?]
             └─ y [id C] float32[?]
            """)
    }
}

/// The gradient of a matrix read through column slices (an LSTM's gates) is one join of the
/// slices' gradients, zeros filling the columns no slice reads, not a sum of increments of
/// zeros; values as without the rule.
@Test func sliceGradientsBecomeOneJoin() throws {
    let z = matrix("z", dtype: .float64, shape: (nil, 10)), g = matrix("g", dtype: .float64, shape: (nil, 10))
    let gates = try sigmoid(z[.all, 0..<6]) * g[.all, 0..<6], candidate = try tanh(z[.all, 6..<8])
    let cost = try sum(gates) + sum(candidate * candidate)
    let gradient = try grad(cost, wrt: [z])[0]
    let joined = try function(inputs: [z, g], outputs: [gradient])
    let summed = try function(inputs: [z, g], outputs: [gradient], options: CompileOptions(excluding: ["join_slice_gradients"]))
    #expect(joined.rewriteReport.counts["join_slice_gradients"] ?? 0 >= 1)
    #expect(joined.graph.nodes.contains { $0.op is Join })
    #expect(!joined.graph.nodes.contains { $0.op is IncSubtensor })
    var random = RandomState(seed: 80)
    let arguments = [NDArray.uniform([3, 10], low: -1, high: 1, dtype: .float64, using: &random),
                     NDArray.uniform([3, 10], low: -1, high: 1, dtype: .float64, using: &random)]
    let (a, b) = (try joined(arguments)[0], try summed(arguments)[0])
    #expect(a.isClose(to: b, rtol: 1e-14, atol: 0))
    #expect(a.elements(as: Double.self)[8...9].allSatisfy { $0 == 0 }, "columns no slice reads get zeros")
    // One slice alone: zeros, the slice's gradient, zeros.
    let single = try function(inputs: [z], outputs: [try grad(sum(z[.all, 2..<5] * 3), wrt: [z])[0]])
    #expect(!single.graph.nodes.contains { $0.op is IncSubtensor })
    let row = try single([arguments[0]])[0].elements(as: Double.self)[0..<10]
    #expect(Array(row) == [0, 0, 3, 3, 3, 0, 0, 0, 0, 0])
}
