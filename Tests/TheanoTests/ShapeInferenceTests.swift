@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoLoops
@testable import TheanoNative
@testable import TheanoOps
@testable import TheanoOptimizer
import Testing
import TheanoTestSupport

/// One input of a shape-inference case: the value it is run with, and the static shape of
/// the symbolic input (every dimension unknown unless a broadcastable 1 is wanted).
struct ShapeInput: Sendable {
    let value: NDArray
    let staticShape: [Int?]

    /// Float64 values of `shape` (mixed signs, some zeros), declared with every dimension
    /// unknown unless `staticShape` says otherwise.
    static func floats(_ shape: [Int], staticShape: [Int?]? = nil) -> Self {
        let values = (0..<shape.reduce(1, *)).map { Double(($0 * 5) % 11) - 5 }
        return Self(value: NDArray(values, shape: shape), staticShape: staticShape ?? shape.map { _ in nil })
    }

    /// Int64 values (positions, labels) of `shape` (default: a vector), dimensions unknown
    /// unless `staticShape` says otherwise.
    static func integers(_ values: [Int64], shape: [Int]? = nil, staticShape: [Int?]? = nil) -> Self {
        let array = NDArray(values, shape: shape)
        return Self(value: array, staticShape: staticShape ?? array.shape.map { _ in nil })
    }

    /// An `int64` scalar: a symbolic size, bound or index.
    static func size(_ value: Int64) -> Self { Self(value: NDArray(scalar: value), staticShape: []) }

    /// A `float64` scalar.
    static func real(_ value: Double) -> Self { Self(value: NDArray(scalar: value), staticShape: []) }
}

/// A graph whose output node's op infers its output shapes from symbolic input shapes.
struct ShapeCase: Sendable, CustomTestStringConvertible {
    let name: String
    let inputs: [ShapeInput]
    /// Builds the node under test: its op is the one whose `inferShape` is checked.
    let build: @Sendable ([Variable]) throws -> Variable

    var testDescription: String { name }

    init(_ name: String, _ inputs: [ShapeInput], _ build: @escaping @Sendable ([Variable]) throws -> Variable) {
        self.name = name
        self.inputs = inputs
        self.build = build
    }

    init(_ name: String, _ input: ShapeInput, _ build: @escaping @Sendable (Variable) throws -> Variable) {
        self.init(name, [input]) { try build($0[0]) }
    }

    init(_ name: String, _ lhs: ShapeInput, _ rhs: ShapeInput, _ build: @escaping @Sendable (Variable, Variable) throws -> Variable) {
        self.init(name, [lhs, rhs]) { try build($0[0], $0[1]) }
    }
}

/// The table of shape-inference checks.
enum ShapeCases {
    static let matrix = ShapeInput.floats([3, 4])
    static let tensor3 = ShapeInput.floats([2, 3, 4])
    /// A (1, 4) row declared broadcastable along its first dimension.
    static let broadcastRow = ShapeInput.floats([1, 4], staticShape: [1, nil])

    static let unaryElementwise: [(name: String, build: @Sendable (Variable) throws -> Variable)] = [
        ("neg", { try -$0 }), ("abs", { try abs($0) }), ("sign", { try sign($0) }), ("floor", { try floor($0) }),
        ("ceil", { try ceil($0) }), ("round", { try round($0) }), ("exp", { try exp($0) }), ("expm1", { try expm1($0) }),
        ("log", { try log($0) }), ("log1p", { try log1p($0) }), ("log2", { try log2($0) }), ("log10", { try log10($0) }),
        ("sqrt", { try sqrt($0) }), ("sqr", { try sqr($0) }), ("reciprocal", { try reciprocal($0) }),
        ("sin", { try sin($0) }), ("cos", { try cos($0) }), ("tan", { try tan($0) }), ("arcsin", { try arcsin($0) }),
        ("arccos", { try arccos($0) }), ("arctan", { try arctan($0) }), ("sinh", { try sinh($0) }),
        ("cosh", { try cosh($0) }), ("tanh", { try tanh($0) }), ("erf", { try erf($0) }), ("erfc", { try erfc($0) }),
        ("sigmoid", { try sigmoid($0) }), ("softplus", { try softplus($0) }), ("log1mexp", { try log1mexp($0) }), ("isnan", { try isnan($0) }),
        ("isinf", { try isinf($0) }), ("not", { try not(gt($0, 0)) }), ("cast to int32", { try cast($0, to: .int32) }),
        ("clip", { try clip($0, -1, 1) }),
    ]

