import Testing
import Theano
import TheanoTestSupport

// MARK: - Inputs

/// How one float64 input of a gradient check is drawn. Each distribution keeps the values
/// away from the points where the op under test is not differentiable.
struct GradientInput: Sendable {
    enum Distribution: Sendable {
        /// Uniform over the range.
        case uniform(ClosedRange<Double>)
        /// Magnitudes uniform over the range with random signs: never near zero.
        case awayFromZero(ClosedRange<Double>)
        /// A shuffled grid of values 0.25 apart: no ties for max, min and argmax.
        case distinct
        /// Uniform over the range, except that every third element (row-major) is exactly
        /// zero: the special case of prod's gradient.
        case withZeros(ClosedRange<Double>)
    }

    let shape: [Int]
    let distribution: Distribution

    static func uniform(_ shape: [Int], _ range: ClosedRange<Double> = -2...2) -> Self { Self(shape: shape, distribution: .uniform(range)) }
    /// Values in [0.5, 2]: safe for log, sqrt, division and prod.
    static func positive(_ shape: [Int]) -> Self { Self(shape: shape, distribution: .uniform(0.5...2)) }
    static func awayFromZero(_ shape: [Int], _ magnitudes: ClosedRange<Double> = 0.2...2) -> Self {
        Self(shape: shape, distribution: .awayFromZero(magnitudes))
    }
    static func distinct(_ shape: [Int]) -> Self { Self(shape: shape, distribution: .distinct) }

    func sample(using random: inout RandomState) -> NDArray {
        let count = shape.reduce(1, *)
        switch distribution {
        case .uniform(let range):
            return NDArray.uniform(shape, low: range.lowerBound, high: range.upperBound, dtype: .float64, using: &random)
        case .awayFromZero(let range):
            let magnitudes = NDArray.uniform(shape, low: range.lowerBound, high: range.upperBound, dtype: .float64, using: &random)
            let signed = magnitudes.elements(as: Double.self).map { random.nextUnit() < 0.5 ? -$0 : $0 }
            return NDArray(signed, shape: shape)
        case .distinct:
            let grid = (0..<count).map { 0.25 * Double($0) - 0.125 * Double(count) }
            return NDArray(grid.shuffled(using: &random), shape: shape)
        case .withZeros(let range):
            let values = NDArray.uniform(shape, low: range.lowerBound, high: range.upperBound, dtype: .float64, using: &random)
            let zeroed = values.elements(as: Double.self).enumerated().map { $0 % 3 == 0 ? 0 : $1 }
            return NDArray(zeroed, shape: shape)
        }
    }
}

/// Finite-difference settings for `verifyGrad`.
struct GradientTolerance: Sendable {
    let step: Double, absolute: Double, relative: Double

    static let float64 = GradientTolerance(step: 1e-6, absolute: 1e-6, relative: 1e-5)
    /// For graphs that round through float32: a larger step so rounding stays small
    /// against the difference.
    static let float32 = GradientTolerance(step: 1e-3, absolute: 1e-3, relative: 1e-3)
}

// MARK: - Cases

/// One gradient check: a graph built from float64 inputs drawn as `inputs` describes (the
/// arity is `inputs.count`).
struct GradientCase: Sendable, CustomTestStringConvertible {
    typealias Builder = @Sendable ([Variable]) throws -> Variable

    let name: String
    let inputs: [GradientInput]
    var tolerance = GradientTolerance.float64
    let build: Builder

    var testDescription: String { name }

    static func unary(_ name: String, _ input: GradientInput, tolerance: GradientTolerance = .float64,
                      _ build: @escaping @Sendable (Variable) throws -> Variable) -> Self {
        Self(name: name, inputs: [input], tolerance: tolerance) { try build($0[0]) }
    }

    static func binary(_ name: String, _ lhs: GradientInput, _ rhs: GradientInput,
                       _ build: @escaping @Sendable (Variable, Variable) throws -> Variable) -> Self {
        Self(name: name, inputs: [lhs, rhs]) { try build($0[0], $0[1]) }
    }

    static func ternary(_ name: String, _ first: GradientInput, _ second: GradientInput, _ third: GradientInput,
                        _ build: @escaping @Sendable (Variable, Variable, Variable) throws -> Variable) -> Self {
        Self(name: name, inputs: [first, second, third]) { try build($0[0], $0[1], $0[2]) }
    }
}

/// A binary elementwise op with the distributions of its operands; it is checked on every
/// operand layout of `GradientCases.operandLayouts`.
struct BinaryElementwiseOp: Sendable {
    let name: String
    let lhs: GradientInput.Distribution, rhs: GradientInput.Distribution
    let build: @Sendable (Variable, Variable) throws -> Variable
}

