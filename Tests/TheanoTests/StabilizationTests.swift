import Foundation
import Testing
@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoLoops
@testable import TheanoNative
@testable import TheanoOps
@testable import TheanoOptimizer

/// How close two numbers must be: `|actual - expected| <= atol + rtol · |expected|`, with
/// NaN equal to NaN and infinities equal to themselves.
struct Closeness: Sendable, CustomStringConvertible {
    let rtol: Double
    let atol: Double

    func accepts(_ actual: Double, _ expected: Double) -> Bool {
        if actual.isNaN || expected.isNaN { return actual.isNaN && expected.isNaN }
        if actual.isInfinite || expected.isInfinite { return actual == expected }
        return Swift.abs(actual - expected) <= atol + rtol * Swift.abs(expected)
    }

    /// The positions where `actual` and `expected` disagree, as readable lines.
    func mismatches(_ actual: [Double], _ expected: [Double]) -> [String] {
        guard actual.count == expected.count else { return ["\(actual.count) elements, expected \(expected.count)"] }
        return actual.indices.filter { !accepts(actual[$0], expected[$0]) }.map { "[\($0)] \(actual[$0]) ≠ \(expected[$0])" }
    }

    var description: String { "rtol \(rtol), atol \(atol)" }
}

/// Reference values in `Double`, from the closed forms.
enum Exact {
    static func sigmoid(_ x: Double) -> Double { x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x)) }
    static func softplus(_ x: Double) -> Double { Swift.max(x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(x))) }
    static func logSumExp(_ xs: [Double]) -> Double {
        let peak = xs.max()!
        return peak + Foundation.log(xs.map { Foundation.exp($0 - peak) }.reduce(0, +))
    }
    static func softmax(_ xs: [Double]) -> [Double] { xs.map { Foundation.exp($0 - logSumExp(xs)) } }
    /// log(1 - eˣ), by Mächler's two branches.
    static func log1mexp(_ x: Double) -> Double { x > -Foundation.log(2) ? Foundation.log(-Foundation.expm1(x)) : Foundation.log1p(-Foundation.exp(x)) }
    /// d/dx log(1 - eˣ) = -1 / expm1(-x).
    static func log1mexpDerivative(_ x: Double) -> Double { -1 / Foundation.expm1(-x) }
    /// `f` applied to each row of a row-major matrix with `columns` columns.
    static func rowwise(_ values: [Double], columns: Int, _ f: ([Double]) -> [Double]) -> [Double] {
        stride(from: 0, to: values.count, by: columns).flatMap { f(Array(values[$0..<($0 + columns)])) }
    }
}

/// A naive formula at a point where it overflows, underflows or cancels, with the true value
/// and the true gradient of the sum of its elements, both from closed forms in `Double`.
struct StabilizationCase: Sendable, CustomTestStringConvertible {
    let name: String
    let dtype: DType
    let shape: [Int]
    let point: [Double]
    /// Integer class labels, one per row, passed as a second input (cross-entropy only).
    var labels: [Int64]? = nil
    /// The name of the op the stable form uses (as in op descriptions, also inside fused
    /// composites: `composite{neg(softplus(i0))}`); `nil` where the stable form is `x`
    /// itself, so that nothing but casts is left to compute.
    let stableOp: String?
    /// Builds the naive graph from `x` (and the labels, when there are some).
    let naive: @Sendable (_ x: Variable, _ labels: Variable?) throws -> Variable
    /// The true value at `point` (as rounded to `dtype`).
    let value: @Sendable ([Double]) -> [Double]
    /// The true gradient of `sum(naive(x))` at `point`.
    let gradient: @Sendable ([Double]) -> [Double]
    /// Whether the naive graph gives inf, NaN or a wrong 0 at `point`; `false` where only its
    /// gradient breaks (the value is already right, up to underflow).
    var naiveValueBreaks = true
    /// Loosened for results that are subnormal, where few bits are left.
    var closeness: Closeness? = nil
    /// Whether `x` is declared with its sizes known (size-1 dimensions then broadcast), not
    /// as unknown.
    var staticShape = false