    static let binaryElementwise: [(name: String, build: @Sendable (Variable, Variable) throws -> Variable)] = [
        ("add", { try $0 + $1 }), ("sub", { try $0 - $1 }), ("mul", { try $0 * $1 }), ("true_div", { try $0 / $1 }),
        ("int_div", { try intDiv($0, $1) }), ("mod", { try $0 % $1 }), ("pow", { try pow($0, $1) }),
        ("maximum", { try maximum($0, $1) }), ("minimum", { try minimum($0, $1) }), ("arctan2", { try arctan2($0, $1) }),
        ("eq", { try eq($0, $1) }), ("neq", { try neq($0, $1) }), ("lt", { try lt($0, $1) }), ("le", { try le($0, $1) }),
        ("gt", { try gt($0, $1) }), ("ge", { try ge($0, $1) }), ("and", { try and(gt($0, 0), gt($1, 0)) }),
        ("or", { try or(gt($0, 0), gt($1, 0)) }), ("xor", { try xor(gt($0, 0), gt($1, 0)) }),
    ]

    /// Operand layouts for elementwise broadcasting, checked with `add`.
    static let broadcastLayouts: [(name: String, lhs: ShapeInput, rhs: ShapeInput)] = [
        ("(m, n) with (m, n)", matrix, matrix),
        ("(1, n) broadcastable with (m, n)", broadcastRow, matrix),
        ("(m, n) with (m, 1) broadcastable", matrix, .floats([3, 1], staticShape: [nil, 1])),
        ("(m, 1) with (1, n), both broadcastable", .floats([3, 1], staticShape: [nil, 1]), broadcastRow),
        ("(m, n) with (n,)", matrix, .floats([4])),
        ("scalar with (m, n)", .real(2), matrix),
        ("(m, n) with (m, n) of static sizes", .floats([3, 4], staticShape: [3, 4]), matrix),
    ]

    static let elementwise: [ShapeCase] =
        unaryElementwise.map { op in ShapeCase(op.name, matrix, op.build) }
        + binaryElementwise.map { op in ShapeCase("\(op.name) (m, n) with (1, n)", matrix, broadcastRow, op.build) }
        + broadcastLayouts.map { layout in ShapeCase("add \(layout.name)", layout.lhs, layout.rhs) { try $0 + $1 } }
        + [
            ShapeCase("switch with a broadcast branch", [matrix, broadcastRow, .real(0)]) { try `switch`(gt($0[0], 0), $0[1], $0[2]) },
            ShapeCase("clip to symbolic bounds", [matrix, .real(-1), broadcastRow]) { try clip($0[0], $0[1], $0[2]) },
        ]

    static let linearAlgebra: [ShapeCase] = [
        ShapeCase("dot matrix·matrix", matrix, .floats([4, 5])) { try dot($0, $1) },
        ShapeCase("dot matrix·vector", matrix, .floats([4])) { try dot($0, $1) },
        ShapeCase("dot vector·matrix", .floats([3]), matrix) { try dot($0, $1) },
        ShapeCase("dot vector·vector", .floats([4]), .floats([4])) { try dot($0, $1) },
        ShapeCase("batchedDot", tensor3, .floats([2, 4, 5])) { try batchedDot($0, $1) },
        ShapeCase("dot tensor3·tensor3", tensor3, .floats([5, 4, 2])) { try dot($0, $1) },
        ShapeCase("dot vector·tensor3", .floats([4]), .floats([2, 4, 3])) { try dot($0, $1) },
        ShapeCase("outer of a matrix and a vector", matrix, .floats([2])) { try outer($0, $1) },
        ShapeCase("batchedDot of matrices (rows)", matrix, matrix) { try batchedDot($0, $1) },
        ShapeCase("batchedDot tensor3·tensor4", tensor3, .floats([2, 3, 4, 2])) { try batchedDot($0, $1) },
    ]

    static let reductions: [ShapeCase] = [
        ShapeCase("sum over axis 1", tensor3) { try sum($0, axis: 1) },
        ShapeCase("prod over all axes, keepDims", tensor3) { try prod($0, keepDims: true) },
        ShapeCase("max over axes [0, 2], keepDims", tensor3) { try max($0, axis: [0, 2], keepDims: true) },
        ShapeCase("min over axis -1", tensor3) { try min($0, axis: -1) },
        ShapeCase("all over axis 0", tensor3) { try all($0, axis: 0) },
        ShapeCase("any over axes [1, 2], keepDims", tensor3) { try any($0, axis: [1, 2], keepDims: true) },
        ShapeCase("argmax over axis 1", tensor3) { try argmax($0, axis: 1) },
        ShapeCase("argmin of the flattened tensor, keepDims", tensor3) { try argmin($0, keepDims: true) },
        ShapeCase("argmax of the flattened tensor", tensor3) { try argmax($0) },
    ]

    static let neuralNet: [ShapeCase] = [
        ShapeCase("softmax", matrix) { try softmax($0) },
        ShapeCase("logSoftmax of a 3-d tensor", tensor3) { try logSoftmax($0) },
        ShapeCase("oneHot's check of the labels", .integers([0, 2, 1, 2], shape: [2, 2])) {
            try CheckLabels(classes: 3)([$0], at: .unknown)
        },
    ]

