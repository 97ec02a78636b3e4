import Theano

/// Values uniform in `[-1, 1)` of `shape`: the same for the same seed.
func randomValues(_ shape: [Int], seed: UInt64, dtype: DType = .float64) -> NDArray {
    var state = RandomState(seed: seed)
    return NDArray.uniform(shape, low: -1, high: 1, dtype: dtype, using: &state)
}

/// `x + 1` (float64) with no derivative at all: differentiating through it fails.
struct IncrementWithoutDerivative: Op {
    var description: String { "increment" }
    func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] { inputs }
    func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        [NDArray(inputs[0].elements(as: Double.self).map { $0 + 1 }, shape: inputs[0].shape)]
    }
}