    var testDescription: String { "\(name) (\(dtype))" }

    /// The input values as the graph sees them: rounded to `dtype`.
    var roundedPoint: [Double] { NDArray(point, shape: shape).cast(to: dtype).elements(as: Double.self) }

    var arguments: [NDArray] {
        [NDArray(point, shape: shape).cast(to: dtype)] + (labels.map { [NDArray($0)] } ?? [])
    }

    /// The inputs (`x`, then the labels when there are some) and the naive graph.
    func build() throws -> (inputs: [Variable], output: Variable) {
        let x = tensor("x", dtype: dtype, shape: shape.map { staticShape ? $0 : nil })
        let y = labels.map { _ in vector("y", dtype: .int64) }
        return ([x] + (y.map { [$0] } ?? []), try naive(x, y))
    }

    /// Exact comparisons: the stable forms are accurate to the last bits; zeros must be exact
    /// zeros, so that a naive 0 never passes for a tiny true value.
    var tolerance: Closeness { closeness ?? Closeness(rtol: dtype == .float32 ? 1e-5 : 1e-12, atol: 0) }
}

enum StabilizationCases {
    /// One case per float dtype, each at its own point (where the naive form breaks in
    /// that precision).
    private static func perDType(
        _ name: String, points: (float32: [Double], float64: [Double]), shape: [Int] = [], labels: [Int64]? = nil,
        stableOp: String?, naiveValueBreaks: Bool = true, closeness: (float32: Closeness, float64: Closeness)? = nil,
        naive: @escaping @Sendable (Variable, Variable?) throws -> Variable,
        value: @escaping @Sendable ([Double]) -> [Double], gradient: @escaping @Sendable ([Double]) -> [Double]
    ) -> [StabilizationCase] {
        [(DType.float32, points.float32, closeness?.float32), (.float64, points.float64, closeness?.float64)].map { dtype, point, closeness in
            StabilizationCase(name: name, dtype: dtype, shape: shape, point: point, labels: labels, stableOp: stableOp, naive: naive,
                              value: value, gradient: gradient, naiveValueBreaks: naiveValueBreaks, closeness: closeness)
        }
    }

    /// The same point in both dtypes.
    private static func bothDTypes(
        _ name: String, point: [Double], shape: [Int] = [], labels: [Int64]? = nil, stableOp: String?, naiveValueBreaks: Bool = true,
        naive: @escaping @Sendable (Variable, Variable?) throws -> Variable,
        value: @escaping @Sendable ([Double]) -> [Double], gradient: @escaping @Sendable ([Double]) -> [Double]
    ) -> [StabilizationCase] {
        perDType(name, points: (point, point), shape: shape, labels: labels, stableOp: stableOp, naiveValueBreaks: naiveValueBreaks,
                 naive: naive, value: value, gradient: gradient)
    }

    /// `categoricalCrossentropy(softmax(x), labels)` with every label 1, over rows of two logits.
    private static func crossentropy(_ name: String, point: [Double], staticShape: Bool) -> [StabilizationCase] {
        bothDTypes(name, point: point, shape: [point.count / 2, 2], labels: Array(repeating: 1, count: point.count / 2),
                   stableOp: "crossentropy_softmax", naive: { x, y in try categoricalCrossentropy(softmax(x), y!) },
                   value: { Exact.rowwise($0, columns: 2) { row in [Exact.logSumExp(row) - row[1]] } },
                   // softmax - onehot(labels)
                   gradient: { Exact.rowwise($0, columns: 2) { row in zip(Exact.softmax(row), [0.0, 1.0]).map { $0 - $1 } } })
        .map { var declared = $0; declared.staticShape = staticShape; return declared }
    }

    private static func elementwise(_ f: @escaping @Sendable (Double) -> Double) -> @Sendable ([Double]) -> [Double] { { $0.map(f) } }