    static let shapeOps: [ShapeCase] = [
        ShapeCase("dimshuffle (1, x, 0)", matrix) { try $0.dimshuffle(1, .newAxis, 0) },
        ShapeCase("transpose [2, 0, 1]", tensor3) { try $0.transpose([2, 0, 1]) },
        ShapeCase("expandDims axis -1", matrix) { try expandDims($0, axis: -1) },
        ShapeCase("squeeze a broadcastable dimension", .floats([3, 1, 4], staticShape: [nil, 1, nil])) { try squeeze($0) },
        ShapeCase("gradient override (identity)", matrix) { try gradScale($0, by: 2) },
        ShapeCase("reshape to constant sizes", tensor3) { try reshape($0, [4, 6]) },
        ShapeCase("reshape with -1", tensor3) { try reshape($0, [-1, 2]) },
        ShapeCase("reshape to symbolic sizes", [tensor3, .size(6), .size(4)]) { try reshape($0[0], sizes: [$0[1], $0[2]]) },
        ShapeCase("reshape to a symbolic size and -1", [tensor3, .size(8)]) { try reshape($0[0], sizes: [$0[1], constant(-1, dtype: .int64)]) },
        ShapeCase("flatten", tensor3) { try flatten($0) },
        ShapeCase("flatten to 2 dimensions", tensor3) { try flatten($0, ndim: 2) },
        ShapeCase("alloc to symbolic sizes", [.floats([4]), .size(3), .size(4)]) { try alloc($0[0], sizes: [$0[1], $0[2]]) },
        ShapeCase("alloc to constant sizes", .real(1.5)) { try alloc($0, shape: [2, 3]) },
        ShapeCase("zerosLike", tensor3) { try zerosLike($0) },
        ShapeCase("arange to a symbolic stop", .size(5)) { try arange($0) },
        ShapeCase("arange to a negative stop", .size(-2)) { try arange($0) },
        ShapeCase("arange with a step", [ShapeInput]()) { _ in try arange(2, 11, step: 3) },
        ShapeCase("arange of float bounds", [.real(0.5), .real(2.25), .real(0.5)]) { bounds in
            try Arange(staticLength: nil).apply(bounds, at: .unknown).output(0)
        },
        ShapeCase("shape", tensor3) { try shape($0) },
        ShapeCase("shape of a scalar", .real(1)) { try shape($0) },
        ShapeCase("shape at axis 1", tensor3) { try $0.dimensionSizes()[1] },
        ShapeCase("concatenate along axis 1", matrix, .floats([3, 2])) { try concatenate([$0, $1], axis: 1) },
        ShapeCase("stack", matrix, matrix) { try stack([$0, $1]) },
        ShapeCase("split along axis 1", matrix) { try split($0, sizes: [1, 3], axis: 1)[1] },
        ShapeCase("repeat by counts along axis 1", matrix, .integers([1, 0, 3, 2])) { try `repeat`($0, counts: $1, axis: 1) },
    ]

    static let indexing: [ShapeCase] = [
        ShapeCase("subtensor rows 1..<3", matrix) { try $0[1..<3] },
        ShapeCase("subtensor reversed with step -2", matrix) { try $0[TensorIndex.stride(by: -2)] },
        ShapeCase("subtensor at index -1", tensor3) { try $0[-1] },
        ShapeCase("subtensor of columns (-3)...", matrix) { try $0[.all, (-3)...] },
        ShapeCase("subtensor clamped past the end", matrix) { try $0[1, 2..<9] },
        ShapeCase("subtensor with a new axis", matrix) { try $0[.newAxis, 1..<3] },
        ShapeCase("subtensor at a symbolic index", tensor3, .size(1)) { try $0[$1] },
        ShapeCase("subtensor with symbolic start, stop and step", [tensor3, .size(1), .size(3), .size(-1), .size(3)]) { inputs in
            let entries: [SubtensorEntry] = [.index(.symbolic), .slice(.symbolic, .none, .symbolic), .slice(.constant(1), .symbolic, .none)]
            return try Subtensor(entries: entries).apply(inputs, at: .unknown).output(0)
        },
        ShapeCase("setSubtensor of rows 1..<3", matrix, broadcastRow) { try setSubtensor($0[1..<3], $1) },
        ShapeCase("incSubtensor at a symbolic index", [matrix, .floats([4]), .size(-1)]) { try incSubtensor($0[0][$0[2]], $0[1]) },
        ShapeCase("advanced x[arange(n), labels]", matrix, .integers([0, 3, 1])) { try $0[arange(shape($0)[0]), $1] },
        ShapeCase("advanced gather of one column at given rows", matrix, .integers([2, 2, 0, 1])) { try $0[$1, -1] },
        ShapeCase("advanced gather with a 2-d index", matrix, .integers([0, 2, 2, 1], shape: [2, 2])) { try $0[$1] },
        ShapeCase("advanced gather with broadcast indices", [tensor3, .integers([0, 1], shape: [2, 1], staticShape: [nil, 1]),
                                                             .integers([2, 0, 1], shape: [1, 3], staticShape: [1, nil])]) {
            try $0[0][$0[1], $0[2]]
        },
        ShapeCase("boolean mask", matrix) { try $0[gt($0, 0)] },
        ShapeCase("advanced incSubtensor of repeated rows", [matrix, .floats([3, 4]), .integers([2, 0, 2])]) {
            try incSubtensor($0[0][$0[2]], $0[1])
        },
        ShapeCase("advanced setSubtensor of x[arange(n), labels]", [matrix, .floats([3]), .integers([3, 0, 1])]) {
            try setSubtensor($0[0][arange(0, 3), $0[2]], $0[1])
        },
    ]

