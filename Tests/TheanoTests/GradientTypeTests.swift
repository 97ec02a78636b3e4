import Foundation
@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoLoops
@testable import TheanoNative
@testable import TheanoOps
@testable import TheanoOptimizer
import Testing

// Every op's pullback must give each input a gradient of exactly the input's static type:
// the same dtype, and static size 1 in the same dimensions. A gradient that loses a size-1
// dimension is refused at run time by the first elementwise op that needs to broadcast it
// (`concatenate([max(a, axis: 0, keepDims: true), b])` once failed that way). `grad` checks
// each pullback as it goes; these tests apply every differentiable op to operands with
// static size-1 dimensions, and a table that must name every op declared in the sources
// keeps a new op from being left out.

// MARK: - Cases

/// One op applied to float64 operands of the static shapes `shapes` (1: a static size-1,
/// broadcastable dimension; any other number: a size known only at run time).
struct SizeOneOperandCase: Sendable, CustomTestStringConvertible {
    /// The op's type name, as the sources declare it.
    let op: String
    let opType: ObjectIdentifier
    /// Whether the op has a pullback, and a pushforward rule of its own.
    let isDifferentiable: Bool, hasPushforward: Bool
    let label: String
    let shapes: [[Int]]
    let build: @Sendable ([Variable]) throws -> Variable

    var testDescription: String { "\(op): \(label)" }

    init<O: Op>(_ type: O.Type, _ label: String, _ shapes: [[Int]], _ build: @escaping @Sendable ([Variable]) throws -> Variable) {
        op = "\(type)"
        opType = ObjectIdentifier(type)
        isDifferentiable = type is any DifferentiableOp.Type
        hasPushforward = type is any ForwardDifferentiableOp.Type
        self.label = label
        self.shapes = shapes
        self.build = build
    }

    static func unary<O: Op>(_ type: O.Type, _ label: String, _ build: @escaping @Sendable (Variable) throws -> Variable) -> Self {
        Self(type, label, [[1, 3]]) { try build($0[0]) }
    }

    /// A `[1, n]` operand with an `[m, 1]` one: each broadcasts along the other's dimension.
    static func binary<O: Op>(_ type: O.Type, _ label: String, _ build: @escaping @Sendable (Variable, Variable) throws -> Variable) -> Self {
        Self(type, label, [[1, 3], [2, 1]]) { try build($0[0], $0[1]) }
    }
}

/// Where a case's operands come from.
enum OperandSource: String, Sendable, CaseIterable, CustomTestStringConvertible {
    /// Inputs declared with static size-1 dimensions, other sizes unknown.
    case declared
    /// Inputs declared with every size known.
    case allSizesKnown
    /// `max(x, axis: …, keepDims: true)` of larger inputs: the gradient reaching the reduction
    /// must keep the size-1 dimensions too.
    case keepDims

    var testDescription: String { rawValue }
}