/// A reduction checked over every axis choice of `GradientCases.reductionAxes`, with and
/// without `keepDims`.
struct ReductionOp: Sendable {
    let name: String
    let distribution: GradientInput.Distribution
    let build: @Sendable (Variable, Axes, Bool) throws -> Variable
}

/// The table of gradient checks.
enum GradientCases {
    static let matrix = [3, 4]
    static let tensor3 = [2, 3, 4]
    static let indexed = [5, 6]

    /// Constant integer operands captured by builders.
    static let rowLabels = NDArray([0, 5, 2, 2, 1] as [Int64])
    static let repeatedRows = NDArray([0, 3, 0, 4, 3] as [Int64])
    /// Rows 3 and 4 named from the end, repeated: -2 and 3 are the same row.
    static let negativeRows = NDArray([-1, -2, 3, 0, -1] as [Int64])
    static let distinctRows = NDArray([4, 0, 2] as [Int64])
    static let threeRows = NDArray([2, 0, 1] as [Int64])
    static let classLabels = NDArray([1, 4, 0] as [Int64])
    /// Counts for `repeat` of a matrix's columns (one dropped, one copied thrice) and of the
    /// six elements of a flattened (2, 3) tensor.
    static let columnCounts = NDArray([2, 0, 1, 3] as [Int64])
    static let elementCounts = NDArray([1, 0, 2, 1, 3, 0] as [Int8])

    static let unaryElementwise: [GradientCase] = [
        .unary("neg", .uniform(matrix)) { try -$0 },
        .unary("abs", .awayFromZero(matrix)) { try abs($0) },
        .unary("exp", .uniform(matrix)) { try exp($0) },
        .unary("expm1", .uniform(matrix)) { try expm1($0) },
        .unary("log", .positive(matrix)) { try log($0) },
        .unary("log1p", .uniform(matrix, -0.5...2)) { try log1p($0) },
        .unary("log2", .positive(matrix)) { try log2($0) },
        .unary("log10", .positive(matrix)) { try log10($0) },
        .unary("sqrt", .positive(matrix)) { try sqrt($0) },
        .unary("sqr", .uniform(matrix)) { try sqr($0) },
        .unary("reciprocal", .awayFromZero(matrix, 0.5...2)) { try reciprocal($0) },
        .unary("sin", .uniform(matrix)) { try sin($0) },
        .unary("cos", .uniform(matrix)) { try cos($0) },
        .unary("tan", .uniform(matrix, -1...1)) { try tan($0) },
        .unary("tanh", .uniform(matrix)) { try tanh($0) },
        .unary("sinh", .uniform(matrix)) { try sinh($0) },
        .unary("cosh", .uniform(matrix)) { try cosh($0) },
        .unary("arcsin", .uniform(matrix, -0.9...0.9)) { try arcsin($0) },
        .unary("arccos", .uniform(matrix, -0.9...0.9)) { try arccos($0) },
        .unary("arctan", .uniform(matrix)) { try arctan($0) },
        .unary("erf", .uniform(matrix)) { try erf($0) },
        .unary("erfc", .uniform(matrix)) { try erfc($0) },
        .unary("sigmoid", .uniform(matrix, -4...4)) { try sigmoid($0) },
        .unary("softplus", .uniform(matrix, -4...4)) { try softplus($0) },
        .unary("log1mexp", .uniform(matrix, -4...(-0.05))) { try log1mexp($0) },
        .unary("relu", .awayFromZero(matrix)) { try relu($0) },
        .unary("pow with a constant exponent", .positive(matrix)) { try pow($0, 2.5) },
        .unary("mod by a constant", .positive(matrix)) { try $0 % 0.7 },
        .unary("clip to constant bounds", .uniform(matrix)) { try clip($0, -1, 1) },
        .unary("cast float64 to float32", .uniform(matrix), tolerance: .float32) { try cast($0, to: .float32) },
        .unary("cast float64 to float32 and back", .uniform(matrix), tolerance: .float32) {
            try cast(cast($0, to: .float32), to: .float64)
        },
    ]

    /// Any value in [-2, 2].
    static let real = GradientInput.Distribution.uniform(-2...2)

