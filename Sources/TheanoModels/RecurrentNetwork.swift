import Theano

/// A recurrent network over time-major sequences (`[steps, batch, features]`): an Elman or
/// LSTM cell run by `scan`, a linear readout at every step, trained by SGD with
/// backpropagation through time — written as the Theano tutorials write it, with the input
/// projection of all steps computed before the loop, so only `h · W_h` stays inside.
public final class RecurrentNetwork {
    /// The recurrent cell.
    public enum Cell: String, Sendable, CaseIterable {
        /// `h_t = tanh(x_t · W_x + h_{t-1} · W_h + b)`.
        case elman
        /// Gates `i, f, o` and candidate `g` from one product (packed along the last axis);
        /// `c_t = f · c_{t-1} + i · g`, `h_t = o · tanh(c_t)`.
        case lstm
    }

    /// What the readout is trained for.
    public enum Loss: Sendable {
        /// Regression: `½ Σ (y - target)² / (steps · batch)` against float targets `[steps, batch, outputs]`.
        case squaredError
        /// Classification of each step: the mean cross-entropy of `softmax(y)` against
        /// integer labels `[steps, batch]` (nats).
        case crossentropy
    }

    /// The input projection's weights and biases, the recurrent weights, the readout's
    /// weights and biases.
    public var parameters: [SharedVariable] { graph.parameters }
    /// The network as graph builders.
    public let graph: Graph
    private let trainStep: Function
    private let evaluator: Function

    /// A network of `hidden` units from `inputs` features to `outputs` per step, its weights
    /// drawn from `seed` (Glorot-uniform, per gate) and its training and evaluation functions
    /// compiled with `options`. The input projection and the readout are ``Dense`` layers;
    /// the recurrence is a `scan` over the projected steps.
    public init(cell: Cell, inputs: Int, hidden: Int, outputs: Int, loss: Loss, learningRate: Double,
                seed: UInt64 = 400, options: CompileOptions = .default, profile: Bool = false) throws {
        var random = RandomState(seed: seed)
        let gates = cell == .elman ? 1 : 4
        let graph = Graph(cell: cell, hidden: hidden, outputs: outputs, loss: loss,
                          projection: try Dense(inputs, gates * hidden, fans: (inputs, hidden), name: "x", random: &random),
                          recurrentWeights: try shared(Initializer.glorotUniform.array([hidden, gates * hidden], fans: (hidden, hidden), random: &random),
                                                       name: "W_h"),
                          output: try Dense(hidden, outputs, name: "y", random: &random))
        self.graph = graph
        let x = tensor3("x", shape: (nil, nil, inputs)), target = graph.target()
        let y = try graph.readout(x)
        let cost = try mean(graph.sequenceLosses(readout: y, target))
        let updates = try Optimizer(.sgd, learningRate: .constant(learningRate)).updates(cost, parameters: graph.parameters)
        trainStep = try function(inputs: [x, target], outputs: [cost], updates: updates, name: "train", options: options, profile: profile)
        evaluator = try function(inputs: [x, target], outputs: [cost, graph.prediction(readout: y)], name: "evaluate", options: options)
    }

    /// The network's graph, for functions of one's own (a data-parallel training step).
    public struct Graph {
        /// The cell, the hidden units, the outputs per step and the loss.
        public let cell: Cell, hidden: Int, outputs: Int, loss: Loss
        let projection: Dense, recurrentWeights: SharedVariable, output: Dense

        /// The input projection's weights and biases, the recurrent weights, the readout's.
        public var parameters: [SharedVariable] { projection.parameters + [recurrentWeights] + output.parameters }

        /// A symbolic target of the loss's kind: float `[steps, batch, outputs]` for squared
        /// error, integer labels `[steps, batch]` for cross-entropy.
        public func target() -> Variable {
            switch loss {
            case .squaredError: tensor3("target", shape: (nil, nil, outputs))
            case .crossentropy: matrix("labels", dtype: .int64)
            }
        }

        /// The readout at every step of `x` (`[steps, batch, inputs]`): `[steps, batch, outputs]`.
        public func readout(_ x: Variable) throws -> Variable {
            let projected = try projection(x)
            let start = try alloc(constant(0.0), sizes: [x.shape[1], constant(Double(hidden), dtype: .int64)])
            let (Wh, hidden) = (recurrentWeights, self.hidden)
            let states: Variable
            switch cell {
            case .elman:
                states = try scan(sequences: [ScanSequence(projected)], outputsInfo: [.recurrent(start)], nonSequences: [Wh], name: "elman") { v in
                    [try tanh(v[0] + dot(v[1], v[2]))]
                }[0]
            case .lstm:
                states = try scan(sequences: [ScanSequence(projected)], outputsInfo: [.recurrent(start), .recurrent(start)], nonSequences: [Wh],
                                  name: "lstm") { v in
                    let z = try v[0] + dot(v[1], v[3])
                    let gatesOpen = try sigmoid(z[.all, 0..<(3 * hidden)])
                    let candidate = try tanh(z[.all, (3 * hidden)...])
                    let c = try gatesOpen[.all, hidden..<(2 * hidden)] * v[2] + gatesOpen[.all, 0..<hidden] * candidate
                    return [try gatesOpen[.all, (2 * hidden)...] * tanh(c), c]
                }[0]
            }
            return try output(states)
        }

        /// Each sequence's loss averaged over its steps (`[batch]`) from the readout `y`: their
        /// mean is the training cost (the mean over every step of every sequence).
        public func sequenceLosses(readout y: Variable, _ target: Variable) throws -> Variable {
            switch loss {
            case .squaredError:
                return try 0.5 * Double(outputs) * mean(sqr(y - target), axis: [0, 2])
            case .crossentropy:
                return try mean(stepCrossentropies(y, target), axis: 0)
            }
        }

        /// The prediction at every step from the readout `y`: the readout itself, or for
        /// ``Loss/crossentropy`` the most probable class (`[steps, batch]`).
        public func prediction(readout y: Variable) throws -> Variable {
            guard case .crossentropy = loss else { return y }
            return try reshape(argmax(reshape(y, [-1, outputs]), axis: 1), sizes: [y.shape[0], y.shape[1]])
        }
    }

    /// One SGD step on a batch; the cost before the step.
    @discardableResult
    public func step(_ inputs: NDArray, _ targets: NDArray) throws -> Double {
        try trainStep(inputs, targets)[0].scalar(as: Double.self)
    }

    /// The cost on a batch, and the prediction at every step (the readout, or for
    /// ``Loss/crossentropy`` the most probable class).
    public func evaluate(_ inputs: NDArray, _ targets: NDArray) throws -> (cost: Double, predictions: NDArray) {
        let results = try evaluator(inputs, targets)
        return (results[0].scalar(as: Double.self), results[1])
    }

    /// Where the training function spends its time, when built with `profile: true`.
    public var trainingProfile: Profile? { trainStep.profile }

    /// The compiled training step (cost and parameter updates).
    public var trainingFunction: Function { trainStep }
}
