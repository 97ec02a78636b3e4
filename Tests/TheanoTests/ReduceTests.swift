import Testing
import Theano

@Suite("Reductions")
struct ReduceTests {
    @Test(arguments: [
        ([2, 3, 4], [12, 8, 6]),
        ([2, 0, 3], [0, 6, 0]),
        ([0, 0, 1], [0, 0, 0]),
    ] as [([Double], [Double])])
    func productGradientIsExactWithZeros(values: [Double], expected: [Double]) throws {
        let x = vector("x", dtype: .float64)
        let f = try function(inputs: [x], outputs: grad(prod(x), wrt: [x]))
        #expect(try f(NDArray(values))[0] == NDArray(expected))
    }

    @Test func productGradientPerRow() throws {
        let x = matrix("x", dtype: .float64)
        let f = try function(inputs: [x], outputs: grad(sum(prod(x, axis: 1)), wrt: [x]))
        let result = try f(NDArray([[1, 2, 3], [0, 5, 2]] as [[Double]]))[0]
        #expect(result == NDArray([[6, 3, 2], [10, 0, 0]] as [[Double]]))
    }

    @Test func floatSumsAccumulateInDoublePrecision() throws {
        // 1 + 2^-24 repeated: float32 accumulation would lose every small term.
        let values = [Float(1)] + [Float](repeating: 0x1p-24, count: 1 << 20)
        let x = vector("x")
        let total = try function(inputs: [x], outputs: [sum(x)])(NDArray(values))[0].scalar(as: Double.self)
        #expect(total == Double(Float(1 + 0x1p-4)))
    }
}
