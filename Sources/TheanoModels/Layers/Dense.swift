import Theano

/// A fully connected layer, `activation(x · W + b)`, over the last axis of its input.
public struct Dense: Layer {
    /// The weights, inputs × outputs.
    public let weights: SharedVariable
    /// The biases, one per output.
    public let biases: SharedVariable
    /// The nonlinearity after the affine map.
    public let activation: Activation

    /// Weights from `initializer`, times `scale` (0: all zeros), and zero biases, in `float32`.
    /// `fans` replaces the initializer's fan-in and fan-out (`inputs`, `outputs`): a layer
    /// computing several gates at once is initialized per gate.
    public init(_ inputs: Int, _ outputs: Int, activation: Activation = .linear, initializer: Initializer = .glorotUniform,
                fans: (in: Int, out: Int)? = nil, name: String, scale: Double = 1, random: inout RandomState) throws {
        let initial = initializer.array([inputs, outputs], fans: fans, random: &random)
        weights = try shared(scale == 1 ? initial : initial.scaled(by: scale), name: "W_\(name)")
        biases = try shared(NDArray(zeros: [outputs], dtype: .float32), name: "b_\(name)")
        self.activation = activation
    }

    /// The weights and the biases.
    public var parameters: [SharedVariable] { [weights, biases] }

    public func outputShape(_ input: [Int?]) throws -> [Int?] {
        guard let last = input.last, last == nil || last == weights.value.shape[0] else {
            throw misfit(input, "does not end in the \(weights.value.shape[0]) inputs of a dense layer")
        }
        return input.dropLast() + [weights.value.shape[1]]
    }

    public func callAsFunction(_ x: Variable, training: Bool, updates: inout [SharedVariable: Variable]) throws -> Variable { try activation(dot(x, weights) + biases) }
}

extension NDArray {
    /// The elements times `factor`, in `float32`.
    fileprivate func scaled(by factor: Double) -> NDArray {
        NDArray(elements(as: Float.self).map { $0 * Float(factor) }, shape: shape)
    }
}
