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

extension GradientCase {
    /// Operand shapes for binary elementwise ops: equal shapes, and each way one operand broadcasts.
    static let operandLayouts: [(name: String, lhs: [Int], rhs: [Int])] = [
        ("(m, n) with (m, n)", [3, 4], [3, 4]),
        ("(1, n) with (m, n)", [1, 4], [3, 4]),
        ("(m, n) with (m, 1)", [3, 4], [3, 1]),
        ("(m, n) with (n,)", [3, 4], [4]),
        ("scalar with (m, n)", [], [3, 4]),
    ]

    /// A binary elementwise op on every operand layout of ``operandLayouts``, its operands
    /// drawn from `lhs` and `rhs`.
    static func everyLayout(_ name: String, _ lhs: GradientInput.Distribution, _ rhs: GradientInput.Distribution,
                            _ build: @escaping @Sendable (Variable, Variable) throws -> Variable) -> [GradientCase] {
        operandLayouts.map { layout in
            GradientCase.binary("\(name) \(layout.name)", GradientInput(shape: layout.lhs, distribution: lhs),
                                GradientInput(shape: layout.rhs, distribution: rhs), build)
        }
    }

    static let reductionAxes: [(name: String, axes: Axes)] = [
        ("all axes", .all), ("axis 1", 1), ("axis -1", -1), ("axes [0, 2]", [0, 2]),
    ]

    /// A reduction of a 3-d tensor drawn from `distribution`, over every axis choice of
    /// ``reductionAxes``, with and without `keepDims`.
    static func everyAxisChoice(_ name: String, _ distribution: GradientInput.Distribution,
                                _ build: @escaping @Sendable (Variable, Axes, _ keepDims: Bool) throws -> Variable) -> [GradientCase] {
        reductionAxes.flatMap { choice in
            [false, true].map { keepDims in
                GradientCase.unary("\(name) over \(choice.name)\(keepDims ? ", keepDims" : "")",
                                   GradientInput(shape: OpRecords.tensor3, distribution: distribution)) { try build($0, choice.axes, keepDims) }
            }
        }
    }
}

// MARK: - Tests

/// The gradient checks are the records' gradient cases (OpRecords+*.swift).
@Suite struct GradientTests {
    @Test(arguments: OpRecords.gradientCases)
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
    /// A (1, n) first input meeting an (m, n) second one, for graphs where both are declared
    /// of unknown shape.
    static let runtimeStretch: [GradientCase] = [
        .binary("add", .uniform([1, 4]), .uniform(OpRecords.matrix)) { try $0 + $1 },
        .binary("alloc", .uniform([1, 4]), .uniform(OpRecords.matrix)) { try alloc($0, sizes: [shape($1)[0], shape($1)[1]]) },
        .binary("incSubtensor values", .uniform([1, 4]), .uniform(OpRecords.matrix)) { try incSubtensor($1[0..<3], $0) },
        .binary("advanced incSubtensor values", .uniform([1, 4]), .uniform(OpRecords.matrix)) {
            try incSubtensor($1[constant(NDArray([2, 0, 1] as [Int64]))], $0)
        },
    ]

    @Test(arguments: runtimeStretch)
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

    /// Each record's gradient cases run through its op (as built, or once stabilized), so a
    /// case filed under the wrong op, or an op no case reaches, shows.
    @Test func everyGradientCaseReachesItsOp() throws {
        for record in OpRecords.all {
            for testCase in record.gradients.cases {
                #expect(try testCase.reachedOpTypes().contains(record.opType), "gradient case \"\(testCase.name)\" does not reach \(record.op)")
            }
        }
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