enum SizeOneOperandCases {
    static let location = SourceLocation(fileID: #fileID, line: #line)
    /// Row indices for advanced indexing: one row.
    static let firstRow = NDArray([0] as [Int64])

    static let unaryElementwise: [SizeOneOperandCase] = [
        .unary(Negate.self, "-x") { try -$0 },
        .unary(Absolute.self, "abs") { try abs($0) },
        .unary(Sign.self, "sign") { try sign($0) },
        .unary(Floor.self, "floor") { try floor($0) },
        .unary(Ceil.self, "ceil") { try ceil($0) },
        .unary(Round.self, "round") { try round($0) },
        .unary(Exp.self, "exp") { try exp($0) },
        .unary(ExpMinusOne.self, "expm1") { try expm1($0) },
        .unary(Log.self, "log") { try log($0) },
        .unary(LogOnePlus.self, "log1p") { try log1p($0) },
        .unary(LogOneMinusExp.self, "log1mexp") { try log1mexp(-$0) },
        .unary(Log2.self, "log2") { try log2($0) },
        .unary(Log10.self, "log10") { try log10($0) },
        .unary(SquareRoot.self, "sqrt") { try sqrt($0) },
        .unary(Square.self, "sqr") { try sqr($0) },
        .unary(Reciprocal.self, "reciprocal") { try reciprocal($0) },
        .unary(Sin.self, "sin") { try sin($0) },
        .unary(Cos.self, "cos") { try cos($0) },
        .unary(Tan.self, "tan") { try tan($0) },
        .unary(ArcSin.self, "arcsin") { try arcsin($0 * 0.5) },
        .unary(ArcCos.self, "arccos") { try arccos($0 * 0.5) },
        .unary(ArcTan.self, "arctan") { try arctan($0) },
        .unary(Sinh.self, "sinh") { try sinh($0) },
        .unary(Cosh.self, "cosh") { try cosh($0) },
        .unary(Tanh.self, "tanh") { try tanh($0) },
        .unary(Erf.self, "erf") { try erf($0) },
        .unary(Erfc.self, "erfc") { try erfc($0) },
        .unary(Sigmoid.self, "sigmoid") { try sigmoid($0) },
        .unary(Softplus.self, "softplus") { try softplus($0) },
        .unary(Cast.self, "cast to float32") { try cast($0, to: .float32) },
        .unary(IsNaN.self, "isnan") { try isnan($0) },
        .unary(IsInf.self, "isinf") { try isinf($0) },
        .unary(Invert.self, "not(x > 1)") { try not(gt($0, 1)) },
    ]

    static let binaryElementwise: [SizeOneOperandCase] = [
        .binary(Add.self, "a + b") { try $0 + $1 },
        .binary(Subtract.self, "a - b") { try $0 - $1 },
        .binary(Multiply.self, "a * b") { try $0 * $1 },
        .binary(Divide.self, "a / b") { try $0 / $1 },
        .binary(FloorDivide.self, "intDiv") { try intDiv($0, $1) },
        .binary(Remainder.self, "a % b") { try $0 % $1 },
        .binary(Power.self, "pow") { try pow($0, $1) },
        .binary(Maximum.self, "maximum") { try maximum($0, $1) },
        .binary(Minimum.self, "minimum") { try minimum($0, $1) },
        .binary(ArcTan2.self, "arctan2") { try arctan2($0, $1) },
        .binary(Equal.self, "eq") { try eq($0, $1) },
        .binary(NotEqual.self, "neq") { try neq($0, $1) },
        .binary(Less.self, "lt") { try lt($0, $1) },
        .binary(LessEqual.self, "le") { try le($0, $1) },
        .binary(Greater.self, "gt") { try gt($0, $1) },
        .binary(GreaterEqual.self, "ge") { try ge($0, $1) },
        .binary(BitwiseBinary.self, "and") { try and(gt($0, 1), gt($1, 1)) },
        SizeOneOperandCase(Switch.self, "switch with [1, n], [m, 1] and [1, 1] operands", [[1, 3], [2, 1], [1, 1]]) {
            try `switch`(gt($0[0], 1), $0[1], $0[2])
        },
        SizeOneOperandCase(Clip.self, "clip with [1, n], [m, 1] and [1, 1] operands", [[1, 3], [2, 1], [1, 1]]) {
            try clip($0[0], $0[1], $0[2])
        },
    ]

    static let reductions: [SizeOneOperandCase] = [Reduce.Kind.sum, .prod, .max, .min].flatMap { kind in
        [false, true].map { keepDims in
            SizeOneOperandCase(Reduce.self, "\(kind) over the size-1 axis 0\(keepDims ? ", keepDims" : "")", [[1, 3]]) {
                try Reduce(kind: kind, axes: [0], keepDims: keepDims)($0, at: location)
            }
        }
    } + [
        .unary(Reduce.self, "any") { try any(gt($0, 1), axis: 1, keepDims: true) },
        .unary(ArgExtremum.self, "argmax over axis 1, keepDims") { x in try cast(argmax(x, axis: 1, keepDims: true), to: .float64) * x },
        .unary(LogSumExp.self, "logsumexp over axis 1, keepDims") { try logsumexp($0, axis: 1, keepDims: true) },
        SizeOneOperandCase(LogSumExp.self, "logsumexp over the size-1 axis 1", [[2, 1]]) { try logsumexp($0[0], axis: 1) },
    ]

    static let others: [SizeOneOperandCase] = [
        SizeOneOperandCase(Dot.self, "[1, n] · [n, 1]", [[1, 3], [3, 1]]) { try dot($0[0], $0[1]) },
        SizeOneOperandCase(BatchedDot.self, "[1, 1, n] ⊙ [1, n, 2]", [[1, 1, 3], [1, 3, 2]]) { try batchedDot($0[0], $0[1]) },
        .unary(Softmax.self, "softmax") { try softmax($0) },
        SizeOneOperandCase(Softmax.self, "softmax over a size-1 axis", [[2, 1]]) { try softmax($0[0]) },
        .unary(LogSoftmax.self, "logSoftmax") { try logSoftmax($0) },
        .unary(CrossentropySoftmax.self, "categoricalCrossentropy(softmax(x), labels)") {
            try categoricalCrossentropy(softmax($0), constant(firstRow))
        },
        // Labels of a length known only at run time, for logits of one static row.
        .unary(CrossentropySoftmax.self, "categoricalCrossentropy(softmax(x), labels of unknown length)") { x in
            try categoricalCrossentropy(softmax(x), reshape(argmax(x, axis: 1), sizes: [shape(x)[0]]))
        },
        .unary(DimShuffle.self, "dimshuffle(1, x, 0)") { try $0.dimshuffle(1, .newAxis, 0) },
        .unary(DimShuffle.self, "dimshuffle dropping the size-1 dimension") { try $0.dimshuffle(1) },
        .unary(Reshape.self, "reshape to [3, 1]") { try reshape($0, [3, 1]) },
        .unary(Alloc.self, "alloc [1, n] to [2, 3]") { try alloc($0, shape: [2, 3]) },
        .unary(Alloc.self, "alloc [1, n] to [1, 3]") { try alloc($0, shape: [1, 3]) },
        .unary(Arange.self, "arange(n) times x") { x in try cast(arange(shape(x)[1]), to: .float64) * x },
        .unary(Shape.self, "shape(x)[1] times x") { x in try cast(shape(x)[1], to: .float64) * x },
        .unary(ShapeAt.self, "ShapeAt(1) times x") { x in try cast(ShapeAt(axis: 1)([x], at: location), to: .float64) * x },
        SizeOneOperandCase(Join.self, "concatenate [1, n] and [m, n] along axis 0", [[1, 3], [2, 3]]) {
            try concatenate([$0[0], $0[1]], axis: 0)
        },
        SizeOneOperandCase(Join.self, "concatenate [1, n] and [1, m] along axis 1", [[1, 3], [1, 2]]) {
            try concatenate([$0[0], $0[1]], axis: 1)
        },
        SizeOneOperandCase(Split.self, "split [3, n] into [1, n] and [2, n]", [[3, 4]]) { x in
            let pieces = try split(x[0], sizes: [1, 2], axis: 0)
            return try pieces[0] * sum(pieces[1], axis: 0, keepDims: true)
        },
        SizeOneOperandCase(MakeVector.self, "make_vector of scalars", [[], []]) { try MakeVector(dtype: .float64)([$0[0], $0[1]], at: location) },
        SizeOneOperandCase(CheckEqualSizes.self, "checked equal sizes times x", [[1, 3], [1, 3]]) { x in
            let size = try CheckEqualSizes()([shape(x[0])[1], shape(x[1])[1]], at: location)
            return try cast(size, to: .float64) * x[0] * x[1]
        },
        SizeOneOperandCase(SpecifyShape.self, "specify_shape", [[1, 3], [1, 3]]) { try $0[0].specifyingShape(of: $0[1]) * $0[1] },
        .unary(Subtensor.self, "x[:, 1..<3]") { try $0[.all, 1..<3] },
        SizeOneOperandCase(Subtensor.self, "x[0..<1] of a [2, n]", [[2, 3]]) { try $0[0][0..<1] },
        .unary(Subtensor.self, "x[newAxis]") { try $0[.newAxis] },
        SizeOneOperandCase(IncSubtensor.self, "incSubtensor(x[0..<1], [1, n] values)", [[2, 3], [1, 3]]) {
            try incSubtensor($0[0][0..<1], $0[1])
        },
        // The values' gradient is the region's, which is broadcastable where the values'
        // type (sizes known only at run time) is not: differentiation broadcasts it.
        SizeOneOperandCase(IncSubtensor.self, "incSubtensor(x[0..<1], values of unknown static shape)", [[2, 3], [1, 3]]) { x in
            try incSubtensor(x[0][0..<1], reshape(x[1], sizes: [shape(x[1])[0], shape(x[1])[1]]))
        },
        SizeOneOperandCase(IncSubtensor.self, "setSubtensor(x[:, 0], [1] values) of a [1, n]", [[1, 3], [1]]) {
            try setSubtensor($0[0][.all, 0], $0[1])
        },
        SizeOneOperandCase(AdvancedSubtensor.self, "x[[0]]", [[2, 3]]) { try $0[0][constant(firstRow)] },
        .unary(AdvancedSubtensor.self, "x[[0]] of a [1, n]") { try $0[constant(firstRow)] },
        SizeOneOperandCase(AdvancedIncSubtensor.self, "incSubtensor(x[[0]], [1, n] values)", [[2, 3], [1, 3]]) {
            try incSubtensor($0[0][constant(firstRow)], $0[1])
        },
        .unary(Nonzero.self, "x[x > 1]") { try $0[gt($0, 1)] },
        .unary(SliceLength.self, "slice length times x") { x in
            try cast(SliceLength(start: .constant(1), stop: .none, step: .none)([shape(x)[1]], at: location), to: .float64) * x
        },
        .unary(CheckLabels.self, "oneHot(argmax(x, axis: 1)) times x") { x in
            try oneHot(argmax(x, axis: 1), classes: 3, dtype: .float64) * x
        },
        .unary(RepeatedPositions.self, "repeat(x, counts: [2, 1, 1], axis: 1)") { x in
            try `repeat`(x, counts: constant(NDArray([2, 1, 1] as [Int64])), axis: 1)
        },
        .unary(GradientOverride.self, "gradClip") { try gradClip($0, lower: -1, upper: 1) * $0 },
        .unary(OpFromGraph.self, "op_from_graph of tanh(x) * 2") { a in
            let x = tensor(dtype: .float64, shape: [1, nil])
            return try OpFromGraph(inputs: [x], outputs: [tanh(x) * 2])(a)[0]
        },
        SizeOneOperandCase(IfElse.self, "ifelse of [1, n] branches", [[1, 3], [1, 3]]) { try ifelse(gt(sum($0[0]), 0), $0[0], $0[1]) },
        SizeOneOperandCase(Scan.self, "scan over [steps, 1, n] with [1, n] state and weight", [[2, 1, 3], [1, 3], [1, 3]]) { v in
            try scan(sequences: [ScanSequence(v[0])], outputsInfo: [.recurrent(v[1])], nonSequences: [v[2]]) { s in
                [try tanh(s[0] + s[1] * s[2])]
            }[0]
        },
    ]

    static let all = unaryElementwise + binaryElementwise + reductions + others

    /// The op types declared in the sources that have no pullback, by design: they only
    /// appear in optimized graphs, after differentiation.
    static let withoutPullback: [(name: String, isDifferentiable: Bool)] = [
        Composite.self, Gemm.self, Gemv.self, Ger.self, ElementwiseReduce.self, ScanGradient.self,
    ].map { (name: "\($0)", isDifferentiable: $0 is any DifferentiableOp.Type) }

    /// The names of the op types declared in `Sources/Theano`: structs, classes and enums
    /// whose conformance list names a protocol ending in `Op`.
    static func declaredOpTypes() throws -> Set<String> {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources")
        let declaration = try NSRegularExpression(
            pattern: #"^\s*(?:public\s+|package\s+|internal\s+)?(?:final\s+)?(?:struct|class|enum)\s+(\w+)\s*:\s*([^{]*)\{"#, options: .anchorsMatchLines)
        var names = Set<String>()
        // Every layer of the library: the targets named Theano….
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
        for case let file as URL in files where file.pathExtension == "swift"
            && file.path.contains("/Sources/Theano") && !file.path.contains("/Sources/TheanoModels/") && !file.path.contains("/Sources/TheanoTestSupport/") {
            let text = try String(contentsOf: file, encoding: .utf8)
            for match in declaration.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let conformances = text[Range(match.range(at: 2), in: text)!].split(separator: ",")
                if conformances.contains(where: { $0.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("Op") }) {
                    names.insert(String(text[Range(match.range(at: 1), in: text)!]))
                }
            }
        }
        return names
    }
}

// MARK: - Tests

@Suite("Gradient static types")
struct GradientTypeTests {
    /// The table names every op the sources declare: a new op cannot be left out.
    @Test func everyDeclaredOpHasACase() throws {
        let declared = try SizeOneOperandCases.declaredOpTypes()
        #expect(declared.count > 50, "the scan of the sources found only \(declared.sorted())")
        let covered = Set(SizeOneOperandCases.all.map(\.op) + SizeOneOperandCases.withoutPullback.map(\.name))
        #expect(declared.subtracting(covered).isEmpty, "ops without a case: \(declared.subtracting(covered).sorted())")
        #expect(covered.subtracting(declared).isEmpty, "cases for ops the scan did not find: \(covered.subtracting(declared).sorted())")
        let notDifferentiable = SizeOneOperandCases.all.filter { !$0.isDifferentiable }.map(\.op)
        #expect(notDifferentiable.isEmpty, "cases for ops without a pullback: \(notDifferentiable)")
        let differentiable = SizeOneOperandCases.withoutPullback.filter(\.isDifferentiable).map(\.name)
        #expect(differentiable.isEmpty, "ops listed as having no pullback that have one: \(differentiable)")
    }

