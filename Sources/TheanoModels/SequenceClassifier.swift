import Theano

/// A bidirectional LSTM classifier over variable-length sequences in one padded batch: the
/// two directions' outputs concatenated, averaged over each sequence's real steps (the mask),
/// then a softmax layer; trained by Adam with the gradients clipped by norm.
public final class SequenceClassifier {
    /// The recurrent layer.
    public let layer: BiSequencer
    /// The softmax layer's weights and biases.
    public let readout: Dense
    /// Everything training moves.
    public var parameters: [SharedVariable] { layer.parameters + readout.parameters }
    private let trainStep: Function
    private let predictor: Function

    /// A classifier of `features` per step into `classes`, `hidden` units per direction.
    public init(features: Int, hidden: Int, classes: Int, learningRate: Double, clipNorm: Double = 5, seed: UInt64 = 1234,
                options: CompileOptions = .native) throws {
        var random = RandomState(seed: seed)
        layer = BiSequencer(forward: try LSTMCell(inputs: features, hidden: hidden, name: "forward", random: &random),
                            backward: try LSTMCell(inputs: features, hidden: hidden, name: "backward", random: &random))
        readout = try Dense(2 * hidden, classes, name: "readout", random: &random)
        let x = tensor3("x", dtype: .float32, shape: (nil, nil, features)), mask = matrix("mask", dtype: .float32)
        let labels = vector("labels", dtype: .int64)
        let outputs = try layer(x, mask: mask).outputs
        // The mean over each sequence's real steps.
        let pooled = try sum(outputs * mask.dimshuffle(0, 1, .newAxis), axis: 0) / sum(mask, axis: 0).dimshuffle(0, .newAxis)
        let logits = try readout(pooled)
        let cost = try mean(categoricalCrossentropy(softmax(logits), labels))
        let updates = try Optimizer(.adam(), learningRate: .constant(learningRate), clipNorm: clipNorm).updates(cost, parameters: layer.parameters + readout.parameters)
        trainStep = try function(inputs: [x, mask, labels], outputs: [cost], updates: updates, name: "train", options: options)
        predictor = try function(inputs: [x, mask], outputs: [argmax(logits, axis: 1)], name: "predict", options: options)
    }

    /// One step on a padded batch (`[steps, batch, features]`, its mask `[steps, batch]` and
    /// one label per sequence); returns its cost.
    public func step(_ x: NDArray, mask: NDArray, labels: NDArray) throws -> Double {
        try trainStep(x, mask, labels)[0].scalar(as: Double.self)
    }

    /// The class of each sequence of a padded batch.
    public func predict(_ x: NDArray, mask: NDArray) throws -> NDArray { try predictor(x, mask)[0] }
}

/// Images read row by row as sequences, some rows dropped at random so that the lengths
/// differ: each row survives with probability `1 − drop` (at least one does), the survivors
/// keep their order, and a batch is padded at the end, with a mask.
public struct RowSequences: Sendable {
    /// For each image, the rows kept.
    public let kept: [[Int]]
    public let data: Dataset
    /// Rows per image and pixels per row.
    public let rows: Int, width: Int

    /// The sequences of `data` (square images), rows dropped with probability `drop`.
    public init(_ data: Dataset, drop: Double, random: inout RandomState) {
        let side = Int(Double(data.features).squareRoot())
        (self.data, rows, width) = (data, side, side)
        kept = (0..<data.count).map { _ in
            let survivors = (0..<side).filter { _ in random.nextUnit() >= drop }
            return survivors.isEmpty ? [Int.random(in: 0..<side, using: &random)] : survivors
        }
    }

    /// The padded batch of the sequences `examples`: `[rows, batch, width]` float32, the mask
    /// `[rows, batch]` and the labels.
    public func batch(_ examples: [Int]) -> (x: NDArray, mask: NDArray, labels: NDArray) {
        let pixels = data.images.elements(as: Float.self), labels = data.labels.elements(as: Int64.self)
        var x = [Float](repeating: 0, count: rows * examples.count * width), mask = [Float](repeating: 0, count: rows * examples.count)
        for (b, example) in examples.enumerated() {
            for (t, row) in kept[example].enumerated() {
                mask[t * examples.count + b] = 1
                for k in 0..<width { x[(t * examples.count + b) * width + k] = pixels[example * data.features + row * width + k] }
            }
        }
        return (NDArray(x, shape: [rows, examples.count, width]), NDArray(mask, shape: [rows, examples.count]), NDArray(examples.map { labels[$0] }))
    }
}
