@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoLoops
@testable import TheanoNative
@testable import TheanoOps
@testable import TheanoOptimizer
import Testing

// One record per op type the library declares, saying for each facet of the op which cases
// check it, or why it does not apply: its value against NumPy (the fixture ops it builds),
// its gradient against finite differences, the static types of its gradient, forward mode,
// its inferred shapes, and the native backend against the reference interpreter. The
// parameterized tests of each facet run over the records' cases; OpRecordTests fails when an
// op has no record, a record names no op, a facet claims cases it does not have or a fixture
// case has no record that builds it. The records themselves are in OpRecords+*.swift.

/// Why a facet does not apply to an op.
struct Reason: Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    let description: String

    init(stringLiteral description: String) { self.description = description }
}

extension Reason {
    static let booleanOutput: Reason = "boolean output: nothing to differentiate"
    static let integerOutput: Reason = "integer output: nothing to differentiate"
    static let piecewiseConstant: Reason = "piecewise constant: its derivative is zero wherever it exists"
    static let noNativeKernel: Reason = "no C kernel: the native backend runs its reference implementation"
    static let noPullback: Reason = "runs only in graphs optimized after differentiation, so it has no pullback"
    static let notShapeInferring: Reason = "does not infer shapes: its output sizes depend on the values it computes"
}

/// What the tests do about one facet of an op: check it on cases, or not at all, for the
/// reason given.
enum Facet<Case: Sendable>: Sendable {
    case checked([Case])
    case notApplicable(because: Reason)
    /// Checked, but by the named tests of their own rather than on generic cases: the
    /// collectives, which run only inside MPI jobs.
    case checkedElsewhere(by: String)

    /// The cases (none when the facet does not apply).
    var cases: [Case] {
        if case .checked(let cases) = self { cases } else { [] }
    }

    var isChecked: Bool {
        switch self {
        case .checked, .checkedElsewhere: true
        case .notApplicable: false
        }
    }

    /// The facet checked on `more` cases too.
    func adding(_ more: [Case]) -> Self { more.isEmpty ? self : .checked(cases + more) }
}

/// How forward mode (`Rop`) is checked for an op.
enum ForwardModeCheck: Sendable {
    /// On the op's gradient cases, each also run in forward mode and compared with the
    /// transposed pullbacks (ForwardModeTests).
    case onGradientCases
    /// On cases of its own, against finite differences alone: the op has no pullback.
    case withoutPullbacks([GradientCase])
    case notApplicable(because: Reason)
}

/// A record's claim on the NumPy fixture cases (Fixtures/*.json) that check its value.
enum FixtureClaim: Sendable {
    /// Every case of a fixture op, whose graphs this record builds.
    case builds(FixtureOp)
    /// Fixture cases another record builds whose graphs reach this op too: those of a
    /// fixture op (by its name) or one case (by its name).
    case reaches(String)

    /// The fixture op name or case name the claim names.
    var key: String {
        switch self {
        case .builds(let fixtureOp): fixtureOp.name
        case .reaches(let key): key
        }
    }
}

/// A comparison of the native backend with the reference interpreter, by the kind of
/// kernel the op becomes.
enum NativeCase: Sendable {
    /// A compiled elementwise loop (NativeBackendTests).
    case elementwise(NativeElementwiseCase)
    /// A gemm call, through BLAS and through the compiled fallback (NativeBackendTests).
    case matrixProduct(MatrixProductCase)
    /// A kernel over an axis or a run of axes (NativeKernelViewTests).
    case axisKernel(AxisKernelCase)
    /// A kernel filling its output element by element (RandomStreamTests: bit for bit).
    case fillKernel(FillKernelCase)
    /// Patch, pooling and convolution kernels on images of static shape (ConvolutionTests).
    case imageKernel(ImageKernelCase)
}

/// A graph whose outputs a fill kernel computes, built from no inputs.
struct FillKernelCase: Sendable {
    let name: String
    let build: @Sendable () throws -> [Variable]

    init(_ name: String, _ build: @escaping @Sendable () throws -> [Variable]) {
        self.name = name
        self.build = build
    }
}

// MARK: - Records

/// One op type and the cases that check each facet of it.
struct OpRecord: Sendable, CustomTestStringConvertible {
    /// The op's type name, as the sources declare it.
    let op: String
    let opType: ObjectIdentifier
    /// The facet protocols the op conforms to.
    let isDifferentiable: Bool, hasPushforward: Bool, infersShapes: Bool
    /// Whether the native backend compiles the op itself (an elementwise loop, an axis
    /// kernel, a matrix product or a fill kernel) or what it is lowered to (a convolution's
    /// patches and products).
    let hasNativeKernel: Bool

    var values: Facet<FixtureClaim>
    var gradients: Facet<GradientCase>
    var forwardMode: ForwardModeCheck
    var gradientTypes: Facet<SizeOneOperands>
    var shapes: Facet<ShapeCase>
    var native: Facet<NativeCase>

    var testDescription: String { op }

    init<O: Op>(_ type: O.Type, values: Facet<FixtureClaim>, gradients: Facet<GradientCase>, forwardMode: ForwardModeCheck,
                gradientTypes: Facet<SizeOneOperands>, shapes: Facet<ShapeCase>, native: Facet<NativeCase>) {
        op = "\(type)"
        opType = ObjectIdentifier(type)
        isDifferentiable = type is any DifferentiableOp.Type
        hasPushforward = type is any ForwardDifferentiableOp.Type
        infersShapes = type is any ShapeInferringOp.Type
        hasNativeKernel = type is any CElementwiseOp.Type || type is any CAxisKernelOp.Type || type is any MatrixProductOp.Type
            || type is any CFillKernelOp.Type || type is any ConvolutionOp.Type
        (self.values, self.gradients, self.forwardMode) = (values, gradients, forwardMode)
        (self.gradientTypes, self.shapes, self.native) = (gradientTypes, shapes, native)
    }

