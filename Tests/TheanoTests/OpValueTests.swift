import Testing
import Theano

// Checks the value of every op against NumPy: each case of Fixtures/*.json is built as a
// graph (by the fixture op an op record names), compiled with `function(inputs:outputs:)`,
// run, and its dtype, shape and elements compared with what NumPy computed (see
// Fixtures/generate.py).

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

    @Test(arguments: try Fixtures.cases(in: "matrix_algebra"))
    func matrixAlgebra(_ fixture: FixtureCase) throws { try expectNumPyResult(fixture) }

    /// The matrix-algebra cases on the native backend, where the LAPACK ops run their
    /// reference implementations between compiled kernels.
    @Test(arguments: try Fixtures.cases(in: "matrix_algebra").map { VariantCase(fixture: $0, inputs: .contiguous) })
    func matrixAlgebraNative(_ variant: VariantCase) throws {
        try expectNumPyResult(variant.fixture, inputs: variant.inputs, options: CompileOptions(linker: Scratch.linker()))
    }

    @Test(arguments: try Fixtures.cases(in: "sparse"))
    func sparse(_ fixture: FixtureCase) throws { try expectNumPyResult(fixture) }

    /// The sparse cases on the native backend, where CSR products run a C kernel and the
    /// other sparse ops their reference implementations.
    @Test(arguments: try Fixtures.cases(in: "sparse").map { VariantCase(fixture: $0, inputs: .contiguous) })
    func sparseNative(_ variant: VariantCase) throws {
        try expectNumPyResult(variant.fixture, inputs: variant.inputs, options: CompileOptions(linker: Scratch.linker()))
    }

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

    @Test(arguments: try Fixtures.cases(in: "convolution"))
    func convolution(_ fixture: FixtureCase) throws { try expectNumPyResult(fixture) }

    /// The convolution cases compiled by the native backend, with every size known (so
    /// convolutions become patch kernels and BLAS products) and with none known (filters of
    /// unknown size keep the reference implementation).
    @Test(arguments: try VariantCase.cases(of: ["convolution"], passedAs: [.staticShapes, .contiguous]))
    func convolutionNative(_ variant: VariantCase) throws {
        try expectNumPyResult(variant.fixture, inputs: variant.inputs, options: CompileOptions(linker: Scratch.linker()))
    }

    @Test(arguments: try Fixtures.cases(in: "einsum"))
    func einsumForms(_ fixture: FixtureCase) throws { try expectNumPyResult(fixture) }

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

    /// Each record's fixture claims reach its op: some case of each claim builds a graph that
    /// runs through the op (as built, or once stabilized), so a claim filed under the wrong
    /// op shows.
    @Test func everyFixtureClaimReachesItsOp() throws {
        let fixtures = try Fixtures.stems().flatMap { try Fixtures.cases(in: $0) }
        for record in OpRecords.all {
            for claim in record.values.cases {
                let reaching = try fixtures.contains { fixture in
                    guard fixture.op == claim.key || fixture.name == claim.key else { return false }
                    let (inputs, output) = try fixtureGraph(fixture)
                    return try opTypes(of: [output], inputs: inputs).contains(record.opType)
                }
                #expect(reaching, "no case of fixture \"\(claim.key)\" reaches \(record.op)")
            }
        }
    }

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
private let allFixtureFiles = ["elementwise", "reductions", "shape", "indexing", "linalg", "nnet", "numpy_semantics", "stabilize", "convolution",
                                "matrix_algebra", "einsum", "sparse"]

// MARK: - Running a case

/// Builds, compiles (with `options`) and runs `fixture` with its inputs declared and passed
/// as `variant` says, and records a failure unless the result has NumPy's dtype, shape and
/// values.
func expectNumPyResult(_ fixture: FixtureCase, inputs variant: InputVariant = .contiguous,
                               options: CompileOptions = .default,
                               sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
    let (variables, output) = try fixtureGraph(fixture, inputs: variant)
    let compiled = try function(inputs: variables, outputs: [output], name: fixture.name, options: options)
    #expect(compiled.linkWarnings.isEmpty, "\(fixture.name): \(compiled.linkWarnings)", sourceLocation: sourceLocation)
    let actual = try compiled(fixture.inputs.map(variant.argument))[0]
    expectClose(actual, to: fixture, sourceLocation: sourceLocation)
}