    static let allCases = elementwise + linearAlgebra + reductions + neuralNet + shapeOps + indexing

    /// Every op type that conforms to `ShapeInferringOp`; the table must exercise each.
    static let shapeInferringOps: [any ShapeInferringOp.Type] = [
        Add.self, Subtract.self, Multiply.self, Divide.self, FloorDivide.self, Remainder.self, Power.self,
        Maximum.self, Minimum.self, Negate.self, Cast.self, Equal.self, NotEqual.self, Less.self, LessEqual.self,
        Greater.self, GreaterEqual.self, IsNaN.self, IsInf.self, Exp.self, ExpMinusOne.self, Log.self,
        LogOnePlus.self, Log2.self, Log10.self, SquareRoot.self, Square.self, Reciprocal.self, BitwiseBinary.self,
        Invert.self, Absolute.self, Sign.self, Floor.self, Ceil.self, Round.self, Erf.self, Erfc.self,
        Sigmoid.self, Softplus.self, LogOneMinusExp.self, Switch.self, Clip.self, Sin.self, Cos.self, Tan.self, ArcSin.self, ArcCos.self,
        ArcTan.self, Sinh.self, Cosh.self, Tanh.self, ArcTan2.self,
        Dot.self, BatchedDot.self, Reduce.self, ArgExtremum.self, Softmax.self, LogSoftmax.self, CheckLabels.self,
        DimShuffle.self, Reshape.self, Alloc.self, Arange.self, Shape.self, ShapeAt.self, Join.self, Split.self,
        Subtensor.self, IncSubtensor.self, AdvancedSubtensor.self, AdvancedIncSubtensor.self, GradientOverride.self,
    ]
}

@Suite struct ShapeInferenceTests {
    /// The node `testCase` builds from symbolic inputs of unknown shape.
    private func buildNode(_ testCase: ShapeCase) throws -> (inputs: [Variable], node: Apply) {
        let inputs = testCase.inputs.enumerated().map { index, input in
            tensor("input\(index)", dtype: input.value.dtype, shape: input.staticShape)
        }
        let node = try #require(try testCase.build(inputs).owner, "the case must build a node")
        return (inputs, node)
    }

    @Test(arguments: ShapeCases.allCases)
    func inferredShapeMatchesComputedShape(_ testCase: ShapeCase) throws {
        let (inputs, node) = try buildNode(testCase)
        let op = try #require(node.op as? any ShapeInferringOp, "\(node.op) does not infer shapes")
        let inputShapes = try node.inputs.map { try $0.dimensionSizes() }
        let inferred = try op.inferShape(node, inputShapes: inputShapes)
        try #require(inferred.map(\.count) == node.outputs.map(\.ndim), "one size per output dimension")

        let sizes = inferred.flatMap { $0 }
        let results = try function(inputs: inputs, outputs: sizes + node.outputs)(testCase.inputs.map(\.value))
        var sizeValues = results.prefix(sizes.count).map { Int($0.scalar(as: Int64.self)) }[...]
        let inferredShapes = inferred.map { shape in
            defer { sizeValues = sizeValues.dropFirst(shape.count) }
            return Array(sizeValues.prefix(shape.count))
        }
        let computedShapes = results.dropFirst(sizes.count).map(\.shape)
        #expect(inferredShapes == computedShapes, "\(node.op)")
    }

    @Test func everyShapeInferringOpIsExercised() throws {
        let exercised = try Set(ShapeCases.allCases.map { ObjectIdentifier(type(of: try buildNode($0).node.op)) })
        let missing = ShapeCases.shapeInferringOps.filter { !exercised.contains(ObjectIdentifier($0)) }
        #expect(missing.isEmpty, "no case for \(missing)")
    }
}
