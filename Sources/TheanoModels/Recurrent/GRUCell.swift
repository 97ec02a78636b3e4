import Theano

/// The gated recurrent unit of Cho et al. (2014): an update gate `z` and a reset gate `r`
/// from the input and the previous output, the candidate
/// `n = tanh(x · W_n + b_n + (r ⊙ h_{t−1}) · U_n)`, and `h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}`. The
/// input weights and biases pack `z, r, n` along the last axis; the recurrent weights are
/// `[hidden, 2·hidden]` for the gates and `[hidden, hidden]` for the candidate.
public struct GRUCell: RecurrentCell {
    public let inputWeights: Variable, gateWeights: Variable, candidateWeights: Variable, bias: Variable

    public let hiddenSize: Int

    /// A cell computing with the given variables: `[inputs, 3·hidden]`, `[hidden, 2·hidden]`,
    /// `[hidden, hidden]` (of a static shape), `[3·hidden]`; throws when they do not fit.
    public init(inputWeights: Variable, gateWeights: Variable, candidateWeights: Variable, bias: Variable) throws {
        hiddenSize = try TheanoModels.hiddenSize(of: "GRUCell", recurrent: candidateWeights,
                                                 expected: [(inputWeights, { [-1, 3 * $0] }), (gateWeights, { [$0, 2 * $0] }),
                                                            (candidateWeights, { [$0, $0] }), (bias, { [3 * $0] })])
        (self.inputWeights, self.gateWeights, self.candidateWeights, self.bias) = (inputWeights, gateWeights, candidateWeights, bias)
    }

    /// A cell of new shared weights (Glorot-uniform per gate, zero bias).
    public init(inputs: Int, hidden: Int, name: String = "gru", dtype: DType = .float32, random: inout RandomState) throws {
        try self.init(inputWeights: try recurrentWeight([inputs, 3 * hidden], initializer: .glorotUniform, fans: (inputs, hidden), name: "W_x_\(name)",
                                                    dtype: dtype, random: &random),
                  gateWeights: try recurrentWeight([hidden, 2 * hidden], initializer: .glorotUniform, fans: (hidden, hidden), name: "U_zr_\(name)",
                                                   dtype: dtype, random: &random),
                  candidateWeights: try recurrentWeight([hidden, hidden], initializer: .glorotUniform, fans: (hidden, hidden), name: "U_n_\(name)",
                                                        dtype: dtype, random: &random),
                  bias: try recurrentBias(Array(repeating: 0, count: 3 * hidden), name: "b_\(name)", dtype: dtype))
    }

    public var stateCount: Int { 1 }
    public var weights: [Variable] { [inputWeights, gateWeights, candidateWeights, bias] }

    public func project(_ x: Variable) throws -> Variable { try dot(x, inputWeights) + bias }

    public func step(_ projected: Variable, _ states: [Variable]) throws -> [Variable] {
        let (h, n) = (states[0], hiddenSize)
        let gates = try sigmoid(projected[.all, 0..<(2 * n)] + dot(h, gateWeights))
        let (update, reset) = (try gate(gates, 0, of: n), try gate(gates, 1, of: n))
        let candidate = try tanh(gate(projected, 2, of: n) + dot(reset * h, candidateWeights))
        return [try (1 - update) * candidate + update * h]
    }
}
