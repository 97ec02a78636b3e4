import Testing
import Theano

// Checks the value of every op against NumPy: each case of Fixtures/*.json is built as a
// graph, compiled with `function(inputs:outputs:)`, run, and its dtype, shape and elements
// compared with what NumPy computed (see Fixtures/generate.py).

@Suite("Op values against NumPy")
struct OpValueTests {
    @Test(arguments: try Fixtures.cases(in: "elementwise"))
    func elementwise(_ fixture: FixtureCase) throws { try expectNumPyResult(fixture) }

    @Test(arguments: try Fixtures.cases(in: "reductions"))
    func reductions(_ fixture: FixtureCase) throws { try expectNumPyResult(fixture) }

    @Test(arguments: try Fixtures.cases(in: "shape"))
    func shape(_ fixture: FixtureCase) throws { try expectNumPyResult(fixture) }

    @Test(arguments: try Fixtures.cases(in: "indexing"))
    func indexing(_ fixture: FixtureCase) throws { try expectNumPyResult(fixture) }

    @Test(arguments: try Fixtures.cases(in: "linalg"))
    func linearAlgebra(_ fixture: FixtureCase) throws { try expectNumPyResult(fixture) }

    @Test(arguments: try Fixtures.cases(in: "nnet"))
    func neuralNetwork(_ fixture: FixtureCase) throws { try expectNumPyResult(fixture) }

    @Test(arguments: try Fixtures.cases(in: "numpy_semantics"))
    func numpySemantics(_ fixture: FixtureCase) throws { try expectNumPyResult(fixture) }

    /// The NumPy-semantics cases compiled by the native backend too, with contiguous and
    /// transposed inputs: its C expressions must agree with NumPy as the reference does.
    @Test(arguments: try Fixtures.cases(in: "numpy_semantics").map { VariantCase(fixture: $0, inputs: .contiguous) }
          + VariantCase.cases(of: ["numpy_semantics"], passedAs: [.transposedView]))
    func numpySemanticsNative(_ variant: VariantCase) throws {
        try expectNumPyResult(variant.fixture, inputs: variant.inputs, options: CompileOptions(linker: Scratch.linker()))
    }

    @Test(arguments: try Fixtures.cases(in: "stabilize"))
    func stabilizedForms(_ fixture: FixtureCase) throws { try expectNumPyResult(fixture) }

    /// The same cases with inputs that are not laid out contiguously: the result must not
    /// depend on strides.
    @Test(arguments: try VariantCase.cases(of: allFixtureFiles, passedAs: [.transposedView, .everyOtherElement]))
    func nonContiguousInputs(_ variant: VariantCase) throws { try expectNumPyResult(variant.fixture, inputs: variant.inputs) }

    /// The same cases with every input dimension known when the graph is built, so that the
    /// ops' static type inference takes part (the executor checks results against it).
    @Test(arguments: try VariantCase.cases(of: allFixtureFiles, passedAs: [.staticShapes]))
    func staticShapes(_ variant: VariantCase) throws { try expectNumPyResult(variant.fixture, inputs: variant.inputs) }

    /// The fixture files are there and their case names are unique (so a failure names
    /// exactly one case).
    @Test func fixtureCaseNamesAreUnique() throws {
        for stem in allFixtureFiles {
            let names = try Fixtures.cases(in: stem).map(\.name)
            #expect(!names.isEmpty, "Fixtures/\(stem).json has no cases")
            #expect(Set(names).count == names.count, "Fixtures/\(stem).json repeats case names")
        }
    }
}

/// The names of the fixture files, without their `.json` extension.
private let allFixtureFiles = ["elementwise", "reductions", "shape", "indexing", "linalg", "nnet", "numpy_semantics", "stabilize"]

// MARK: - Running a case

