import Foundation
@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoLoops
@testable import TheanoNative
@testable import TheanoOps
@testable import TheanoOptimizer
import Testing

// Gradients and Jacobian-vector products of the ops that choose between values, at exact
// ties, where the derivative is a convention (see each op's documentation):
// - `maximum(a, b)` gives a tie to `a` (`a ≥ b`), `minimum(a, b)` too (`a ≤ b`), as PyTensor
//   (JAX splits it in halves): `maximum(x, x)` has derivative 1. Where one is NaN, neither
//   gets it.
// - `clip(x, low, high)` is differentiated as `minimum(maximum(x, low), high)`: `x` on the
//   bounds gets the gradient, and where `low > high` only `high` does.
// - `max`/`min` over axes share a tie equally among the tied elements, as JAX and TensorFlow
//   (PyTensor gives each the whole gradient).
// - `abs` has derivative 0 at 0, as PyTensor (JAX: 1); `relu` = `maximum(x, 0)` has 1 there.

/// One graph at a point with exact ties: the gradient of the sum of its elements with
/// respect to each input, and its Jacobian-vector product along ``TieCase/direction(_:_:)``.
struct TieCase: Sendable, CustomTestStringConvertible {
    let name: String
    /// Each input's values and shape (all float).
    let inputs: [(values: [Double], shape: [Int])]
    let build: @Sendable ([Variable]) throws -> Variable
    /// The gradient of `sum(build(inputs))` with respect to each input.
    let gradients: [[Double]]
    /// `Rop` along the directions, elementwise over the output.
    let tangent: [Double]

    var testDescription: String { name }

    /// The direction input `index` moves along: element k moves by (k + 1), times 10 for the
    /// second input and 100 for the third, so that each input's share is visible in a sum.
    static func direction(_ index: Int, _ count: Int) -> [Double] {
        (0..<count).map { Double($0 + 1) * Foundation.pow(10, Double(index)) }
    }
}

enum TieCases {
    static let nan = Double.nan, inf = Double.infinity

    /// `maximum(a, b)` at a tie, a win for each side, ties at ±∞, and NaN on either side.
    static let a: [Double] = [1, 2, 3, inf, -inf, nan, 1, -0.0]
    static let b: [Double] = [1, 0, 5, inf, -inf, 1, nan, 0]

    static let all: [TieCase] = [
        TieCase(name: "maximum(x, x)", inputs: [([-1, 0, 2, -0.0, inf], [5])], build: { try maximum($0[0], $0[0]) },
                gradients: [[1, 1, 1, 1, 1]], tangent: [1, 2, 3, 4, 5]),
        TieCase(name: "minimum(x, x)", inputs: [([-1, 0, 2, -0.0, -inf], [5])], build: { try minimum($0[0], $0[0]) },
                gradients: [[1, 1, 1, 1, 1]], tangent: [1, 2, 3, 4, 5]),
        TieCase(name: "maximum(a, b)", inputs: [(a, [8]), (b, [8])], build: { try maximum($0[0], $0[1]) },
                gradients: [[1, 1, 0, 1, 1, 0, 0, 1], [0, 0, 1, 0, 0, 0, 0, 0]], tangent: [1, 2, 30, 4, 5, 0, 0, 8]),
        TieCase(name: "minimum(a, b)", inputs: [(a, [8]), (b, [8])], build: { try minimum($0[0], $0[1]) },
                gradients: [[1, 0, 1, 1, 1, 0, 0, 1], [0, 1, 0, 0, 0, 0, 0, 0]], tangent: [1, 20, 3, 4, 5, 0, 0, 8]),
        // A (1, n) operand broadcast against an (m, 1) one: the tie gradients are summed.
        TieCase(name: "maximum of broadcast operands", inputs: [([1, 2], [1, 2]), ([1, 2], [2, 1])],
                build: { try maximum($0[0], $0[1]) },
                gradients: [[1, 2], [0, 1]], tangent: [1, 2, 20, 2]),
        TieCase(name: "relu(x) at 0 and -0", inputs: [([0, -0.0, -1, 1], [4])], build: { try relu($0[0]) },
                gradients: [[1, 1, 0, 1]], tangent: [1, 2, 0, 4]),
        TieCase(name: "abs(x) at 0 and -0", inputs: [([0, -0.0, -1, 1], [4])], build: { try abs($0[0]) },
                gradients: [[0, 0, -1, 1]], tangent: [0, 0, -3, 4]),
        // x on the lower bound, on the upper bound, inside, below, above, with low > high,
        // with all three equal.
        TieCase(name: "clip(x, low, high)",
                inputs: [([0, 1, 0.5, -1, 2, 0, 3], [7]), ([0, 0, 0, 0, 0, 1, 3], [7]), ([1, 1, 1, 1, 1, -1, 3], [7])],
                build: { try clip($0[0], $0[1], $0[2]) },
                gradients: [[1, 1, 1, 0, 0, 0, 1], [0, 0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 1, 1, 0]],
                tangent: [1, 2, 3, 40, 500, 600, 7]),
        // Rows: a tie of two, a tie of three, no tie, a NaN.
        TieCase(name: "max over axis 1", inputs: [([1, 3, 3, 2, 2, 2, 5, 4, 0, 1, nan, 7], [4, 3])],
                build: { try max($0[0], axis: 1) },
                gradients: [[0, 0.5, 0.5, 1.0 / 3, 1.0 / 3, 1.0 / 3, 1, 0, 0, 0, 0, 0]], tangent: [2.5, 5, 7, 0]),
        TieCase(name: "min over axis 0, keepDims", inputs: [([1, -inf, 2, 1, -inf, 3], [2, 3])],
                build: { try min($0[0], axis: 0, keepDims: true) },
                gradients: [[0.5, 0.5, 1, 0.5, 0.5, 0]], tangent: [2.5, 3.5, 3]),
        TieCase(name: "max of all elements", inputs: [([4, 1, 4, 4], [2, 2])], build: { try max($0[0]) },
                gradients: [[1.0 / 3, 0, 1.0 / 3, 1.0 / 3]], tangent: [(1 + 3 + 4) / 3.0]),
        TieCase(name: "max(stack([x, x]), axis: 0)", inputs: [([1, -2], [2])], build: { try max(stack([$0[0], $0[0]]), axis: 0) },
                gradients: [[1, 1]], tangent: [1, 2]),
    ]
}

