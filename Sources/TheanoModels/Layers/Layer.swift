import Theano

/// A layer of a network: it owns its shared parameters and builds graph from its input. The
/// same layer builds the training graph (noise on, state such as batch norm's running
/// averages advanced by updates it adds) and the prediction graph over the same parameters.
public protocol Layer {
    /// The shared variables training moves.
    var parameters: [SharedVariable] { get }
    /// The static shape of the output for an input of static shape `input` (the batch
    /// dimension, first, may be unknown); throws when the input does not fit the layer.
    func outputShape(_ input: [Int?]) throws -> [Int?]
    /// The output for `x`. With `training`, noise layers (dropout) draw, and a layer whose
    /// state moves while training adds those updates to `updates` (pass them to `function`).
    func callAsFunction(_ x: Variable, training: Bool, updates: inout [SharedVariable: Variable]) throws -> Variable
}

extension Layer {
    /// The output for `x` when predicting (noise layers off, no state moved).
    public func callAsFunction(_ x: Variable) throws -> Variable {
        var none: [SharedVariable: Variable] = [:]
        return try self(x, training: false, updates: &none)
    }

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

    public func callAsFunction(_ x: Variable, training: Bool, updates: inout [SharedVariable: Variable]) throws -> Variable {
        var output = x
        for layer in layers { output = try layer(output, training: training, updates: &updates) }
        return output
    }
}
