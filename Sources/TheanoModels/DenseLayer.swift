import Theano

/// A fully connected layer's parameters, `x · W + b`, shared between the graphs a model
/// builds from them (training, testing, sampling).
public struct DenseLayer {
    /// The weights, inputs × outputs.
    public let weights: SharedVariable
    /// The biases, one per output.
    public let biases: SharedVariable

    /// Glorot-uniform weights (`±√(6 / (fanIn + fanOut))`, times `scale`) and zero biases,
    /// in `float32`.
    public init(_ fanIn: Int, _ fanOut: Int, name: String, scale: Double = 1, random: inout RandomState) throws {
        let bound = scale * (6.0 / Double(fanIn + fanOut)).squareRoot()
        weights = try shared(NDArray.uniform([fanIn, fanOut], low: -bound, high: bound, using: &random), name: "W_\(name)")
        biases = try shared(NDArray(zeros: [fanOut], dtype: .float32), name: "b_\(name)")
    }

    /// `x · W + b`.
    public func callAsFunction(_ x: Variable) throws -> Variable { try dot(x, weights) + biases }

    /// The weights and the biases.
    public var parameters: [SharedVariable] { [weights, biases] }
}