    /// Where log(1 - eˣ) is hard: far below 0, where eˣ underflows or `1 - eˣ` rounds to 1,
    /// at -ln 2 (as rounded to each type), where the stable form changes branch, and near 0.
    static let log1mexpPoints: (float32: [Double], float64: [Double]) = (
        [-1000, -20, Double(Float(-Foundation.log(2.0))), -0.5, -1e-3, -1e-10],
        [-1000, -40, -Foundation.log(2.0), -0.5, -1e-3, -1e-20]
    )

    /// `1 / (1 + exp(-x))` as written by hand.
    @Sendable static func naiveSigmoid(_ x: Variable, _: Variable?) throws -> Variable { try 1 / (1 + exp(-x)) }

    static let all: [StabilizationCase] = [
        // log(1 + x): 1 + x rounds to 1, so the log is 0. In float64 1e-10 only loses eight
        // digits, so the float64 case uses 1e-20, where the naive result is 0 too.
        perDType("log(1 + x)", points: ([1e-10], [1e-20]), stableOp: "log1p",
                 naive: { x, _ in try log(1 + x) }, value: elementwise(Foundation.log1p), gradient: elementwise { 1 / (1 + $0) }),
        perDType("exp(x) - 1", points: ([1e-10], [1e-20]), stableOp: "expm1",
                 naive: { x, _ in try exp(x) - 1 }, value: elementwise(Foundation.expm1), gradient: elementwise(Foundation.exp)),
        bothDTypes("log(sigmoid(x))", point: [-800], stableOp: "softplus",
                   naive: { x, _ in try log(sigmoid(x)) },
                   value: elementwise { -Exact.softplus(-$0) }, gradient: elementwise { 1 - Exact.sigmoid($0) }),
        bothDTypes("log(1 - sigmoid(x))", point: [800], stableOp: "softplus",
                   naive: { x, _ in try log(1 - sigmoid(x)) },
                   value: elementwise { -Exact.softplus($0) }, gradient: elementwise { -Exact.sigmoid($0) }),
        bothDTypes("log(softmax(x))", point: [1000, 0], shape: [1, 2], stableOp: "log_softmax",
                   naive: { x, _ in try log(softmax(x)) },
                   value: { Exact.rowwise($0, columns: 2) { row in row.map { $0 - Exact.logSumExp(row) } } },
                   // d/dx_j Σ_i (x_i - lse(x)) = 1 - n · softmax_j
                   gradient: { Exact.rowwise($0, columns: 2) { row in Exact.softmax(row).map { 1 - Double(row.count) * $0 } } }),
        bothDTypes("log(sum(exp(x)))", point: [1000, 1000], shape: [2], stableOp: "logsumexp",
                   naive: { x, _ in try log(sum(exp(x))) },
                   value: { [Exact.logSumExp($0)] }, gradient: Exact.softmax),
        bothDTypes("exp(x) / sum(exp(x), axis: -1, keepDims: true)", point: [1000, 0], shape: [1, 2], stableOp: "softmax",
                   naive: { x, _ in try exp(x) / sum(exp(x), axis: -1, keepDims: true) },
                   value: { Exact.rowwise($0, columns: 2, Exact.softmax) },
                   // The rows of a softmax sum to 1 whatever x: the gradient of the sum is 0.
                   gradient: { $0.map { _ in 0 } }),
        // At -1000 the naive value is 0, which is right (the true value underflows in both
        // precisions); what breaks is its gradient, inf / inf.
        bothDTypes("1 / (1 + exp(-x))", point: [-1000], stableOp: "sigmoid", naiveValueBreaks: false, naive: naiveSigmoid,
                   value: elementwise(Exact.sigmoid), gradient: elementwise { Exact.sigmoid($0) * (1 - Exact.sigmoid($0)) }),
        // Where exp(-x) overflows but the true value is a (subnormal) positive number, the
        // naive value is a wrong 0.
        perDType("1 / (1 + exp(-x)), subnormal", points: ([-95], [-720]), stableOp: "sigmoid",
                 closeness: (Closeness(rtol: 1e-3, atol: 0), Closeness(rtol: 1e-6, atol: 0)), naive: naiveSigmoid,
                 value: elementwise(Exact.sigmoid), gradient: elementwise { Exact.sigmoid($0) * (1 - Exact.sigmoid($0)) }),
        // 1 - sigmoid(x) rounds to 0 where sigmoid(x) rounds to 1 (x = 20 in float32, 40 in
        // float64); at ±1000 and at moderate points the stable form must be exact too.
        perDType("1 - sigmoid(x)", points: ([-1000, -3, 0.5, 20, 1000], [-1000, -3, 0.5, 40, 1000]), shape: [5], stableOp: "sigmoid",
                 naive: { x, _ in try 1 - sigmoid(x) }, value: elementwise { Exact.sigmoid(-$0) },
                 gradient: elementwise { -Exact.sigmoid($0) * Exact.sigmoid(-$0) }),
        // The 1 is a float64 [1, 1] constant: the sigmoid lies beneath a dimshuffle and a cast.
        perDType("float64 ones([1, 1]) - sigmoid(x)", points: ([-1000, 0.5, 20, 1000], [-1000, 0.5, 40, 1000]), shape: [4],
                 stableOp: "sigmoid", naive: { x, _ in try ones([1, 1], dtype: .float64) - sigmoid(x) },
                 value: elementwise { Exact.sigmoid(-$0) }, gradient: elementwise { -Exact.sigmoid($0) * Exact.sigmoid(-$0) }),
        perDType("int64 1 - sigmoid(x)", points: ([-1000, 0.5, 20, 1000], [-1000, 0.5, 40, 1000]), shape: [4],
                 stableOp: "sigmoid", naive: { x, _ in try constant(1, dtype: .int64) - sigmoid(x) },
                 value: elementwise { Exact.sigmoid(-$0) }, gradient: elementwise { -Exact.sigmoid($0) * Exact.sigmoid(-$0) }),
        bothDTypes("log(1 + exp(x))", point: [-1000, -3, 0.5, 1000], shape: [4], stableOp: "softplus",
                   naive: { x, _ in try log(1 + exp(x)) }, value: elementwise(Exact.softplus), gradient: elementwise(Exact.sigmoid)),
        bothDTypes("log1p(exp(x))", point: [-1000, -3, 0.5, 1000], shape: [4], stableOp: "softplus",
                   naive: { x, _ in try log1p(exp(x)) }, value: elementwise(Exact.softplus), gradient: elementwise(Exact.sigmoid)),
        bothDTypes("log(1 + exp(float64(x)))", point: [-1000, -3, 0.5, 1000], shape: [4], stableOp: "softplus",
                   naive: { x, _ in try log(1 + exp(cast(x, to: .float64))) }, value: elementwise(Exact.softplus),
                   gradient: elementwise(Exact.sigmoid)),
        bothDTypes("log1p(float64(exp(x)))", point: [-1000, -3, 0.5, 1000], shape: [4], stableOp: "softplus",
                   naive: { x, _ in try log1p(cast(exp(x), to: .float64)) }, value: elementwise(Exact.softplus),
                   gradient: elementwise(Exact.sigmoid)),
        // 1 - exp(x) rounds to 1 below -17 in float32 (-37 in float64), and to 0 near 0.
        perDType("log(1 - exp(x))", points: log1mexpPoints, shape: [6], stableOp: "log1mexp",
                 naive: { x, _ in try log(1 - exp(x)) }, value: elementwise(Exact.log1mexp), gradient: elementwise(Exact.log1mexpDerivative)),
        perDType("log1p(-exp(x))", points: log1mexpPoints, shape: [6], stableOp: "log1mexp",
                 naive: { x, _ in try log1p(-exp(x)) }, value: elementwise(Exact.log1mexp), gradient: elementwise(Exact.log1mexpDerivative)),
        perDType("log(ones([1, 1]) - exp(x))", points: log1mexpPoints, shape: [6], stableOp: "log1mexp",
                 naive: { x, _ in try log(ones([1, 1]) - exp(x)) }, value: elementwise(Exact.log1mexp),
                 gradient: elementwise(Exact.log1mexpDerivative)),
        perDType("log1p(-float64(exp(x)))", points: log1mexpPoints, shape: [6], stableOp: "log1mexp",
                 naive: { x, _ in try log1p(-cast(exp(x), to: .float64)) }, value: elementwise(Exact.log1mexp),
                 gradient: elementwise(Exact.log1mexpDerivative)),
        bothDTypes("log(exp(x))", point: [-1000, -3, 0.5, 1000], shape: [4], stableOp: nil,
                   naive: { x, _ in try log(exp(x)) }, value: elementwise { $0 }, gradient: elementwise { _ in 1 }),
        bothDTypes("log(float64(exp(x)))", point: [-1000, -3, 0.5, 1000], shape: [4], stableOp: nil,
                   naive: { x, _ in try log(cast(exp(x), to: .float64)) }, value: elementwise { $0 }, gradient: elementwise { _ in 1 }),
        // The naive value is right (to a few ulps); its gradient exp(log(x)) / x is 0 · ∞ at 0.
        perDType("exp(log(x))", points: ([0, 1e-30, 0.5, 3, 1e30], [0, 1e-300, 0.5, 3, 1e300]), shape: [5], stableOp: "switch",
                 naiveValueBreaks: false, naive: { x, _ in try exp(log(x)) }, value: elementwise { $0 }, gradient: elementwise { _ in 1 }),
        crossentropy("categoricalCrossentropy(softmax(x), labels)", point: [1000, -1000, -1000, 1000], staticShape: false),
        // A single example declared as such: x has static shape [1, 2], its one row broadcastable.
        crossentropy("categoricalCrossentropy(softmax(x), labels), x of static shape [1, 2]", point: [1000, -1000], staticShape: true),
        // Along the first axis: one column of two logits (row-major, the column is the list).
        bothDTypes("log(softmax(x, axis: 0))", point: [1000, 0], shape: [2, 1], stableOp: "log_softmax{axis=0}",
                   naive: { x, _ in try log(softmax(x, axis: 0)) },
                   value: { column in column.map { $0 - Exact.logSumExp(column) } },
                   gradient: { column in Exact.softmax(column).map { 1 - Double(column.count) * $0 } }),
        bothDTypes("exp(x) / sum(exp(x), axis: 0, keepDims: true)", point: [1000, 0], shape: [2, 1], stableOp: "softmax{axis=0}",
                   naive: { x, _ in try exp(x) / sum(exp(x), axis: 0, keepDims: true) },
                   value: Exact.softmax, gradient: { $0.map { _ in 0 } }),
        bothDTypes("-log(softmax(x, axis: 0)[labels, arange(columns)])", point: [-1000, 1000], shape: [2, 1], labels: [0],
                   stableOp: "crossentropy_softmax{axis=0}",
                   naive: { x, y in try -log(softmax(x, axis: 0)[y!, arange(shape(x)[1])]) },
                   value: { column in [Exact.logSumExp(column) - column[0]] },
                   gradient: { column in zip(Exact.softmax(column), [1.0, 0.0]).map { $0 - $1 } }),
    ].flatMap { $0 }
}

