import Theano

/// The LSTM step (Hochreiter and Schmidhuber; Gers et al.'s forget gate and, optionally,
/// peepholes): gates `i, f, o` and candidate `g` from one product each of the input and the
/// previous output, packed in that order along the last axis;
/// `c_t = f ⊙ c_{t−1} + i ⊙ g`, `h_t = o ⊙ tanh(c_t)`. With peepholes the input and forget gates
/// also read `c_{t−1}`, and the output gate `c_t` (one weight per unit each). The states are
/// `[h, c]`.
public struct LSTMCell: RecurrentCell {
    public let inputWeights: Variable, recurrentWeights: Variable, bias: Variable
    /// `[3, hidden]`: the input, forget and output gates' peephole weights, or `nil`.
    public let peepholes: Variable?

    public let hiddenSize: Int

    /// A cell computing with the given variables: `[inputs, 4·hidden]`, `[hidden, 4·hidden]`
    /// (of a static shape), `[4·hidden]` and optionally `[3, hidden]`; throws when they do not fit.
    public init(inputWeights: Variable, recurrentWeights: Variable, bias: Variable, peepholes: Variable? = nil) throws {
        hiddenSize = try TheanoModels.hiddenSize(of: "LSTMCell", recurrent: recurrentWeights,
                                                 expected: [(inputWeights, { [-1, 4 * $0] }), (recurrentWeights, { [$0, 4 * $0] }), (bias, { [4 * $0] })]
                                                     + (peepholes.map { [($0, { [3, $0] })] } ?? []))
        (self.inputWeights, self.recurrentWeights, self.bias, self.peepholes) = (inputWeights, recurrentWeights, bias, peepholes)
    }

    /// A cell of new shared weights (Glorot-uniform per gate), the forget gate's bias at
    /// `forgetBias` (1 keeps memories early in training), peepholes at zero.
    public init(inputs: Int, hidden: Int, peepholes: Bool = false, forgetBias: Double = 1, name: String = "lstm", dtype: DType = .float32,
                random: inout RandomState) throws {
        let bias = (0..<(4 * hidden)).map { $0 / hidden == 1 ? forgetBias : 0 }
        try self.init(inputWeights: try recurrentWeight([inputs, 4 * hidden], initializer: .glorotUniform, fans: (inputs, hidden), name: "W_x_\(name)",
                                                    dtype: dtype, random: &random),
                  recurrentWeights: try recurrentWeight([hidden, 4 * hidden], initializer: .glorotUniform, fans: (hidden, hidden),
                                                        name: "W_h_\(name)", dtype: dtype, random: &random),
                  bias: try recurrentBias(bias, name: "b_\(name)", dtype: dtype),
                  peepholes: peepholes ? try shared(NDArray(zeros: [3, hidden], dtype: dtype), name: "p_\(name)") : nil)
    }

    public var stateCount: Int { 2 }
    public var weights: [Variable] { [inputWeights, recurrentWeights, bias] + (peepholes.map { [$0] } ?? []) }

    public func project(_ x: Variable) throws -> Variable { try dot(x, inputWeights) + bias }

    public func step(_ projected: Variable, _ states: [Variable]) throws -> [Variable] {
        let (h, c, n) = (states[0], states[1], hiddenSize)
        let z = try projected + dot(h, recurrentWeights)
        func peeped(_ index: Int, _ gateIndex: Int, _ memory: Variable) throws -> Variable {
            guard let peepholes else { return try gate(z, gateIndex, of: n) }
            return try gate(z, gateIndex, of: n) + peepholes[index] * memory
        }
        let input = try sigmoid(peeped(0, 0, c)), forget = try sigmoid(peeped(1, 1, c))
        let memory = try forget * c + input * tanh(gate(z, 3, of: n))
        let output = try sigmoid(peeped(2, 2, memory))
        return [try output * tanh(memory), memory]
    }
}
