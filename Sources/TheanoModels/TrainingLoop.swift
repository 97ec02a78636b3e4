import Theano

/// Runs `step` on the minibatches of a shuffled pass over `count` examples (the last one
/// may be smaller) and returns the mean of its results.
public func meanOverMinibatches(count: Int, batchSize: Int, random: inout RandomState, _ step: ([Int]) throws -> Double) rethrows -> Double {
    let order = Array(0..<count).shuffled(using: &random)
    var total = 0.0, batches = 0
    for start in stride(from: 0, to: count, by: batchSize) {
        total += try step(Array(order[start..<Swift.min(start + batchSize, count)]))
        batches += 1
    }
    return total / Double(Swift.max(batches, 1))
}

/// A model trained by steps on labelled minibatches.
public protocol MinibatchClassifier {
    /// One training step on a minibatch; returns its cost.
    func step(images: NDArray, labels: NDArray) throws -> Double
}

extension MinibatchClassifier {
    /// One pass over `data` in shuffled minibatches; returns the mean minibatch cost.
    public func trainEpoch(on data: Dataset, batchSize: Int, random: inout RandomState) throws -> Double {
        try meanOverMinibatches(count: data.count, batchSize: batchSize, random: &random) { rows in
            try step(images: data.images.rows(rows), labels: data.labels.rows(rows))
        }
    }
}

extension Dataset {
    /// The fraction of the examples whose label is the class `predicted` gives (one `int64`
    /// per example).
    public func accuracy(of predicted: NDArray) -> Double {
        let truth = labels.elements(as: Int64.self)
        return Double(zip(predicted.elements(as: Int64.self), truth).filter { $0 == $1 }.count) / Double(Swift.max(count, 1))
    }
}