    static let binaryOps: [BinaryElementwiseOp] = [
        BinaryElementwiseOp(name: "add", lhs: real, rhs: real) { try $0 + $1 },
        BinaryElementwiseOp(name: "sub", lhs: real, rhs: real) { try $0 - $1 },
        BinaryElementwiseOp(name: "mul", lhs: real, rhs: real) { try $0 * $1 },
        BinaryElementwiseOp(name: "true_div", lhs: real, rhs: .awayFromZero(0.5...2)) { try $0 / $1 },
        BinaryElementwiseOp(name: "mod", lhs: .uniform(0.5...3), rhs: .uniform(0.7...1.3)) { try $0 % $1 },
        BinaryElementwiseOp(name: "pow", lhs: .uniform(0.5...2), rhs: real) { try pow($0, $1) },
        BinaryElementwiseOp(name: "maximum", lhs: real, rhs: real) { try maximum($0, $1) },
        BinaryElementwiseOp(name: "minimum", lhs: real, rhs: real) { try minimum($0, $1) },
        BinaryElementwiseOp(name: "arctan2", lhs: .awayFromZero(0.2...2), rhs: .awayFromZero(0.2...2)) { try arctan2($0, $1) },
    ]

    /// Operand shapes for binary ops: equal shapes, and each way one operand broadcasts.
    static let operandLayouts: [(name: String, lhs: [Int], rhs: [Int])] = [
        ("(m, n) with (m, n)", [3, 4], [3, 4]),
        ("(1, n) with (m, n)", [1, 4], [3, 4]),
        ("(m, n) with (m, 1)", [3, 4], [3, 1]),
        ("(m, n) with (n,)", [3, 4], [4]),
        ("scalar with (m, n)", [], [3, 4]),
    ]

    static let binaryElementwise: [GradientCase] = binaryOps.flatMap { op in
        operandLayouts.map { layout in
            GradientCase.binary("\(op.name) \(layout.name)", GradientInput(shape: layout.lhs, distribution: op.lhs),
                                GradientInput(shape: layout.rhs, distribution: op.rhs), op.build)
        }
    }

    /// Elementwise cases beyond the tables above: signs, conditions, bounds.
    static let otherElementwise: [GradientCase] = [
        .binary("mod with mixed signs", .uniform(matrix, -3...3), .awayFromZero(matrix, 0.7...1.3)) { try $0 % $1 },
        .unary("pow of negative bases to the constant exponent 3", .uniform(matrix)) { try pow($0, 3) },
        .ternary("switch", .awayFromZero(matrix), .uniform(matrix), .uniform(matrix)) { try `switch`(gt($0, 0), $1, $2) },
        .ternary("switch with a (1, n) and a scalar branch", .awayFromZero(matrix), .uniform([1, 4]), .uniform([])) {
            try `switch`(gt($0, 0), $1, $2)
        },
        .ternary("clip to symbolic bounds (scalar low, (1, n) high)", .uniform(matrix), .uniform([], -1...(-0.5)), .uniform([1, 4], 0.5...1)) {
            try clip($0, $1, $2)
        },
    ]

    static let reductionOps: [ReductionOp] = [
        ReductionOp(name: "sum", distribution: real) { try sum($0, axis: $1, keepDims: $2) },
        ReductionOp(name: "prod", distribution: .uniform(0.5...1.5)) { try prod($0, axis: $1, keepDims: $2) },
        ReductionOp(name: "prod with zeros", distribution: .withZeros(-1.5...1.5)) { try prod($0, axis: $1, keepDims: $2) },
        ReductionOp(name: "max", distribution: .distinct) { try max($0, axis: $1, keepDims: $2) },
        ReductionOp(name: "min", distribution: .distinct) { try min($0, axis: $1, keepDims: $2) },
        ReductionOp(name: "mean", distribution: real) { try mean($0, axis: $1, keepDims: $2) },
        ReductionOp(name: "var", distribution: real) { try `var`($0, axis: $1, keepDims: $2) },
        ReductionOp(name: "std", distribution: real) { try std($0, axis: $1, keepDims: $2) },
        ReductionOp(name: "logsumexp", distribution: real) { try logsumexp($0, axis: $1, keepDims: $2) },
    ]

    static let reductionVariants: [GradientCase] = [
        .unary("var with ddof 1 over axis 0", .uniform(tensor3)) { try `var`($0, axis: 0, ddof: 1) },
        .unary("std with ddof 1 over all axes", .uniform(tensor3)) { try std($0, ddof: 1) },
        .unary("sum over no axes", .uniform(matrix)) { try sum($0, axis: Axes([])) },
    ]

    static let reductionAxes: [(name: String, axes: Axes)] = [
        ("all axes", .all), ("axis 1", 1), ("axis -1", -1), ("axes [0, 2]", [0, 2]),
    ]