/// Builds, compiles (with `options`) and runs `fixture` with its inputs declared and passed
/// as `variant` says, and records a failure unless the result has NumPy's dtype, shape and
/// values.
private func expectNumPyResult(_ fixture: FixtureCase, inputs variant: InputVariant = .contiguous,
                               options: CompileOptions = .default,
                               sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
    let variables = fixture.inputs.enumerated().map { position, input in
        tensor("input\(position)", dtype: input.dtype, shape: variant.staticShape(of: input))
    }
    let operands = try zip(variables, fixture.inputs).map { variable, input in try variant.operand(variable, for: input) }
    let output = try FixtureGraph.build(fixture, operands: operands)
    let compiled = try function(inputs: variables, outputs: [output], name: fixture.name, options: options)
    #expect(compiled.linkWarnings.isEmpty, "\(fixture.name): \(compiled.linkWarnings)", sourceLocation: sourceLocation)
    let actual = try compiled(fixture.inputs.map(variant.argument))[0]
    expectClose(actual, to: fixture, sourceLocation: sourceLocation)
}

/// Records a failure naming `fixture` unless `actual` has the expected dtype and shape and
/// every element matches (see ``mismatchedElements(_:_:tolerance:)``).
private func expectClose(_ actual: NDArray, to fixture: FixtureCase, sourceLocation: Testing.SourceLocation) {
    let expected = fixture.expected.ndarray
    guard actual.dtype == expected.dtype, actual.shape == expected.shape else {
        Issue.record("""
            \(fixture.name): expected \(expected.dtype) of shape \(expected.shape), got \(actual.dtype) of shape \(actual.shape)
            actual: \(actual)
            expected: \(expected)
            """, sourceLocation: sourceLocation)
        return
    }
    let mismatches = mismatchedElements(actual, expected, tolerance: Tolerance(for: fixture))
    #expect(mismatches.isEmpty, """
        \(fixture.name): \(mismatches.count) of \(expected.count) elements differ: \(mismatches.prefix(8).joined(separator: "; "))
        actual: \(actual)
        expected: \(expected)
        """, sourceLocation: sourceLocation)
}

/// The elements of `actual` that differ from `expected` (same dtype and shape), described
/// as `[flat index] expected e, got a`: floats must be within `tolerance` (NaN matching
/// only NaN), integers and booleans exactly equal.
private func mismatchedElements(_ actual: NDArray, _ expected: NDArray, tolerance: Tolerance) -> [String] {
    switch expected.dtype {
    case .float32, .float64:
        return mismatches(actual.elements(as: Double.self), expected.elements(as: Double.self)) { got, wanted in
            NDArray(scalar: got).isClose(to: NDArray(scalar: wanted), rtol: tolerance.rtol, atol: tolerance.atol, equalNaN: true)
        }
    case .bool:
        return mismatches(actual.elements(as: Bool.self), expected.elements(as: Bool.self), agree: ==)
    default:
        return mismatches(actual.elements(as: Int64.self), expected.elements(as: Int64.self), agree: ==)
    }
}

/// `[index] expected e, got a` for each position where `agree` says the elements differ.
private func mismatches<T>(_ actual: [T], _ expected: [T], agree: (T, T) -> Bool) -> [String] {
    zip(actual, expected).enumerated().compactMap { index, pair in
        agree(pair.0, pair.1) ? nil : "[\(index)] expected \(pair.1), got \(pair.0)"
    }
}

/// How close a float result must be to NumPy's: `|actual - expected| <= atol + rtol * |expected|`.
///
/// The references are correctly rounded (computed in float64, then rounded), so the
/// tolerance only has to absorb the few ulps a libm function or a chain of rounded steps
/// may lose. On glibc every case stays within a tenth of these; the rest is headroom for
/// other math libraries.
private struct Tolerance {
    let rtol: Double
    let atol: Double

    /// The tolerance of the least precise float among the case's inputs and output: a
    /// float64 result computed from float32 inputs is only as accurate as float32.
    init(for fixture: FixtureCase) {
        let dtypes = fixture.inputs.map(\.dtype) + [fixture.expected.dtype]
        (rtol, atol) = dtypes.contains(.float32) ? (1e-5, 1e-6) : (1e-12, 1e-12)
    }
}

// MARK: - Input variants

/// How a case's inputs are declared and reach the op: as the contiguous arrays the fixture
/// spells, or as non-contiguous views holding the same values.
enum InputVariant: String, Sendable {
    /// Contiguous row-major arrays; the variables know only which dimensions have size 1.
    case contiguous
    /// Contiguous row-major arrays; the variables declare the size of every dimension.
    case staticShapes
    /// Inputs of two or more dimensions are passed as transposed views of transposed
    /// copies: the same values with column-major strides.
    case transposedView
    /// Each input is passed inside an array twice as large along every dimension longer
    /// than 1, with NaN (or -99, or `true`) between the values; the graph takes every other
    /// element with a strided slice before applying the op.
    case everyOtherElement

    /// The static shape of the input variable: every size for ``staticShapes``, else
    /// dimensions of size 1 are broadcastable (static 1) and the others known at run time.
    func staticShape(of input: FixtureArray) -> [Int?] {
        switch self {
        case .staticShapes: input.shape
        case .everyOtherElement: input.interleavedShape.map { $0 == 1 ? 1 : nil }
        case .contiguous, .transposedView: input.shape.map { $0 == 1 ? 1 : nil }
        }
    }

    /// What the op receives for `variable`: the variable itself, or its strided slice.
    func operand(_ variable: Variable, for input: FixtureArray) throws -> Variable {
        guard self == .everyOtherElement, !input.shape.isEmpty else { return variable }
        return try subscripted(variable, input.shape.map { $0 > 1 ? .stride(by: 2) : .all })
    }

    /// The array passed to the compiled function for `input`.
    func argument(_ input: FixtureArray) -> NDArray {
        switch self {
        case .contiguous, .staticShapes: input.ndarray
        case .transposedView: input.shape.count >= 2 ? input.ndarray.transposed().contiguousCopy().transposed() : input.ndarray
        case .everyOtherElement: input.interleavedWithFiller()
        }
    }

    /// Whether the variant changes anything for `fixture`'s inputs.
    func alters(_ fixture: FixtureCase) -> Bool {
        switch self {
        case .contiguous: false
        case .staticShapes: fixture.inputs.contains { $0.shape.contains { $0 != 1 } }
        case .transposedView: fixture.inputs.contains { $0.shape.filter { $0 > 1 }.count >= 2 }
        case .everyOtherElement: fixture.inputs.contains { $0.shape.contains { $0 > 1 } }
        }
    }
}

/// A fixture case run with one variant of its inputs.
struct VariantCase: Sendable, CustomTestStringConvertible {
    let fixture: FixtureCase
    let inputs: InputVariant

    var testDescription: String { "\(fixture.name) [\(inputs.rawValue)]" }

    /// Every case of the fixture files `stems` with each of `variants` that alters it.
    static func cases(of stems: [String], passedAs variants: [InputVariant]) throws -> [VariantCase] {
        try stems.flatMap { try Fixtures.cases(in: $0) }.flatMap { fixture in
            variants.filter { $0.alters(fixture) }.map { VariantCase(fixture: fixture, inputs: $0) }
        }
    }
}

// MARK: - Graphs

/// The symbolic graph each fixture op name stands for, built with the public API.
private enum FixtureGraph {
    typealias Unary = @Sendable (Variable) throws -> Variable
    typealias Binary = @Sendable (Variable, Variable) throws -> Variable
    typealias Ternary = @Sendable (Variable, Variable, Variable) throws -> Variable
    typealias Reduction = @Sendable (Variable, Axes, _ keepDims: Bool) throws -> Variable
    typealias Dispersion = @Sendable (Variable, Axes, _ keepDims: Bool, _ ddof: Int) throws -> Variable

    /// Ops of one tensor without parameters.
    static let unary: [String: Unary] = [
        "neg": { try -$0 }, "abs": { try Theano.abs($0) }, "sign": { try sign($0) }, "sqr": { try sqr($0) },
        "exp": { try exp($0) }, "expm1": { try expm1($0) }, "log": { try log($0) }, "log1p": { try log1p($0) },
        "log2": { try log2($0) }, "log10": { try log10($0) }, "sqrt": { try Theano.sqrt($0) },
        "reciprocal": { try reciprocal($0) }, "sin": { try sin($0) }, "cos": { try cos($0) }, "tan": { try tan($0) },
        "tanh": { try tanh($0) }, "sinh": { try sinh($0) }, "cosh": { try cosh($0) }, "arcsin": { try arcsin($0) },
        "arccos": { try arccos($0) }, "arctan": { try arctan($0) }, "erf": { try erf($0) }, "erfc": { try erfc($0) },
        "sigmoid": { try sigmoid($0) }, "softplus": { try softplus($0) }, "floor": { try Theano.floor($0) },
        "ceil": { try Theano.ceil($0) }, "round": { try Theano.round($0) }, "not": { try not($0) },
        "isnan": { try isnan($0) }, "isinf": { try isinf($0) }, "relu": { try relu($0) }, "~": { try ~$0 },
        "round_half_away_from_zero": { try Theano.round($0, mode: .halfAwayFromZero) },
        "softmax": { try softmax($0) }, "log_softmax": { try logSoftmax($0) }, "T": { try $0.T },
        "shape": { try Theano.shape($0) }, "size": { try size($0) }, "arange_symbolic": { try arange($0) },
        "zeros_like": { try zerosLike($0) }, "ones_like": { try onesLike($0) }, "log1mexp": { try log1mexp($0) },
    ]

    /// Formulas the stabilize phase rewrites, as written naively: the compiled function must
    /// give their true values where NumPy's naive ones overflow or cancel.
    static let stabilized: [String: Unary] = [
        "log_one_minus_exp": { try log(1 - exp($0)) }, "log1p_neg_exp": { try log1p(-exp($0)) },
        "log_one_plus_exp": { try log(1 + exp($0)) }, "log1p_exp": { try log1p(exp($0)) },
        "one_minus_sigmoid": { try 1 - sigmoid($0) }, "log_exp": { try log(exp($0)) }, "exp_log": { try exp(log($0)) },
    ]

    /// Ops of two tensors without parameters.
    static let binary: [String: Binary] = [
        "add": { try $0 + $1 }, "sub": { try $0 - $1 }, "mul": { try $0 * $1 }, "true_div": { try $0 / $1 },
        "int_div": { try intDiv($0, $1) }, "mod": { try $0 % $1 }, "pow": { try pow($0, $1) },
        "maximum": { try maximum($0, $1) }, "minimum": { try minimum($0, $1) }, "arctan2": { try arctan2($0, $1) },
        "eq": { try eq($0, $1) }, "neq": { try neq($0, $1) }, "lt": { try lt($0, $1) }, "le": { try le($0, $1) },
        "gt": { try gt($0, $1) }, "ge": { try ge($0, $1) }, "and": { try and($0, $1) }, "or": { try or($0, $1) },
        "xor": { try xor($0, $1) }, "&": { try $0 & $1 }, "|": { try $0 | $1 }, "^": { try $0 ^ $1 },
        "dot": { try dot($0, $1) }, "outer": { try outer($0, $1) }, "batched_dot": { try batchedDot($0, $1) },
        "leaky_relu_tensor": { try relu($0, alpha: $1) },
        "categorical_crossentropy": { try categoricalCrossentropy($0, $1) },
        "binary_crossentropy": { try binaryCrossentropy($0, $1) },
    ]

    /// Ops of three tensors.
    static let ternary: [String: Ternary] = [
        "switch": { try `switch`($0, $1, $2) }, "where": { try `where`($0, $1, $2) }, "clip": { try clip($0, $1, $2) },
    ]

    /// Binary ops with a Swift number on the right (`x + 2.5`).
    static let numberOnRight: [String: @Sendable (Variable, any ScalarLiteral) throws -> Variable] = [
        "add": { try $0 + $1 }, "sub": { try $0 - $1 }, "mul": { try $0 * $1 }, "true_div": { try $0 / $1 },
        "mod": { try $0 % $1 }, "pow": { try pow($0, $1) }, "eq": { try eq($0, $1) }, "neq": { try neq($0, $1) },
        "lt": { try lt($0, $1) }, "le": { try le($0, $1) }, "gt": { try gt($0, $1) }, "ge": { try ge($0, $1) },
    ]

    /// Binary ops with a Swift number on the left (`2.5 - x`).
    static let numberOnLeft: [String: @Sendable (any ScalarLiteral, Variable) throws -> Variable] = [
        "add": { try $0 + $1 }, "sub": { try $0 - $1 }, "mul": { try $0 * $1 }, "true_div": { try $0 / $1 },
    ]

    /// Reductions with `axis` and `keepdims` parameters.
    static let reductions: [String: Reduction] = [
        "sum": { try sum($0, axis: $1, keepDims: $2) }, "prod": { try prod($0, axis: $1, keepDims: $2) },
        "max": { try Theano.max($0, axis: $1, keepDims: $2) }, "min": { try Theano.min($0, axis: $1, keepDims: $2) },
        "mean": { try mean($0, axis: $1, keepDims: $2) }, "all": { try all($0, axis: $1, keepDims: $2) },
        "any": { try any($0, axis: $1, keepDims: $2) }, "logsumexp": { try logsumexp($0, axis: $1, keepDims: $2) },
    ]

    /// Reductions that also take `ddof`.
    static let dispersions: [String: Dispersion] = [
        "var": { try `var`($0, axis: $1, keepDims: $2, ddof: $3) }, "std": { try std($0, axis: $1, keepDims: $2, ddof: $3) },
    ]

    /// The output of `fixture`'s op applied to `operands` (one variable per fixture input).
    static func build(_ fixture: FixtureCase, operands x: [Variable]) throws -> Variable {
        let params = fixture.params
        if params.contains("scalar") { return try withNumber(fixture.op, x[0], params: params) }
        if let reduction = reductions[fixture.op] {
            return try reduction(x[0], params.axes("axis"), params.bool("keepdims", default: false))
        }
        if let dispersion = dispersions[fixture.op] {
            return try dispersion(x[0], params.axes("axis"), params.bool("keepdims", default: false), params.optionalInt("ddof") ?? 0)
        }
        if x.count == 1, let build = unary[fixture.op] ?? stabilized[fixture.op] { return try build(x[0]) }
        if x.count == 2, let build = binary[fixture.op] { return try build(x[0], x[1]) }
        if x.count == 3, let build = ternary[fixture.op] { return try build(x[0], x[1], x[2]) }
        return try withParameters(fixture.op, x, params: params)
    }

    /// `x op number` or `number op x`, as the `side` parameter says.
    private static func withNumber(_ op: String, _ x: Variable, params: FixtureParameters) throws -> Variable {
        let number = try params.literal("scalar")
        let side = try params.string("side")
        if side == "right", let build = numberOnRight[op] { return try build(x, number) }
        if side == "left", let build = numberOnLeft[op] { return try build(number, x) }
        throw FixtureError("no \(op) with a number on the \(side)")
    }

    /// The ops whose parameters are not just axes.
    private static func withParameters(_ op: String, _ x: [Variable], params: FixtureParameters) throws -> Variable {
        switch op {
        case "cast": return try cast(x[0], to: params.dtype("dtype"))
        case "clip": return try clip(x[0], params.literal("low"), params.literal("high"))
        case "argmax": return try argmax(x[0], axis: params.optionalInt("axis"), keepDims: params.bool("keepdims", default: false))
        case "argmin": return try argmin(x[0], axis: params.optionalInt("axis"), keepDims: params.bool("keepdims", default: false))
        case "dimshuffle": return try dimshuffled(x[0], try dimPattern(params["pattern"]))
        case "transpose": return try x[0].transpose(params.optionalInts("axes"))
        case "reshape": return try reshape(x[0], params.ints("shape"))
        case "flatten": return try flatten(x[0], ndim: params.int("ndim"))
        case "squeeze": return try squeeze(x[0], axis: params.axes("axis"))
        case "expand_dims": return try expandDims(x[0], axis: params.int("axis"))
        case "alloc": return try alloc(x[0], shape: params.ints("shape"))
        case "full_like": return try fullLike(x[0], params.double("value"))
        case "zeros": return try zeros(params.ints("shape"), dtype: params.dtype("dtype"))
        case "ones": return try ones(params.ints("shape"), dtype: params.dtype("dtype"))
        case "arange": return try arange(params.int("start"), params.int("stop"), step: params.int("step"))
        case "eye":
            return try eye(params.int("rows"), params.optionalInt("columns"), k: params.int("k"), dtype: params.dtype("dtype"))
        case "one_hot": return try oneHot(x[0], classes: params.int("classes"), dtype: params.dtype("dtype"))
        case "softmax_axis": return try softmax(x[0], axis: params.int("axis"))
        case "log_softmax_axis": return try logSoftmax(x[0], axis: params.int("axis"))
        case "leaky_relu": return try relu(x[0], alpha: params.literal("alpha"))
        case "repeat_counts": return try `repeat`(x[0], counts: x[1], axis: params.optionalInt("axis"))
        case "subtensor": return try indexedRegion(x, params: params)
        case "set_subtensor": return try setSubtensor(indexedRegion(x, params: params), x[1])
        case "inc_subtensor": return try incSubtensor(indexedRegion(x, params: params), x[1])
        default: throw FixtureError("no graph for op \"\(op)\" with \(x.count) input(s)")
        }
    }

    /// A dimshuffle pattern from its JSON form: input dimensions as numbers, "x" for a new axis.
    private static func dimPattern(_ value: JSONValue?) throws -> [DimPattern] {
        guard case .array(let entries)? = value else { throw FixtureError("pattern should be a list") }
        return try entries.map { entry in
            if let dimension = entry.int { return .input(dimension) }
            guard entry == .string("x") else { throw FixtureError("bad pattern entry \(entry)") }
            return .newAxis
        }
    }

    /// `x[0]` subscripted by the `indices` parameter, whose symbolic entries are operands.
    private static func indexedRegion(_ x: [Variable], params: FixtureParameters) throws -> Variable {
        try subscripted(x[0], indexEntries(params["indices"], operands: x))
    }

    /// Subscript entries from their JSON form (see generate.py): {"at": i},
    /// {"slice": [start, stop, step]}, {"newaxis": true}, {"input": k} (the k-th operand)
    /// and {"arange_rows": true} (arange over the first dimension of the subscripted
    /// tensor, the first operand, built in the graph).
    private static func indexEntries(_ value: JSONValue?, operands: [Variable]) throws -> [TensorIndex] {
        guard case .array(let entries)? = value else { throw FixtureError("indices should be a list") }
        return try entries.map { entry in
            guard case .object(let fields) = entry, let (kind, argument) = fields.first, fields.count == 1 else {
                throw FixtureError("bad index entry \(entry)")
            }
            switch (kind, argument, argument.int) {
            case ("at", _, let position?): return .at(position)
            case ("slice", .array(let bounds), _) where bounds.count == 3:
                return .slice(start: bounds[0].int, stop: bounds[1].int, step: bounds[2].int)
            case ("newaxis", _, _): return .expand
            case ("input", _, let position?): return .tensor(operands[position])
            case ("arange_rows", _, _): return .tensor(try arange(try operands[0].shape[0]))
            default: throw FixtureError("bad index entry \(entry)")
            }
        }
    }
}

// MARK: - Variadic API with run-time lists

/// `x[indices…]` for a list of entries known only at run time: the subscript takes its
/// entries as variadic arguments, so each count is spelled out.
private func subscripted(_ x: Variable, _ indices: [TensorIndex]) throws -> Variable {
    switch indices.count {
    case 1: return try x[indices[0]]
    case 2: return try x[indices[0], indices[1]]
    case 3: return try x[indices[0], indices[1], indices[2]]
    case 4: return try x[indices[0], indices[1], indices[2], indices[3]]
    default: throw FixtureError("subscripts of \(indices.count) entries are not supported here")
    }
}

/// `x.dimshuffle(pattern…)` for a pattern known only at run time (see ``subscripted(_:_:)``).
private func dimshuffled(_ x: Variable, _ pattern: [DimPattern]) throws -> Variable {
    switch pattern.count {
    case 1: return try x.dimshuffle(pattern[0])
    case 2: return try x.dimshuffle(pattern[0], pattern[1])
    case 3: return try x.dimshuffle(pattern[0], pattern[1], pattern[2])
    case 4: return try x.dimshuffle(pattern[0], pattern[1], pattern[2], pattern[3])
    default: throw FixtureError("dimshuffle patterns of \(pattern.count) entries are not supported here")
    }
}