/// The stabilize phase turns naive formulas that overflow or underflow into stable ops.
/// Each case first shows that the naive graph, run as built, gives inf, NaN or a wrong 0,
/// then that the optimized function gives the true value.
@Suite("Stabilization")
struct StabilizationTests {
    private func run(_ function: Function, _ stabilizationCase: StabilizationCase) throws -> [Double] {
        try function(stabilizationCase.arguments)[0].elements(as: Double.self)
    }

    @Test(arguments: StabilizationCases.all, Backend.allCases)
    func optimizedValueIsFiniteAndExact(_ stabilizationCase: StabilizationCase, _ backend: Backend) throws {
        let (inputs, output) = try stabilizationCase.build()
        let expected = stabilizationCase.value(stabilizationCase.roundedPoint)
        let naive = try run(function(inputs: inputs, outputs: [output], options: .unoptimized), stabilizationCase)
        if stabilizationCase.naiveValueBreaks {
            let broken = zip(naive, expected).contains { !$0.isFinite || ($0 == 0 && $1 != 0) }
            #expect(broken, "the naive graph gives \(naive), not inf, NaN or a wrong 0: the case tests nothing")
        }

        let optimized = try backend.compile(inputs: inputs, outputs: [output])
        let values = try run(optimized, stabilizationCase)
        #expect(values.allSatisfy { $0.isFinite }, "optimized: \(values)")
        let mismatches = stabilizationCase.tolerance.mismatches(values, expected)
        #expect(mismatches.isEmpty, "optimized value: \(mismatches)\n\(debugprint(optimized))")
        if let stableOp = stabilizationCase.stableOp {
            // The op may have been fused into a composite: look for its name in each description.
            let pattern = "(^|[^A-Za-z_])\(NSRegularExpression.escapedPattern(for: stableOp))($|[^A-Za-z_0-9])"
            #expect(optimized.graph.nodes.contains { "\($0.op)".range(of: pattern, options: .regularExpression) != nil },
                    "no \(stableOp) in the optimized graph:\n\(debugprint(optimized))")
        } else {
            #expect(optimized.graph.nodes.allSatisfy { $0.op is Cast }, "the optimized graph computes more than x:\n\(debugprint(optimized))")
        }
        #expect(optimized.rewriteReport.failures.isEmpty, "\(optimized.rewriteReport.failures)")
    }

    /// `grad` rewrites the cost into its stable form before differentiating, so the gradient
    /// is finite and exact even when the gradient function is compiled `.unoptimized`; that,
    /// and the optimized gradient on both backends, are checked.
    @Test(arguments: StabilizationCases.all, Compilation.all)
    func gradientIsFiniteAndExact(_ stabilizationCase: StabilizationCase, _ compilation: Compilation) throws {
        let (inputs, output) = try stabilizationCase.build()
        let gradient = try grad(sum(output), wrt: [inputs[0]])[0]
        let compiled = try function(inputs: inputs, outputs: [gradient], options: compilation.options)
        #expect(compiled.linkWarnings.isEmpty, "\(compiled.linkWarnings)")
        let values = try run(compiled, stabilizationCase)
        #expect(values.allSatisfy { $0.isFinite }, "gradient: \(values)\n\(debugprint(compiled))")
        let mismatches = stabilizationCase.tolerance.mismatches(values, stabilizationCase.gradient(stabilizationCase.roundedPoint))
        #expect(mismatches.isEmpty, "gradient: \(mismatches)\n\(debugprint(compiled))")
    }

    /// The gradient checks above are meaningful: the derivative of the naive formula, written
    /// out by the chain rule, is NaN at those points.
    @Test(arguments: [
        NaiveDerivative(name: "d/dx log(sigmoid(x)) = sigmoid'(x) / sigmoid(x)", point: -800) { x in
            let s = try sigmoid(x)
            return try s * (1 - s) / s
        },
        NaiveDerivative(name: "d/dx 1 / (1 + exp(-x)) = exp(-x) / (1 + exp(-x))²", point: -1000) { x in
            try exp(-x) / sqr(1 + exp(-x))
        },
    ])
    func naiveDerivativesAreNaN(_ derivative: NaiveDerivative) throws {
        let x = scalar("x", dtype: .float64)
        let f = try function(inputs: [x], outputs: [derivative.build(x)], options: .unoptimized)
        #expect(try f(NDArray(scalar: derivative.point))[0].scalar(as: Double.self).isNaN)
    }
}

/// How a test compiles: the options, with a readable name.
struct Compilation: Sendable, CustomTestStringConvertible {
    let name: String
    let options: CompileOptions
    var testDescription: String { name }

    /// Unoptimized, and optimized for each backend.
    static let all = [Compilation(name: "unoptimized", options: .unoptimized)]
        + Backend.allCases.map { Compilation(name: "optimized, \($0)", options: $0.options) }
}


/// A derivative written out by hand from the naive formula.
struct NaiveDerivative: Sendable, CustomTestStringConvertible {
    let name: String
    let point: Double
    let build: @Sendable (Variable) throws -> Variable
    var testDescription: String { name }
}
