import Theano

// What the derivative checks share: symbolic inputs standing for a point, random directions
// to probe along, and the tolerance test.

/// One symbolic input per array of `point`, of its dtype and rank, with static size 1 where
/// the array has size 1 (so such dimensions broadcast as the graph under test expects).
func placeholders(for point: [NDArray]) -> [Variable] {
    point.enumerated().map { i, value in
        tensor("input\(i)", dtype: value.dtype, shape: value.shape.map { $0 == 1 ? 1 : nil })
    }
}

/// A random float64 array of `shape` with elements in [0.5, 1.5]: a direction to project an
/// output on, or to move an input along.
func randomDirection(_ shape: [Int], using random: inout RandomState) -> NDArray {
    NDArray.uniform(shape, low: 0.5, high: 1.5, dtype: .float64, using: &random)
}

/// `value` moved by `delta` times `direction`, in `value`'s dtype.
func moved(_ value: NDArray, by delta: Double, along direction: NDArray) -> NDArray {
    let moved = zip(value.elements(as: Double.self), direction.elements(as: Double.self)).map { $0 + delta * $1 }
    return NDArray(moved, shape: value.shape).cast(to: value.dtype)
}

/// Whether `actual` is within `absolute + relative · |expected|` of `expected`.
func agrees(_ actual: Double, _ expected: Double, absolute: Double, relative: Double) -> Bool {
    abs(actual - expected) <= absolute + relative * abs(expected)
}
