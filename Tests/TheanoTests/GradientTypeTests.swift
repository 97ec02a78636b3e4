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
// static size-1 dimensions: the gradient-type cases of the op records (OpRecords+*.swift),
// which OpRecordTests keeps from leaving out a differentiable op.

// MARK: - Cases

/// Float64 operands of the static shapes `shapes` (1: a static size-1, broadcastable
/// dimension; any other number: a size known only at run time), and a graph applying an op
/// to them.
struct SizeOneOperands: Sendable {
    let label: String
    let shapes: [[Int]]
    let build: @Sendable ([Variable]) throws -> Variable

    init(_ label: String, _ shapes: [[Int]], _ build: @escaping @Sendable ([Variable]) throws -> Variable) {
        (self.label, self.shapes, self.build) = (label, shapes, build)
    }

    static func unary(_ label: String, _ build: @escaping @Sendable (Variable) throws -> Variable) -> Self {
        Self(label, [[1, 3]]) { try build($0[0]) }
    }

    /// A `[1, n]` operand with an `[m, 1]` one: each broadcasts along the other's dimension.
    static func binary(_ label: String, _ build: @escaping @Sendable (Variable, Variable) throws -> Variable) -> Self {
        Self(label, [[1, 3], [2, 1]]) { try build($0[0], $0[1]) }
    }
}

/// The operands of one record's gradient-type facet (OpRecords+*.swift), naming its op.
struct SizeOneOperandCase: Sendable, CustomTestStringConvertible {
    /// The op's type name, as the sources declare it.
    let op: String
    let opType: ObjectIdentifier
    let operands: SizeOneOperands

    var testDescription: String { "\(op): \(operands.label)" }
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

// MARK: - Tests

@Suite("Gradient static types")
struct GradientTypeTests {
    /// The gradient of `sum(op(operands))` with respect to each input has the input's static
    /// type, and the compiled gradient runs and gives arrays of the inputs' shapes.
    @Test(arguments: OpRecords.sizeOneOperandCases, OperandSource.allCases)
    func gradientHasTheStaticTypeOfItsInput(_ testCase: SizeOneOperandCase, _ source: OperandSource) throws {
        let (inputs, operands, values) = try Self.inputs(testCase.operands.shapes, source)
        let output = try testCase.operands.build(operands)
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