@Suite("Gradients at ties")
struct TieGradientTests {
    @Test(arguments: TieCases.all, Backend.allCases)
    func gradientAtTies(_ tieCase: TieCase, _ backend: Backend) throws {
        for dtype in [DType.float32, .float64] {
            let (inputs, arguments) = Self.inputs(tieCase, dtype)
            let gradients = try grad(sum(tieCase.build(inputs)), wrt: inputs)
            let results = try backend.compile(inputs: inputs, outputs: gradients)(arguments)
            for (index, (result, expected)) in zip(results, tieCase.gradients).enumerated() {
                let mismatches = Closeness(rtol: 1e-7, atol: 0).mismatches(result.elements(as: Double.self), expected)
                #expect(mismatches.isEmpty, "\(dtype) gradient of input \(index): \(mismatches)")
            }
        }
    }

    @Test(arguments: TieCases.all, Backend.allCases)
    func jacobianVectorProductAtTies(_ tieCase: TieCase, _ backend: Backend) throws {
        for dtype in [DType.float32, .float64] {
            let (inputs, arguments) = Self.inputs(tieCase, dtype)
            let directions = inputs.map { tensor(dtype: dtype, shape: $0.staticShape) }
            let tangent = try Rop([tieCase.build(inputs)], wrt: inputs, evalPoints: directions)[0]
            let directionValues = zip(tieCase.inputs.indices, tieCase.inputs).map { index, input in
                NDArray(TieCase.direction(index, input.values.count), shape: input.shape).cast(to: dtype)
            }
            let result = try backend.compile(inputs: inputs + directions, outputs: [tangent])(arguments + directionValues)[0]
            let mismatches = Closeness(rtol: 1e-7, atol: 0).mismatches(result.elements(as: Double.self), tieCase.tangent)
            #expect(mismatches.isEmpty, "\(dtype) Rop: \(mismatches)")
        }
    }

    /// Inputs of `dtype` with the case's shapes declared statically (size-1 dimensions
    /// broadcast), and their values.
    private static func inputs(_ tieCase: TieCase, _ dtype: DType) -> (inputs: [Variable], arguments: [NDArray]) {
        (tieCase.inputs.map { tensor(dtype: dtype, shape: $0.shape) },
         tieCase.inputs.map { NDArray($0.values, shape: $0.shape).cast(to: dtype) })
    }
}
