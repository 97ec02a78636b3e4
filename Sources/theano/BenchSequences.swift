import Theano
import TheanoModels

extension Bench {
    /// The W4/W5 variants of the peer harness, on the recurrent layers library: one SGD step
    /// (forward and backpropagation through time) of a `Sequencer` over 50 steps of batch 32,
    /// 128 inputs, 256 hidden units, a linear readout to 16 outputs trained for squared error.
    /// `masked`: sequences of lengths drawn from 25 to 50 steps, padded, with a mask (the state
    /// kept and the loss zero at padded steps); `gru`: a GRU cell, every step real.
    func timeSequencer(workload: String, variant: String, cell kind: String) throws {
        let (steps, batch, inputs, hidden, outputs) = (50, 32, 128, 256, 16)
        var random = RandomState(seed: 600)
        let xs = NDArray.uniform([steps, batch, inputs], low: -1, high: 1, using: &random)
        let targets = NDArray.uniform([steps, batch, outputs], low: -1, high: 1, using: &random)
        let lengths = (0..<batch).map { _ in Int.random(in: (steps / 2)...steps, using: &random) }
        let masks = NDArray((0..<(steps * batch)).map { lengths[$0 % batch] > $0 / batch ? Float(1) : 0 }, shape: [steps, batch])
        let masked = variant == "masked"
        let cell: any RecurrentCell = switch kind {
        case "gru": try GRUCell(inputs: inputs, hidden: hidden, random: &random)
        case "lstm": try LSTMCell(inputs: inputs, hidden: hidden, forgetBias: 0, random: &random)
        default: try ElmanCell(inputs: inputs, hidden: hidden, random: &random)
        }
        let readout = try Dense(hidden, outputs, name: "y", random: &random)
        let x = tensor3("x", shape: (nil, nil, inputs)), target = tensor3("target", shape: (nil, nil, outputs)), mask = matrix("mask")
        let states = try Sequencer(cell)(x, mask: masked ? mask : nil).outputs
        var squares = try sqr(readout(states) - target)
        if masked { squares = try squares * mask.dimshuffle(0, 1, .newAxis) }
        let cost = try Double(0.5) / Double(steps * batch) * sum(squares)
        let parameters = cell.parameters + readout.parameters
        let updates = try Optimizer(.sgd, learningRate: .constant(0.01)).updates(cost, parameters: parameters)
        let train = try function(inputs: [x, target, mask], outputs: [cost], updates: updates, name: "train", options: options, profile: profile)
        let gates = ["gru": 3, "lstm": 4][kind] ?? 1
        let perStep = Double(batch * (inputs + hidden) * gates * hidden), readoutWork = Double(batch * hidden * outputs)
        let forward = 2 * (perStep + readoutWork) * Double(steps)
        let flops = 2 * forward + 2 * Double(steps) * (Double(batch * hidden * gates * hidden) + readoutWork)
        try report(workload: workload, variant: variant, extra: ["notes": backend + ", Sequencer(\(kind))"], flops: flops) {
            _ = try train(xs, targets, masks)
        }
        if let profile = train.profile { print(profile) }
    }
}
