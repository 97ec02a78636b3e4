import Theano

/// "Dropout as data augmentation" (Bouthillier, Konda, Vincent and Memisevic, 2015): the
/// noise dropout puts on a network's first hidden layer, projected back into input space.
/// For an input `x`, a dropout mask is drawn on `h(x)`, and `x̃` starts at `x` and descends
/// `‖h(x̃) − dropout(h(x))‖²` for a few gradient steps (staying in `[0, 1]`): an input the
/// network sees as `x` with its hidden units dropped. A deterministic network trained on such
/// inputs learns what the dropout network learned from its noise.
public struct DropoutAugmentation {
    private let target: Function
    private let descend: Function
    private let steps: Int

    /// Compiles the projection through `network`'s first hidden layer, with `steps` gradient
    /// steps of size `stepSize`.
    public init(network: Classifier.Network, rate: Double, steps: Int = 20, stepSize: Double = 0.5, seed: UInt64 = 1234,
                options: CompileOptions = .default) throws {
        let streams = RandomStreams(seed: seed)
        let x = matrix("x"), dropped = matrix("dropped"), projected = matrix("projected")
        target = try function(inputs: [x], outputs: [dropout(network.firstHiddenLayer(x), rate: rate, streams: streams)],
                              name: "dropped_hidden", options: options)
        let distance = try sum(sqr(network.firstHiddenLayer(projected) - dropped))
        let moved = try clip(projected - stepSize * grad(distance, wrt: [projected])[0], 0, 1)
        descend = try function(inputs: [projected, dropped], outputs: [moved], name: "project_dropout", options: options)
        self.steps = steps
    }

    /// The examples of `data` with fresh dropout noise projected into their pixels.
    public func augment(_ data: Dataset) throws -> Dataset {
        let dropped = try target(data.images)[0]
        var projected = data.images
        for _ in 0..<steps { projected = try descend(projected, dropped)[0] }
        var augmented = data
        augmented.images = projected
        return augmented
    }
}
