import Theano

/// Inverted dropout while training (``Theano/dropout(_:rate:streams:training:fileID:line:)``);
/// the identity when predicting.
public struct Dropout: Layer {
    public let rate: Double
    public let streams: RandomStreams

    public init(rate: Double, streams: RandomStreams) { (self.rate, self.streams) = (rate, streams) }

    public var parameters: [SharedVariable] { [] }
    public func outputShape(_ input: [Int?]) throws -> [Int?] { input }
    public func callAsFunction(_ x: Variable, training: Bool, updates: inout [SharedVariable: Variable]) throws -> Variable {
        try dropout(x, rate: rate, streams: streams, training: training)
    }
}