    static let reductions: [GradientCase] = reductionOps.flatMap { op in
        reductionAxes.flatMap { choice in
            [false, true].map { keepDims in
                GradientCase.unary("\(op.name) over \(choice.name)\(keepDims ? ", keepDims" : "")",
                                   GradientInput(shape: tensor3, distribution: op.distribution)) {
                    try op.build($0, choice.axes, keepDims)
                }
            }
        }
    }

    static let linearAlgebra: [GradientCase] = [
        .binary("dot vector·vector", .uniform([4]), .uniform([4])) { try dot($0, $1) },
        .binary("dot matrix·vector", .uniform([3, 4]), .uniform([4])) { try dot($0, $1) },
        .binary("dot vector·matrix", .uniform([4]), .uniform([4, 5])) { try dot($0, $1) },
        .binary("dot matrix·matrix", .uniform([3, 4]), .uniform([4, 5])) { try dot($0, $1) },
        .binary("dot of a broadcastable (1, n) row", .uniform([1, 4]), .uniform([4, 5])) { try dot($0, $1) },
        .binary("dot of a transposed matrix", .uniform([4, 3]), .uniform([4, 5])) { try dot($0.T, $1) },
        .binary("outer", .uniform([3]), .uniform([4])) { try outer($0, $1) },
        .binary("batchedDot", .uniform(tensor3), .uniform([2, 4, 5])) { try batchedDot($0, $1) },
        .binary("tensordot over the last 2 axes", .uniform(tensor3), .uniform([3, 4, 5])) { try tensordot($0, $1) },
        .binary("tensordot over paired axes", .uniform(tensor3), .uniform([4, 2, 5])) { try tensordot($0, $1, axes: (a: [0, 2], b: [1, 0])) },
        .binary("dot tensor3·tensor3", .uniform(tensor3), .uniform([2, 4, 3])) { try dot($0, $1) },
        .binary("dot vector·tensor3", .uniform([4]), .uniform([2, 4, 3])) { try dot($0, $1) },
        .binary("dot tensor3·vector", .uniform(tensor3), .uniform([4])) { try dot($0, $1) },
        .binary("dot matrix·tensor4 with a size-1 axis", .uniform([3, 4]), .uniform([2, 1, 4, 2])) { try dot($0, $1) },
        .binary("dot of a transposed tensor3", .uniform([4, 3, 2]), .uniform([2, 4, 3])) { try dot($0.transpose([2, 1, 0]), $1) },
        .binary("outer of a matrix and a vector", .uniform([2, 3]), .uniform([4])) { try outer($0, $1) },
        .binary("outer of a scalar and a tensor3", .uniform([]), .uniform(tensor3)) { try outer($0, $1) },
        .binary("batchedDot of matrices: dot products of rows", .uniform(matrix), .uniform(matrix)) { try batchedDot($0, $1) },
        .binary("batchedDot tensor3·matrix", .uniform(tensor3), .uniform([2, 4])) { try batchedDot($0, $1) },
        .binary("batchedDot matrix·tensor3", .uniform([2, 3]), .uniform(tensor3)) { try batchedDot($0, $1) },
        .binary("batchedDot tensor4·tensor3", .uniform([2, 2, 3, 4]), .uniform([2, 4, 3])) { try batchedDot($0, $1) },
        .binary("batchedDot tensor3·tensor4", .uniform(tensor3), .uniform([2, 2, 4, 3])) { try batchedDot($0, $1) },
        .binary("batchedDot of a sliced stack", .uniform([4, 3, 4]), .uniform([2, 4, 2])) { try batchedDot($0[TensorIndex.stride(by: 2)], $1) },
    ]

