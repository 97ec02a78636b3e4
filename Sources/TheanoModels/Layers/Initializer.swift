import Foundation
import Theano

/// How a layer's weights start, from its fan-in and fan-out.
public enum Initializer: Sendable {
    /// Uniform on `±√(6 / (fanIn + fanOut))` (Glorot and Bengio, 2010).
    case glorotUniform
    /// Normal of standard deviation `√(2 / (fanIn + fanOut))`.
    case glorotNormal
    /// Uniform on `±√(6 / fanIn)` (He et al., 2015), for rectifiers.
    case heUniform
    /// Normal of standard deviation `√(2 / fanIn)`.
    case heNormal
    /// A (semi-)orthogonal matrix times `gain` (Saxe et al., 2014): the Q of a Gaussian
    /// matrix's QR factorization, for a 2-d shape.
    case orthogonal(gain: Double = 1)
    /// Every weight `value` (0 for biases).
    case constant(Double)

    /// `float32` weights of `shape`. The fans default to a dense layer's: fan-in `shape[0]`,
    /// fan-out the product of the rest; a convolution passes its own (channels and filters
    /// times the window). An orthogonal matrix is `shape[0]` by the product of the rest.
    public func array(_ shape: [Int], fans: (in: Int, out: Int)? = nil, random: inout RandomState) -> NDArray {
        let rows = shape.first ?? 1, rest = shape.dropFirst().reduce(1, *)
        let fanIn = Double(fans?.in ?? rows), fanOut = Double(fans?.out ?? rest)
        switch self {
        case .glorotUniform: return .uniform(shape, low: -(6 / (fanIn + fanOut)).squareRoot(), high: (6 / (fanIn + fanOut)).squareRoot(), using: &random)
        case .glorotNormal: return .normal(shape, std: (2 / (fanIn + fanOut)).squareRoot(), using: &random)
        case .heUniform: return .uniform(shape, low: -(6 / fanIn).squareRoot(), high: (6 / fanIn).squareRoot(), using: &random)
        case .heNormal: return .normal(shape, std: (2 / fanIn).squareRoot(), using: &random)
        case .constant(let value): return NDArray([Float](repeating: Float(value), count: shape.reduce(1, *)), shape: shape)
        case .orthogonal(let gain):
            let columns = rest
            // Orthonormal columns of the taller orientation, by modified Gram–Schmidt.
            let (tall, wide) = (Swift.max(rows, columns), Swift.min(rows, columns))
            var vectors = (0..<wide).map { _ in (0..<tall).map { _ in random.nextNormal() } }
            for j in vectors.indices {
                for k in 0..<j {
                    let projection = zip(vectors[j], vectors[k]).map(*).reduce(0, +)
                    vectors[j] = zip(vectors[j], vectors[k]).map { $0 - projection * $1 }
                }
                let norm = vectors[j].map { $0 * $0 }.reduce(0, +).squareRoot()
                vectors[j] = vectors[j].map { $0 / norm }
            }
            let values = (0..<rows).flatMap { i in
                (0..<columns).map { j in Float(gain * (rows >= columns ? vectors[j][i] : vectors[i][j])) }
            }
            return NDArray(values, shape: shape)
        }
    }
}
