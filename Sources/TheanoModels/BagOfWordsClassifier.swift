import Theano

/// Multinomial logistic regression on bag-of-words features, written as a Theano user writes
/// it: the whole training set in a shared variable, a training function that takes the
/// positions of a minibatch's documents and gathers their rows (`X[rows]`), and SGD updates.
///
/// The features are held either as a CSR matrix (the gather and the product touch only the
/// words each document has: ``structuredDot(_:_:fileID:line:)``, and the weights' gradient is
/// a sparse product too) or as a dense matrix, so that the two can be timed side by side on
/// the same model: with the same seed they train the same weights, up to float32 rounding.
public final class BagOfWordsClassifier {
    /// How the features are held.
    public enum Storage: String, Sendable, CaseIterable {
        case sparse, dense
    }

    /// Words × classes.
    public let weights: SharedVariable
    /// One per class.
    public let bias: SharedVariable
    private let trainStep: Function
    private let predictor: Function
    private let examples: Int

    /// Builds and compiles the model over the training features `features` (documents × words,
    /// stored as `storage` asks) and their `labels`.
    public init(features: SparseMatrix, labels: NDArray, classes: Int, storage: Storage, learningRate: Double, l2: Double = 0,
                options: CompileOptions = .native, profile: Bool = false) throws {
        let (count, words) = (features.shape[0], features.shape[1])
        weights = try shared(NDArray(zeros: [words, classes], dtype: features.dtype), name: "W")
        bias = try shared(NDArray(zeros: [classes], dtype: features.dtype), name: "b")
        let data = try shared(storage == .sparse ? NDArray(sparse: features) : features.dense(), name: "X")
        let targets = try shared(labels.cast(to: .int64), name: "y")
        let rows = vector("rows", dtype: .int64)
        var cost = try mean(categoricalCrossentropy(softmax(dot(data[rows], weights) + bias), targets[rows]))
        if l2 > 0 { cost = try cost + l2 * sum(sqr(weights)) }
        let updates = try Optimizer(.sgd, learningRate: .constant(learningRate)).updates(cost, parameters: [weights, bias])
        trainStep = try function(inputs: [rows], outputs: [cost], updates: updates, name: "train_\(storage)", options: options,
                                 profile: profile)
        let x = storage == .sparse ? try sparseMatrix("x", dtype: features.dtype, shape: [nil, words]) : matrix("x", dtype: features.dtype, shape: (nil, words))
        predictor = try function(inputs: [x], outputs: [argmax(dot(x, weights) + bias, axis: 1)], name: "predict_\(storage)", options: options)
        examples = count
    }

    /// The compiled training step (the cost of a minibatch, given its rows).
    public var trainingFunction: Function { trainStep }

    /// Where the training step spends its time (when built with `profile: true`).
    public var trainingProfile: Profile? { trainStep.profile }

    /// One SGD step on the documents at `rows`; returns its cost.
    public func step(rows: [Int]) throws -> Double {
        try trainStep(NDArray(rows.map(Int64.init)))[0].scalar(as: Double.self)
    }

    /// One pass over the training set in shuffled minibatches; returns the mean minibatch cost.
    public func trainEpoch(batchSize: Int, random: inout RandomState) throws -> Double {
        try meanOverMinibatches(count: examples, batchSize: batchSize, random: &random) { try step(rows: $0) }
    }

    /// The predicted class of each row of `features` (held as the model holds its own).
    public func predict(_ features: NDArray) throws -> NDArray { try predictor(features)[0] }

    /// The fraction of the documents of `features` whose class is `labels`'.
    public func accuracy(features: NDArray, labels: NDArray) throws -> Double {
        let predicted = try predict(features).elements(as: Int64.self), truth = labels.cast(to: .int64).elements(as: Int64.self)
        return Double(zip(predicted, truth).filter { $0 == $1 }.count) / Double(Swift.max(truth.count, 1))
    }

    /// The `count` words with the largest weight for each class: `(class, word identifiers)`.
    public func tellingWords(count: Int) -> [[Int]] {
        let w = weights.value.cast(to: .float64).elements(as: Double.self), classes = bias.value.count
        return (0..<classes).map { k in
            Array((0..<(w.count / classes)).sorted { w[$0 * classes + k] > w[$1 * classes + k] }.prefix(count))
        }
    }
}