    static let shapeOps: [GradientCase] = [
        .unary("dimshuffle (2, x, 0, 1)", .uniform(tensor3)) { try $0.dimshuffle(2, .newAxis, 0, 1) },
        .unary("dimshuffle dropping a broadcastable dimension", .uniform([3, 1, 4])) { try $0.dimshuffle(2, 0) },
        .unary("dimshuffle dropping one dimension and adding another", .uniform([3, 1, 4])) { try $0.dimshuffle(.newAxis, 2, 0) },
        .unary("transpose .T", .uniform(matrix)) { try $0.T },
        .unary("transpose [1, 2, 0]", .uniform(tensor3)) { try $0.transpose([1, 2, 0]) },
        .unary("reshape to [4, 6]", .uniform(tensor3)) { try reshape($0, [4, 6]) },
        .unary("reshape with -1", .uniform(tensor3)) { try $0.reshape([-1, 2]) },
        .unary("reshape to symbolic sizes", .uniform(matrix)) { try reshape($0, sizes: [shape($0)[1], shape($0)[0]]) },
        .unary("flatten", .uniform(tensor3)) { try flatten($0) },
        .unary("flatten to 2 dimensions", .uniform(tensor3)) { try flatten($0, ndim: 2) },
        .unary("squeeze", .uniform([3, 1, 4])) { try squeeze($0) },
        .unary("squeeze axis 1", .uniform([3, 1, 4])) { try squeeze($0, axis: 1) },
        .unary("expandDims axis 0", .uniform(matrix)) { try expandDims($0, axis: 0) },
        .unary("expandDims axis -1", .uniform(matrix)) { try expandDims($0, axis: -1) },
        .unary("alloc (n,) to (m, n)", .uniform([4])) { try alloc($0, shape: [3, 4]) },
        .unary("alloc (1, n) to (m, n)", .uniform([1, 4])) { try alloc($0, shape: [3, 4]) },
        .unary("alloc (m, 1) to (m, n)", .uniform([3, 1])) { try alloc($0, shape: [3, 4]) },
        .unary("alloc scalar to (m, n)", .uniform([])) { try alloc($0, shape: [2, 3]) },
        .binary("concatenate along axis 1", .uniform([3, 2]), .uniform(matrix)) { try concatenate([$0, $1], axis: 1) },
        .binary("stack on a new axis 1", .uniform(matrix), .uniform(matrix)) { try stack([$0, $1], axis: 1) },
        .unary("split with one piece unused", .uniform(matrix)) { try split($0, sizes: [1, 3], axis: 1)[1] },
        .unary("split pieces rejoined in reverse", .uniform(matrix)) { try concatenate(split($0, sizes: [2, 2], axis: 1).reversed(), axis: 1) },
        .unary("repeat along axis 0", .uniform(matrix)) { try `repeat`($0, 2, axis: 0) },
        .unary("repeat of the flattened tensor", .uniform(matrix)) { try `repeat`($0, 3) },
        .unary("tile adding a leading dimension", .uniform(matrix)) { try tile($0, [2, 1, 3]) },
        .unary("repeat by counts along axis 1", .uniform(matrix)) { try `repeat`($0, counts: constant(columnCounts), axis: 1) },
        .unary("repeat by counts of the flattened tensor", .uniform([2, 3])) { try `repeat`($0, counts: constant(elementCounts)) },
        .unary("repeat by a single count along axis -1", .uniform(tensor3)) { try `repeat`($0, counts: constant(NDArray([2] as [Int32])), axis: -1) },
    ]

    static let indexing: [GradientCase] = [
        .unary("subtensor rows 1..<4", .uniform(indexed)) { try $0[1..<4] },
        .unary("subtensor with step 2", .uniform(indexed)) { try $0[TensorIndex.stride(by: 2), 1..<5] },
        .unary("subtensor reversed (step -1)", .uniform(indexed)) { try $0[TensorIndex.stride(by: -1)] },
        .unary("subtensor from -1 down by -2", .uniform(indexed)) { try $0[.all, TensorIndex.stride(from: -1, to: 0, by: -2)] },
        .unary("subtensor at index -1", .uniform(indexed)) { try $0[-1] },
        .unary("subtensor -4..<-1 of columns", .uniform(indexed)) { try $0[.all, (-4)..<(-1)] },
        .unary("subtensor (-3)... of rows", .uniform(indexed)) { try $0[(-3)...] },
        .unary("subtensor element [1, -2]", .uniform(indexed)) { try $0[1, -2] },
        .unary("subtensor with a new axis", .uniform(indexed)) { try $0[.newAxis, 1..<3] },
        .unary("subtensor clamped past the end", .uniform(indexed)) { try $0[3..<9] },
        .unary("advanced x[arange(n), labels]", .uniform(indexed)) { try $0[arange(shape($0)[0]), constant(rowLabels)] },
        .unary("advanced row gather with repeated rows", .uniform(indexed)) { try $0[constant(repeatedRows)] },
        .unary("advanced row gather with negative rows", .uniform(indexed)) { try $0[constant(negativeRows)] },
        .unary("advanced gather with a 2-d index", .uniform(indexed)) { try $0[constant(repeatedRows.reshaped([1, 5]))] },
        .unary("advanced gather of one column at repeated rows", .uniform(indexed)) { try $0[constant(repeatedRows), -2] },
        .unary("subtensor at the symbolic index argmax(x)", .distinct([6])) { try $0[argmax($0)] },
        .unary("boolean mask x[x > 0]", .awayFromZero(indexed)) { try $0[gt($0, 0)] },
        .binary("setSubtensor of a row slice", .uniform(indexed), .uniform([2, 6])) { try setSubtensor($0[1..<3], $1) },
        .binary("setSubtensor of a slice with (1, n) values", .uniform(indexed), .uniform([1, 6])) { try setSubtensor($0[1..<3], $1) },
        .binary("setSubtensor of a column with a scalar", .uniform(indexed), .uniform([])) { try setSubtensor($0[.all, 2], $1) },
        .binary("incSubtensor of every other row", .uniform(indexed), .uniform([3, 6])) { try incSubtensor($0[TensorIndex.stride(by: 2)], $1) },
        .binary("incSubtensor at index -2", .uniform(indexed), .uniform([6])) { try incSubtensor($0[-2], $1) },
        .binary("advanced setSubtensor of distinct rows", .uniform(indexed), .uniform([3, 6])) {
            try setSubtensor($0[constant(distinctRows)], $1)
        },
        .binary("advanced incSubtensor of repeated rows", .uniform(indexed), .uniform([5, 6])) {
            try incSubtensor($0[constant(repeatedRows)], $1)
        },
        .binary("advanced incSubtensor of negative rows", .uniform(indexed), .uniform([5, 6])) {
            try incSubtensor($0[constant(negativeRows)], $1)
        },
        .binary("advanced incSubtensor with (n,) values broadcast over rows", .uniform(indexed), .uniform([6])) {
            try incSubtensor($0[constant(repeatedRows)], $1)
        },
        .binary("advanced incSubtensor x[arange(n), labels]", .uniform(indexed), .uniform([5])) {
            try incSubtensor($0[arange(0, 5), constant(rowLabels)], $1)
        },
    ]