    /// The gradient of `sum(op(operands))` with respect to each input has the input's static
    /// type, and the compiled gradient runs and gives arrays of the inputs' shapes.
    @Test(arguments: SizeOneOperandCases.all, OperandSource.allCases)
    func gradientHasTheStaticTypeOfItsInput(_ testCase: SizeOneOperandCase, _ source: OperandSource) throws {
        let (inputs, operands, values) = try Self.inputs(testCase.shapes, source)
        let output = try testCase.build(operands)
        let cost = try sum(output.dtype == .float64 ? output : cast(output, to: .float64))
        let stabilized = try stabilizedForm([cost], keeping: inputs)
        #expect(topologicalOrder(of: stabilized).contains { ObjectIdentifier(type(of: $0.op)) == testCase.opType },
                "the graph does not reach \(testCase.op)")

        let gradients = try grad(cost, wrt: inputs, disconnected: .zero)
        for (input, gradient) in zip(inputs, gradients) {
            #expect(gradient.type.dtype == input.type.dtype && gradient.type.broadcastable == input.type.broadcastable,
                    "the gradient of \(input.type) has type \(gradient.type)")
        }
        let results = try function(inputs: inputs, outputs: gradients)(values)
        #expect(results.map(\.shape) == values.map(\.shape))
    }

    /// The case reported from outside: a keepDims reduction joined to another tensor.
    @Test(arguments: Backend.allCases)
    func gradientThroughAJoinedKeepDimsReduction(_ backend: Backend) throws {
        let a = matrix("a", dtype: .float64), b = matrix("b", dtype: .float64)
        let joined = try concatenate([max(a, axis: 0, keepDims: true), b])
        let gradient = try grad(sum(joined * joined), wrt: [a])[0]
        let f = try backend.compile(inputs: [a, b], outputs: [gradient])
        let result = try f(NDArray([[1, 5], [3, 2]] as [[Double]]), NDArray([[0, 0]] as [[Double]]))[0]
        // d/da Σ max(a, axis 0)² = 2·max at each column's maximum, 0 elsewhere.
        #expect(result == NDArray([[0, 10], [6, 0]] as [[Double]]))
    }

    /// A pullback that breaks the rule is reported when the gradient is built, naming the
    /// op and where its node was built, not when the gradient runs.
    @Test func aPullbackThatLosesASizeOneDimensionIsReportedByName() throws {
        let x = tensor("x", dtype: .float64, shape: [1, nil])
        let y = try LosesSizeOneDimension()([x], at: SourceLocation(fileID: #fileID, line: #line))
        expectFailure(mentioning: ["grad", "the pullback of loses_size_one", here(#line - 1), "float64[?, ?]", "float64[1, ?]",
                                   "internal error", here(#line + 1)]) {
            _ = try grad(sum(y), wrt: [x])
        }
    }

    // MARK: Helpers

    /// The inputs, the operands built from them, and values of the inputs. An operand is its
    /// input itself, or `max` over the input's size-1 dimensions (there of size 2) with
    /// `keepDims`. Values are distinct, in (0.5, 1.5).
    private static func inputs(_ shapes: [[Int]], _ source: OperandSource) throws -> (inputs: [Variable], operands: [Variable], values: [NDArray]) {
        var inputs: [Variable] = [], operands: [Variable] = [], values: [NDArray] = []
        for (index, shape) in shapes.enumerated() {
            let sizeOne = shape.indices.filter { shape[$0] == 1 }
            let reduced = source == .keepDims && !sizeOne.isEmpty
            let declared: [Int?] = switch source {
            case .declared: shape.map { $0 == 1 ? 1 : nil }
            case .allSizesKnown: shape
            case .keepDims: shape.map { $0 == 1 && !reduced ? 1 : nil }
            }
            let input = tensor("x\(index)", dtype: .float64, shape: declared)
            inputs.append(input)
            operands.append(reduced ? try max(input, axis: Axes(sizeOne), keepDims: true) : input)
            let runShape = shape.map { $0 == 1 && reduced ? 2 : $0 }
            let count = runShape.reduce(1, *)
            values.append(NDArray((0..<count).map { 0.5 + (Double($0) + 0.5 + 0.37 * Double(index)) / Double(count + 1) }, shape: runShape))
        }
        return (inputs, operands, values)
    }
}

/// The identity, with a pullback that reshapes the gradient to sizes known only at run
/// time: the gradient's type no longer says its first dimension has size 1.
private struct LosesSizeOneDimension: DifferentiableOp {
    var description: String { "loses_size_one" }
    func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] { inputs }
    func perform(_ inputs: [NDArray]) throws -> [NDArray] { inputs }
    func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        [try outputGradients[0].map { g in try reshape(g, sizes: [shape(g)[0], shape(g)[1]]) }]
    }
}
