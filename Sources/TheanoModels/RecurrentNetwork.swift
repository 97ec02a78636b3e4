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
    public let parameters: [SharedVariable]
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
        let projection = try Dense(inputs, gates * hidden, fans: (inputs, hidden), name: "x", random: &random)
        let Wh = try shared(Initializer.glorotUniform.array([hidden, gates * hidden], fans: (hidden, hidden), random: &random), name: "W_h")
        let output = try Dense(hidden, outputs, name: "y", random: &random)
        parameters = projection.parameters + [Wh] + output.parameters

        let x = tensor3("x", shape: (nil, nil, inputs))
        let projected = try projection(x)
        let start = try alloc(constant(0.0), sizes: [x.shape[1], constant(Double(hidden), dtype: .int64)])
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
        let readout = try output(states)
        let cost: Variable, target: Variable, prediction: Variable
        switch loss {
        case .squaredError:
            target = tensor3("target", shape: (nil, nil, outputs))
            cost = try 0.5 * Double(outputs) * mean(sqr(readout - target))
            prediction = readout
        case .crossentropy:
            target = matrix("labels", dtype: .int64)
            let logits = try reshape(readout, [-1, outputs])
            cost = try mean(categoricalCrossentropy(softmax(logits), flatten(target)))
            prediction = try reshape(argmax(logits, axis: 1), sizes: [x.shape[0], x.shape[1]])
        }
        let updates = try Optimizer(.sgd, learningRate: .constant(learningRate)).updates(cost, parameters: parameters)
        trainStep = try function(inputs: [x, target], outputs: [cost], updates: updates, name: "train", options: options, profile: profile)
        evaluator = try function(inputs: [x, target], outputs: [cost, prediction], name: "evaluate", options: options)
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