    static let neuralNet: [GradientCase] = [
        .unary("softmax of a matrix", .uniform([3, 5])) { try softmax($0) },
        .unary("softmax of a vector", .uniform([5])) { try softmax($0) },
        .unary("logSoftmax of a matrix", .uniform([3, 5])) { try logSoftmax($0) },
        .unary("logSoftmax of a 3-d tensor", .uniform(tensor3)) { try logSoftmax($0) },
        .unary("softmax along the first axis of a matrix", .uniform([3, 5])) { try softmax($0, axis: 0) },
        .unary("softmax along the middle axis of a 3-d tensor", .uniform(tensor3)) { try softmax($0, axis: 1) },
        .unary("logSoftmax along the first axis of a 3-d tensor", .uniform(tensor3)) { try logSoftmax($0, axis: -3) },
        .unary("categoricalCrossentropy with classes along the first axis", .uniform([5, 3])) { x in
            try -log(softmax(x, axis: 0)[constant(classLabels), arange(0, 3)])
        },
        .unary("categoricalCrossentropy with integer labels", .uniform([3, 5])) {
            try categoricalCrossentropy(softmax($0), constant(classLabels))
        },
        .unary("categoricalCrossentropy with one-hot targets", .uniform([3, 5])) {
            try categoricalCrossentropy(softmax($0), oneHot(constant(classLabels), classes: 5, dtype: .float64))
        },
        .binary("categoricalCrossentropy w.r.t. probabilities and targets", .positive([3, 5]), .uniform([3, 5], 0...1)) {
            try categoricalCrossentropy($0, $1)
        },
        .binary("binaryCrossentropy w.r.t. probabilities and targets", .uniform(matrix, 0.1...0.9), .uniform(matrix, 0...1)) {
            try binaryCrossentropy($0, $1)
        },
        .unary("leaky relu with alpha 0.1", .awayFromZero(matrix)) { try relu($0, alpha: 0.1) },
        .unary("leaky relu with alpha -0.5", .awayFromZero(matrix)) { try relu($0, alpha: -0.5) },
        .binary("leaky relu w.r.t. x and a row of slopes", .awayFromZero(matrix), .uniform([4], 0...1)) { try relu($0, alpha: $1) },
        .binary("leaky relu of a column with a (1, n) row of slopes", .awayFromZero([3, 1]), .uniform([1, 4], 0...1)) {
            try relu($0, alpha: $1)
        },
        .unary("binaryCrossentropy of sigmoid", .uniform(matrix)) {
            try binaryCrossentropy(sigmoid($0), constant(binaryTargets))
        },
    ]

    /// Fixed targets in [0, 1) for a binary cross-entropy case.
    static let binaryTargets: NDArray = {
        var random = RandomState(seed: 3)
        return NDArray.uniform(matrix, dtype: .float64, using: &random)
    }()

