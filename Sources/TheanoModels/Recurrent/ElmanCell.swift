import Theano

/// The Elman step, `h_t = f(x_t · W_x + h_{t−1} · W_h + b)` with `f` tanh or ReLU; with the
/// recurrent weights started at the identity and ReLU units, the IRNN of Le, Jaitly and
/// Hinton (2015) (``irnn(inputs:hidden:name:dtype:random:)``).
public struct ElmanCell: RecurrentCell {
    public let inputWeights: Variable, recurrentWeights: Variable, bias: Variable
    /// `.tanh` or `.relu`.
    public let activation: Activation

    public let hiddenSize: Int

    /// A cell computing with the given variables: `[inputs, hidden]`, `[hidden, hidden]` (of a
    /// static shape), `[hidden]`; throws when they do not fit.
    public init(inputWeights: Variable, recurrentWeights: Variable, bias: Variable, activation: Activation = .tanh) throws {
        hiddenSize = try TheanoModels.hiddenSize(of: "ElmanCell", recurrent: recurrentWeights,
                                                 expected: [(inputWeights, { [-1, $0] }), (recurrentWeights, { [$0, $0] }), (bias, { [$0] })])
        (self.inputWeights, self.recurrentWeights, self.bias, self.activation) = (inputWeights, recurrentWeights, bias, activation)
    }

    /// A cell of new shared weights (Glorot-uniform, zero bias).
    public init(inputs: Int, hidden: Int, activation: Activation = .tanh, name: String = "elman", dtype: DType = .float32,
                random: inout RandomState) throws {
        try self.init(inputWeights: try recurrentWeight([inputs, hidden], initializer: .glorotUniform, fans: (inputs, hidden), name: "W_x_\(name)",
                                                    dtype: dtype, random: &random),
                  recurrentWeights: try recurrentWeight([hidden, hidden], initializer: .glorotUniform, fans: (hidden, hidden),
                                                        name: "W_h_\(name)", dtype: dtype, random: &random),
                  bias: try recurrentBias(Array(repeating: 0, count: hidden), name: "b_\(name)", dtype: dtype), activation: activation)
    }

    /// The IRNN: ReLU units, recurrent weights the identity, input weights drawn from
    /// `N(0, 0.001²)`, zero bias.
    public static func irnn(inputs: Int, hidden: Int, name: String = "irnn", dtype: DType = .float32, random: inout RandomState) throws -> ElmanCell {
        let identity = NDArray((0..<(hidden * hidden)).map { $0 / hidden == $0 % hidden ? 1.0 : 0 }, shape: [hidden, hidden])
        let input = NDArray((0..<(inputs * hidden)).map { _ in 0.001 * random.nextNormal() }, shape: [inputs, hidden])
        return try ElmanCell(inputWeights: try shared(input.cast(to: dtype), name: "W_x_\(name)"),
                         recurrentWeights: try shared(identity.cast(to: dtype), name: "W_h_\(name)"),
                         bias: try recurrentBias(Array(repeating: 0, count: hidden), name: "b_\(name)", dtype: dtype), activation: .relu)
    }

    public var stateCount: Int { 1 }
    public var weights: [Variable] { [inputWeights, recurrentWeights, bias] }

    public func project(_ x: Variable) throws -> Variable { try dot(x, inputWeights) + bias }

    public func step(_ projected: Variable, _ states: [Variable]) throws -> [Variable] {
        [try activation(projected + dot(states[0], recurrentWeights))]
    }
}