    /// The cases forward mode is checked on.
    var forwardCases: [GradientCase] {
        switch forwardMode {
        case .onGradientCases: gradients.cases
        case .withoutPullbacks(let cases): cases
        case .notApplicable: []
        }
    }

    /// The record with more cases for some facets.
    func adding(values: [FixtureClaim] = [], gradients: [GradientCase] = [], shapes: [ShapeCase] = [],
                native: [NativeCase] = []) -> OpRecord {
        var record = self
        record.values = self.values.adding(values)
        record.gradients = self.gradients.adding(gradients)
        record.shapes = self.shapes.adding(shapes)
        record.native = self.native.adding(native)
        return record
    }
}

/// The records, and the cases of each facet gathered from them.
enum OpRecords {
    static let all: [OpRecord] = elementwise + reductions + linearAlgebra + neuralNet + shapeOps + indexing + control + random + convolution
        + matrixAlgebra + sparse + distributed

    static let gradientCases = all.flatMap(\.gradients.cases)
    static let shapeCases = all.flatMap(\.shapes.cases)
    static let nativeCases = all.flatMap(\.native.cases)

    /// The forward-mode cases of ops without a pullback.
    static let forwardCasesWithoutPullbacks = all.flatMap { record -> [GradientCase] in
        if case .withoutPullbacks(let cases) = record.forwardMode { cases } else { [] }
    }

    static let sizeOneOperandCases = all.flatMap { record in
        record.gradientTypes.cases.map { SizeOneOperandCase(op: record.op, opType: record.opType, operands: $0) }
    }

    /// The fixture ops the records build, and those of builders that fold to a constant or
    /// are lowered to other ops (no op of their own computes them, so no record builds them).
    static let fixtureOps = all.flatMap { record in
        record.values.cases.compactMap { claim -> FixtureOp? in
            if case .builds(let fixtureOp) = claim { fixtureOp } else { nil }
        }
    } + constantFixtureOps + composedFixtureOps

    static let constantFixtureOps: [FixtureOp] = [
        .withParameters("eye") { _, params in
            try eye(params.int("rows"), params.optionalInt("columns"), k: params.int("k"), dtype: params.dtype("dtype"))
        },
    ]

    private static let fixtureOpsByName = Dictionary(grouping: fixtureOps, by: \.name)

    /// The fixture op that builds the cases named `name`.
    static func fixtureOp(named name: String) throws -> FixtureOp {
        guard let fixtureOp = fixtureOpsByName[name]?.first else { throw FixtureError("no record builds fixture op \"\(name)\"") }
        return fixtureOp
    }
}

// MARK: - Operands the cases share

extension OpRecords {
    /// Shapes of gradient-check inputs.
    static let matrix = [3, 4]
    static let tensor3 = [2, 3, 4]
    static let indexed = [5, 6]

    /// Any value in [-2, 2].
    static let real = GradientInput.Distribution.uniform(-2...2)

    /// Constant integer operands captured by builders.
    static let rowLabels = NDArray([0, 5, 2, 2, 1] as [Int64])
    static let repeatedRows = NDArray([0, 3, 0, 4, 3] as [Int64])
    /// Rows 3 and 4 named from the end, repeated: -2 and 3 are the same row.
    static let negativeRows = NDArray([-1, -2, 3, 0, -1] as [Int64])
    static let distinctRows = NDArray([4, 0, 2] as [Int64])
    static let classLabels = NDArray([1, 4, 0] as [Int64])
    /// Row indices for advanced indexing: one row.
    static let firstRow = NDArray([0] as [Int64])
    /// Counts for `repeat` of a matrix's columns (one dropped, one copied thrice) and of the
    /// six elements of a flattened (2, 3) tensor.
    static let columnCounts = NDArray([2, 0, 1, 3] as [Int64])
    static let elementCounts = NDArray([1, 0, 2, 1, 3, 0] as [Int8])

    /// Fixed targets in [0, 1) for a binary cross-entropy case.
    static let binaryTargets: NDArray = {
        var random = RandomState(seed: 3)
        return NDArray.uniform(matrix, dtype: .float64, using: &random)
    }()

    /// Where the nodes the cases build directly (not through a builder) say they were built.
    static let location = SourceLocation(fileID: #fileID, line: #line)
}

// MARK: - Which ops a case reaches

/// The op types of the graph computing `outputs` from `inputs`: as built, and in the
/// stabilized form that differentiation sees (where `categoricalCrossentropy(softmax(x),
/// labels)` is one op, say).
func opTypes(of outputs: [Variable], inputs: [Variable]) throws -> Set<ObjectIdentifier> {
    let built = topologicalOrder(of: outputs)
    let stabilized = topologicalOrder(of: try stabilizedForm(outputs, keeping: inputs))
    return Set((built + stabilized).map { ObjectIdentifier(type(of: $0.op)) })
}

extension GradientCase {
    /// The op types the case's graph reaches (see ``opTypes(of:inputs:)``), built from
    /// float64 inputs with the static size-1 dimensions of the case's inputs.
    func reachedOpTypes() throws -> Set<ObjectIdentifier> {
        let variables = inputs.map { tensor(dtype: .float64, shape: $0.shape.map { $0 == 1 ? 1 : nil }) }
        return try opTypes(of: [build(variables)], inputs: variables)
    }
}