/// The graph of `fixture` with its inputs declared as `variant` says: the input variables,
/// and the output its record's fixture op builds from them.
private func fixtureGraph(_ fixture: FixtureCase, inputs variant: InputVariant = .contiguous) throws -> (inputs: [Variable], output: Variable) {
    let variables = fixture.inputs.enumerated().map { position, input in
        tensor("input\(position)", dtype: input.dtype, shape: variant.staticShape(of: input))
    }
    let operands = try zip(variables, fixture.inputs).map { variable, input in try variant.operand(variable, for: input) }
    return (variables, try OpRecords.fixtureOp(named: fixture.op).build(operands, fixture.params))
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
        return try variable[indices: input.shape.map { $0 > 1 ? TensorIndex.stride(by: 2) : .all }]
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

/// A fixture op name (the `op` of cases in Fixtures/*.json) and the graph its cases stand
/// for, built with the public API from one operand per fixture input and the case's
/// parameters. The op records say which record builds each fixture op.
struct FixtureOp: Sendable {
    typealias Unary = @Sendable (Variable) throws -> Variable
    typealias Binary = @Sendable (Variable, Variable) throws -> Variable
    typealias Ternary = @Sendable (Variable, Variable, Variable) throws -> Variable
    typealias NumberOnRight = @Sendable (Variable, any ScalarLiteral) throws -> Variable
    typealias NumberOnLeft = @Sendable (any ScalarLiteral, Variable) throws -> Variable
    typealias Reduction = @Sendable (Variable, Axes, _ keepDims: Bool) throws -> Variable
    typealias Dispersion = @Sendable (Variable, Axes, _ keepDims: Bool, _ ddof: Int) throws -> Variable

    let name: String
    let build: @Sendable (_ operands: [Variable], _ params: FixtureParameters) throws -> Variable

    /// An op whose parameters say more than its operands (or whose operand count varies).
    static func withParameters(_ name: String, _ build: @escaping @Sendable ([Variable], FixtureParameters) throws -> Variable) -> Self {
        Self(name: name, build: build)
    }

    /// An op of one tensor without parameters.
    static func unary(_ name: String, _ build: @escaping Unary) -> Self {
        Self(name: name) { x, _ in try build(operands(x, count: 1, of: name)[0]) }
    }

    /// An op of two tensors; a case whose parameters give a `scalar` applies it to one tensor
    /// and a Swift number (`x + 2.5`, `2.5 - x`) on the `side` they say, if the op has that form.
    static func binary(_ name: String, _ build: @escaping Binary,
                       numberOnRight: NumberOnRight? = nil, numberOnLeft: NumberOnLeft? = nil) -> Self {
        Self(name: name) { x, params in
            guard params.contains("scalar") else {
                let tensors = try operands(x, count: 2, of: name)
                return try build(tensors[0], tensors[1])
            }
            let (tensor, number, side) = (try operands(x, count: 1, of: name)[0], try params.literal("scalar"), try params.string("side"))
            if side == "right", let numberOnRight { return try numberOnRight(tensor, number) }
            if side == "left", let numberOnLeft { return try numberOnLeft(number, tensor) }
            throw FixtureError("no \(name) with a number on the \(side)")
        }
    }

    /// An op of three tensors.
    static func ternary(_ name: String, _ build: @escaping Ternary) -> Self {
        Self(name: name) { x, _ in
            let tensors = try operands(x, count: 3, of: name)
            return try build(tensors[0], tensors[1], tensors[2])
        }
    }

    /// A reduction with `axis` and `keepdims` parameters.
    static func reduction(_ name: String, _ build: @escaping Reduction) -> Self {
        Self(name: name) { x, params in
            try build(operands(x, count: 1, of: name)[0], params.axes("axis"), params.bool("keepdims", default: false))
        }
    }

    /// A reduction that also takes `ddof`.
    static func dispersion(_ name: String, _ build: @escaping Dispersion) -> Self {
        Self(name: name) { x, params in
            try build(operands(x, count: 1, of: name)[0], params.axes("axis"), params.bool("keepdims", default: false),
                      params.optionalInt("ddof") ?? 0)
        }
    }

    /// `x`, if it has `count` operands.
    private static func operands(_ x: [Variable], count: Int, of name: String) throws -> [Variable] {
        guard x.count == count else { throw FixtureError("no graph for op \"\(name)\" with \(x.count) input(s)") }
        return x
    }
}