    /// Gradients of gradients: each builder returns a first-order gradient.
    static let secondOrder: [GradientCase] = [
        .unary("second order: grad of sum(x³)", .uniform([4])) { try grad(sum(pow($0, 3)), wrt: [$0])[0] },
        .unary("second order: grad of sum(tanh(x))", .uniform([4])) { try grad(sum(tanh($0)), wrt: [$0])[0] },
        .unary("second order: grad of softmax cross-entropy", .uniform([3, 5])) { x in
            try grad(sum(categoricalCrossentropy(softmax(x), constant(classLabels))), wrt: [x])[0]
        },
        .unary("second order: grad of prod(x)", .positive([4])) { try grad(prod($0), wrt: [$0])[0] },
        .unary("second order: grad of prod(x) with one zero", GradientInput(shape: [3], distribution: .withZeros(0.5...2))) {
            try grad(prod($0), wrt: [$0])[0]
        },
        .unary("second order: grad of prod(x) with two zeros", GradientInput(shape: [4], distribution: .withZeros(0.5...2))) {
            try grad(prod($0), wrt: [$0])[0]
        },
        .unary("second order: grad of logsumexp over axis 1", .uniform(matrix)) { try grad(sum(logsumexp($0, axis: 1)), wrt: [$0])[0] },
        .unary("second order: grad of a gather with repeated rows", .uniform(indexed)) {
            try grad(sum(sqr($0[constant(repeatedRows)])), wrt: [$0])[0]
        },
        .binary("second order: grad of sum(tanh(dot(x, W))) w.r.t. W", .uniform([3, 4]), .uniform([4, 2])) { x, w in
            try grad(sum(tanh(dot(x, w))), wrt: [w])[0]
        },
    ]

    /// A (1, n) first input meeting an (m, n) second one, for graphs where both are declared
    /// of unknown shape.
    static let runtimeStretch: [GradientCase] = [
        .binary("add", .uniform([1, 4]), .uniform(matrix)) { try $0 + $1 },
        .binary("alloc", .uniform([1, 4]), .uniform(matrix)) { try alloc($0, sizes: [shape($1)[0], shape($1)[1]]) },
        .binary("incSubtensor values", .uniform([1, 4]), .uniform(matrix)) { try incSubtensor($1[0..<3], $0) },
        .binary("advanced incSubtensor values", .uniform([1, 4]), .uniform(matrix)) { try incSubtensor($1[constant(threeRows)], $0) },
    ]

    static let allCases = unaryElementwise + binaryElementwise + otherElementwise + reductions + reductionVariants
        + linearAlgebra + shapeOps + indexing + neuralNet + secondOrder
}

// MARK: - Tests

@Suite struct GradientTests {
    @Test(arguments: GradientCases.allCases)
    func gradientMatchesFiniteDifferences(_ testCase: GradientCase) throws {
        var random = RandomState(seed: 11)
        let point = testCase.inputs.map { $0.sample(using: &random) }
        let tolerance = testCase.tolerance
        try verifyGrad(testCase.build, at: point, step: tolerance.step,
                       absoluteTolerance: tolerance.absolute, relativeTolerance: tolerance.relative)
    }

    /// Broadcasting is decided by static types (Documentation/Design.md): a size-1 dimension
    /// whose static size is unknown does not stretch at run time, the shapes must match, so
    /// the pullback never has to sum over a dimension it cannot see. Each case offers a
    /// (1, n) value for its first input, declared of unknown shape, against an (m, n) one.
    @Test(arguments: GradientCases.runtimeStretch)
    func sizeOneDimensionOfUnknownStaticSizeDoesNotStretch(_ testCase: GradientCase) throws {
        let inputs = testCase.inputs.map { tensor(dtype: .float64, shape: $0.shape.map { _ in nil }) }
        let gradient = try grad(sum(testCase.build(inputs)), wrt: [inputs[0]])[0]
        let compiled = try function(inputs: inputs, outputs: [gradient])
        var random = RandomState(seed: 11)
        let point = testCase.inputs.map { $0.sample(using: &random) }
        do {
            let stretchedGradient = try compiled(point)[0]
            Issue.record("a \(point[0].shape) operand of unknown static shape was stretched at run time; its gradient has shape \(stretchedGradient.shape)")
        } catch is TheanoError {}
    }

    // MARK: Helpers

    /// Runs `outputs` on `arguments` for the free `inputs`.
    private func evaluate(_ outputs: [Variable], inputs: [Variable], _ arguments: NDArray...) throws -> [NDArray] {
        try function(inputs: inputs, outputs: outputs)(arguments)
    }

    /// A vector with negative, fractional and positive values.
    private let sample = NDArray([-1.5, -0.5, 0.25, 2] as [Double])

