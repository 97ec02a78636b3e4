import Theano

/// A layer's nonlinearity.
public enum Activation: String, Sendable, CaseIterable {
    /// The identity, the hyperbolic tangent, the rectifier (`max(x, 0)`), the logistic
    /// sigmoid, and the softmax over the last axis.
    case linear, tanh, relu, sigmoid, softmax

    /// The nonlinearity applied to `x`.
    public func callAsFunction(_ x: Variable) throws -> Variable {
        switch self {
        case .linear: x
        case .tanh: try Theano.tanh(x)
        case .relu: try Theano.relu(x)
        case .sigmoid: try Theano.sigmoid(x)
        case .softmax: try Theano.softmax(x, axis: -1)
        }
    }
}
