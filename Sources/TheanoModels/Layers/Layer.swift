import Theano

/// A layer of a network: it owns its shared parameters and builds graph from its input. The
/// same layer builds the training graph (noise on) and the test graph (noise off) over the
/// same parameters.
public protocol Layer {
    /// The shared variables training moves.
    var parameters: [SharedVariable] { get }
    /// The static shape of the output for an input of static shape `input` (the batch
    /// dimension, first, may be unknown); throws when the input does not fit the layer.
    func outputShape(_ input: [Int?]) throws -> [Int?]
    /// The output for `x`; `training` turns noise layers (dropout) on.
    func callAsFunction(_ x: Variable, training: Bool) throws -> Variable
}

extension Layer {
    /// The output for `x` when predicting (noise layers off).
    public func callAsFunction(_ x: Variable) throws -> Variable { try self(x, training: false) }

    /// The error of an input that does not fit.
    func misfit(_ input: [Int?], _ reason: String) -> TheanoError {
        .invalidArgument(function: "\(type(of: self))", reason: "an input of shape \(input.map { $0.map(String.init) ?? "?" }) \(reason)",
                         location: .resolve(fileID: #fileID, line: #line))
    }
}

/// Layers applied one after the other.
public struct Sequential: Layer {
    /// The layers, first applied first.
    public let layers: [any Layer]

    public init(_ layers: [any Layer]) { self.layers = layers }

    public var parameters: [SharedVariable] { layers.flatMap(\.parameters) }

    public func outputShape(_ input: [Int?]) throws -> [Int?] { try layers.reduce(input) { try $1.outputShape($0) } }

    public func callAsFunction(_ x: Variable, training: Bool) throws -> Variable {
        try layers.reduce(x) { try $1($0, training: training) }
    }
}