    /// `values` mapped elementwise, as a float64 array of their shape.
    private func expected(_ values: NDArray, _ transform: (Double) -> Double) -> NDArray {
        NDArray(values.elements(as: Double.self).map(transform), shape: values.shape)
    }

    // MARK: The grad API

    @Test func nonScalarCostThrows() throws {
        let x = vector("x", dtype: .float64)
        let error = try #require(throws: TheanoError.self) { try grad(x * 2, wrt: [x]) }
        let isNonScalarCost = if case .nonScalarCost = error { true } else { false }
        #expect(isNonScalarCost, "got \(error)")
    }

    @Test func disconnectedInputRaisesByDefault() throws {
        let (x, unused) = (vector("x", dtype: .float64), vector("unused", dtype: .float64))
        let error = try #require(throws: TheanoError.self) { try grad(sum(x), wrt: [unused]) }
        let isDisconnected = if case .disconnectedInput = error { true } else { false }
        #expect(isDisconnected, "got \(error)")
    }

    @Test func disconnectedInputGivesZerosWhenAsked() throws {
        let (x, unused) = (vector("x", dtype: .float64), matrix("unused", dtype: .float64))
        let gradient = try grad(sum(x), wrt: [unused], disconnected: .zero)[0]
        let unusedValue = NDArray([[1, 2, 3], [4, 5, 6]] as [[Double]])
        let result = try evaluate([gradient], inputs: [x, unused], sample, unusedValue)[0]
        #expect(result == NDArray(zeros: [2, 3], dtype: .float64))
    }

    @Test func considerConstantBlocksGradientFlow() throws {
        let x = vector("x", dtype: .float64)
        let square = try x * x
        // d/dx sum(square * x) with square held constant is square, not 3x².
        let gradient = try grad(sum(square * x), wrt: [x], considerConstant: [square])[0]
        let result = try evaluate([gradient], inputs: [x], sample)[0]
        #expect(result.isClose(to: expected(sample) { $0 * $0 }))
    }

    @Test func gradientFlowsToSharedVariable() throws {
        var random = RandomState(seed: 5)
        let weights = try shared(NDArray.uniform([4, 3], dtype: .float64, using: &random), name: "W")
        let x = matrix("x", dtype: .float64)
        let gradient = try grad(sum(dot(x, weights)), wrt: [weights])[0]
        let batch = NDArray.uniform([2, 4], dtype: .float64, using: &random)
        let result = try evaluate([gradient], inputs: [x], batch)[0]
        // d/dW[i, j] of Σ (xW) is the sum of column i of x, for every j.
        let columnSums = (0..<4).map { i in (0..<2).reduce(0.0) { $0 + batch.element([$1, i], as: Double.self) } }
        let expected = NDArray(columnSums.flatMap { [Double](repeating: $0, count: 3) }, shape: [4, 3])
        #expect(result.isClose(to: expected))
    }

    @Test func gradientThroughIntegerInputIsZero() throws {
        let (counts, x) = (vector("counts", dtype: .int32), vector("x", dtype: .float64))
        let gradient = try grad(sum(cast(counts, to: .float64) * x), wrt: [counts])[0]
        let result = try evaluate([gradient], inputs: [counts, x], NDArray([1, 2, 3, 4] as [Int32]), sample)[0]
        #expect(result.shape == [4])
        #expect(result.elements(as: Double.self).allSatisfy { $0 == 0 })
    }

    @Test func variableUsedTwiceAccumulatesBothContributions() throws {
        let x = vector("x", dtype: .float64)
        let gradient = try grad(sum(x * x + x * 3), wrt: [x])[0]
        let result = try evaluate([gradient], inputs: [x], sample)[0]
        #expect(result.isClose(to: expected(sample) { 2 * $0 + 3 }))
    }

    @Test func gradientWithRespectToIntermediateVariable() throws {
        let x = vector("x", dtype: .float64)
        let doubled = try x * 2
        let gradient = try grad(sum(doubled * doubled), wrt: [doubled])[0]
        let result = try evaluate([gradient], inputs: [x], sample)[0]
        #expect(result.isClose(to: expected(sample) { 4 * $0 }))
    }

    @Test func secondDerivativeOfCubeIsSixX() throws {
        let x = vector("x", dtype: .float64)
        let first = try grad(sum(pow(x, 3)), wrt: [x])[0]
        let second = try grad(sum(first), wrt: [x])[0]
        let results = try evaluate([first, second], inputs: [x], sample)
        #expect(results[0].isClose(to: expected(sample) { 3 * $0 * $0 }))
        #expect(results[1].isClose(to: expected(sample) { 6 * $0 }))
    }
}
