import Foundation
@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoLoops
@testable import TheanoNative
@testable import TheanoOps
@testable import TheanoOptimizer
import Testing

// The stable forms at the edges of their domains — ±∞, NaN, ±0, -ln 2 (where log1mexp
// changes branch) and far beyond where the naive forms overflow — on both backends, in
// float32 and float64: the value, the gradient `grad` builds (from the stabilized cost)
// and the Jacobian-vector product `Rop` builds, against closed forms.

/// A formula of one vector, with its true value and derivative at each point.
struct EdgeCase: Sendable, CustomTestStringConvertible {
    let name: String
    let build: @Sendable (Variable) throws -> Variable
    /// The points, each with the true value and derivative there (as computed in `Double`
    /// from the point rounded to the dtype under test).
    let points: [Double]
    let value: @Sendable (Double) -> Double
    let derivative: @Sendable (Double) -> Double

    var testDescription: String { name }
}

enum EdgeCases {
    static let inf = Double.infinity, nan = Double.nan
    /// -ln 2, where log1mexp changes branch (each dtype rounds it its own way).
    static let minusLn2 = -Foundation.log(2.0)

    /// The points of log(1 - eˣ): its domain's ends, -0 and +0 (the value is -∞ at both;
    /// the derivative is -∞ and +∞, its limits from the left and the right), and beyond 0,
    /// where the value is NaN.
    static let log1mexpPoints: [Double] = [-inf, -1000, -40, minusLn2, -1e-3, -0.0, 0, 1, inf, nan]

    static func log1mexp(_ name: String, _ build: @escaping @Sendable (Variable) throws -> Variable) -> EdgeCase {
        EdgeCase(name: name, build: build, points: log1mexpPoints, value: Exact.log1mexp, derivative: Exact.log1mexpDerivative)
    }

    static let all: [EdgeCase] = [
        log1mexp("log1mexp(x)") { try Theano.log1mexp($0) },
        log1mexp("log(1 - exp(x))") { try log(1 - exp($0)) },
        log1mexp("log1p(-exp(x))") { try log1p(-exp($0)) },
        EdgeCase(name: "log(1 + exp(x))", build: { try log(1 + exp($0)) }, points: [-inf, -1000, -3, 0, 3, 1000, inf, nan],
                 value: Exact.softplus, derivative: Exact.sigmoid),
        EdgeCase(name: "1 - sigmoid(x)", build: { try 1 - sigmoid($0) }, points: [-inf, -1000, -3, 0, 3, 1000, inf, nan],
                 value: { Exact.sigmoid(-$0) }, derivative: { $0.isNaN ? .nan : -Exact.sigmoid($0) * Exact.sigmoid(-$0) }),
        EdgeCase(name: "log(exp(x))", build: { try log(exp($0)) }, points: [-inf, -1000, -0.0, 0, 1000, inf, nan],
                 value: { $0 }, derivative: { _ in 1 }),
        // exp(log(x)) is x where log is defined (-0 included: -0 stays -0) and NaN elsewhere;
        // its derivative is 1 there, 0 where the value is NaN (as PyTensor's rewrite).
        EdgeCase(name: "exp(log(x))", build: { try exp(log($0)) }, points: [-inf, -1, -0.0, 0, 1e-30, 2, inf, nan],
                 value: { $0 >= 0 ? $0 : .nan }, derivative: { $0 >= 0 ? 1 : 0 }),
    ]
}

@Suite("Stable forms at the edges")
struct StableFormEdgeTests {
    /// Values, gradients and Jacobian-vector products (along 2) at every edge point.
    @Test(arguments: EdgeCases.all, Backend.allCases)
    func valueGradientAndTangentAtTheEdges(_ edgeCase: EdgeCase, _ backend: Backend) throws {
        for dtype in [DType.float32, .float64] {
            let x = vector("x", dtype: dtype), direction = vector("v", dtype: dtype)
            let output = try edgeCase.build(x)
            let gradient = try grad(sum(output), wrt: [x])[0]
            let tangent = try Rop([output], wrt: [x], evalPoints: [direction])[0]
            let f = try backend.compile(inputs: [x, direction], outputs: [output, gradient, tangent])
            let point = NDArray(edgeCase.points).cast(to: dtype)
            let results = try f(point, NDArray(repeating: 2, count: edgeCase.points.count).cast(to: dtype))
                .map { $0.elements(as: Double.self) }
            let rounded = point.elements(as: Double.self)
            let closeness = Closeness(rtol: dtype == .float32 ? 1e-6 : 1e-14, atol: 0)
            for (label, actual, expected) in [("value", results[0], rounded.map(edgeCase.value)),
                                              ("gradient", results[1], rounded.map(edgeCase.derivative)),
                                              ("tangent", results[2], rounded.map { 2 * edgeCase.derivative($0) })] {
                let mismatches = actual.indices.filter { !closeness.accepts(actual[$0], expected[$0]) }
                    .map { "at x = \(rounded[$0]): \(actual[$0]) ≠ \(expected[$0])" }
                #expect(mismatches.isEmpty, "\(dtype) \(label): \(mismatches)\n\(debugprint(f))")
            }
        }
    }

    /// log1mexp's two branches meet at -ln 2: at each float type's rounded -ln 2 and its
    /// neighbours on both sides, the values are within a few ulps of the true ones.
    @Test(arguments: Backend.allCases)
    func log1mexpIsAccurateOnBothSidesOfMinusLn2(_ backend: Backend) throws {
        for dtype in [DType.float32, .float64] {
            let x = vector("x", dtype: dtype)
            let f = try backend.compile(inputs: [x], outputs: [log1mexp(x)])
            let center = dtype == .float32 ? Double(Float(EdgeCases.minusLn2)) : EdgeCases.minusLn2
            let points = dtype == .float32
                ? [Float(center).nextDown, Float(center), Float(center).nextUp].map(Double.init)
                : [center.nextDown, center, center.nextUp]
            let values = try f(NDArray(points).cast(to: dtype))[0].elements(as: Double.self)
            let mismatches = Closeness(rtol: dtype == .float32 ? 5e-7 : 1e-15, atol: 0).mismatches(values, points.map(Exact.log1mexp))
            #expect(mismatches.isEmpty, "\(dtype): \(mismatches)")
        }
    }
}
