import Foundation
import Testing
@testable import Theano
import TheanoModels

// The layers library: static output shapes, values against hand computation, initializers'
// statistics, and noise only in the training graph.

@Suite("Layers")
struct LayerTests {
    /// A small network's shapes are known when it is built, a misfitting input is an error,
    /// and dropout draws only in the training graph.
    @Test(arguments: Backend.allCases)
    func sequentialNetworks(backend: Backend) throws {
        var random = RandomState(seed: 1)
        let network = Sequential([
            try Dense(64, 32, activation: .relu, initializer: .heUniform, name: "hidden", random: &random),
            Dropout(rate: 0.5, streams: RandomStreams(seed: 2)),
            try Dense(32, 10, activation: .softmax, name: "output", random: &random),
        ])
        #expect(try network.outputShape([nil, 64]) == [nil, 10] && network.parameters.count == 4)
        #expect(throws: TheanoError.self) { try network.outputShape([nil, 63]) }
        let x = matrix("x", shape: (nil, 64)), images = try Dataset.digits().images.rows(Array(0..<20))
        var updates: [SharedVariable: Variable] = [:]
        let train = try function(inputs: [x], outputs: [network(x, training: true, updates: &updates)], options: backend.options)
        #expect(updates.isEmpty)
        let test = try function(inputs: [x], outputs: [network(x)], options: backend.options)
        #expect(try train(images)[0].elements(as: Float.self) != train(images)[0].elements(as: Float.self))
        let probabilities = try test(images)[0], again = try test(images)[0]
        #expect(probabilities.shape == [20, 10] && probabilities.elements(as: Float.self) == again.elements(as: Float.self))
        let sums = (0..<20).map { row in (0..<10).map { Double(probabilities.elements(as: Float.self)[row * 10 + $0]) }.reduce(0, +) }
        #expect(sums.allSatisfy { abs($0 - 1) < 1e-5 })
    }

    /// A dense layer computes `activation(x · W + b)`.
    @Test func denseValues() throws {
        var random = RandomState(seed: 3)
        let layer = try Dense(2, 2, activation: .tanh, initializer: .constant(0.5), name: "d", random: &random)
        try layer.biases.setValue(NDArray([Float(0.1), -0.2]))
        let x = matrix("x", shape: (nil, 2))
        let out = try function(inputs: [x], outputs: [layer(x)])(NDArray([Float(1), 2], shape: [1, 2]))[0].elements(as: Double.self)
        #expect(abs(out[0] - Foundation.tanh(1.5 + 0.1)) < 1e-6 && abs(out[1] - Foundation.tanh(1.5 - 0.2)) < 1e-6)
    }

    /// Uniform initializers stay within their bounds, normal ones have their spread, and
    /// orthogonal ones have orthonormal columns (or rows, when wide), times the gain.
    @Test func initializers() throws {
        var random = RandomState(seed: 4)
        let glorot = Initializer.glorotUniform.array([100, 50], random: &random).elements(as: Double.self)
        #expect(glorot.allSatisfy { abs($0) <= (6.0 / 150).squareRoot() } && glorot.max()! > 0.9 * (6.0 / 150).squareRoot())
        let he = Initializer.heNormal.array([200, 300], random: &random).elements(as: Double.self)
        let spread = (he.map { $0 * $0 }.reduce(0, +) / Double(he.count)).squareRoot()
        #expect(abs(spread - (2.0 / 200).squareRoot()) < 0.003)
        for (shape, gain) in [([8, 4], 1.0), ([4, 8], 2.0)] {
            let w = Initializer.orthogonal(gain: gain).array(shape, random: &random).elements(as: Double.self)
            let (rows, columns) = (shape[0], shape[1])
            // Gram matrix of the smaller side: (WᵀW or WWᵀ) / gain² = I.
            let small = Swift.min(rows, columns)
            for a in 0..<small {
                for b in 0..<small {
                    let dot = rows >= columns ? (0..<rows).map { w[$0 * columns + a] * w[$0 * columns + b] }.reduce(0, +)
                        : (0..<columns).map { w[a * columns + $0] * w[b * columns + $0] }.reduce(0, +)
                    #expect(abs(dot / (gain * gain) - (a == b ? 1 : 0)) < 1e-5)
                }
            }
        }
    }

    /// Flatten keeps the batch and joins the rest; an embedding looks rows up by index.
    @Test func flattenAndEmbedding() throws {
        let x = tensor4("x")
        #expect(try Flatten().outputShape([nil, 2, 3, 4]) == [nil, 24])
        let flat = try function(inputs: [x], outputs: [Flatten()(x)])(NDArray((0..<24).map(Float.init), shape: [1, 2, 3, 4]))[0]
        #expect(flat.shape == [1, 24] && flat.elements(as: Float.self) == (0..<24).map(Float.init))
        var random = RandomState(seed: 5)
        let embedding = try Embedding(symbols: 3, dimension: 2, name: "e", random: &random)
        try embedding.table.setValue(NDArray([Float(0), 1, 10, 11, 20, 21], shape: [3, 2]))
        let indices = matrix("i", dtype: .int64)
        #expect(try embedding.outputShape([nil, 5]) == [nil, 5, 2])
        let rows = try function(inputs: [indices], outputs: [embedding(indices)])(NDArray([Int64(0), 2, 1, 1], shape: [2, 2]))[0]
        #expect(rows.shape == [2, 2, 2] && rows.elements(as: Float.self) == [0, 1, 20, 21, 10, 11, 10, 11])
        #expect(throws: TheanoError.self) { try embedding(matrix("f")) }
    }

    /// An MLP with linear bottlenecks between its hidden layers: one narrow linear layer per
    /// gap, none before the first hidden layer or the output; it learns.
    @Test(arguments: Backend.allCases)
    func bottleneckClassifier(backend: Backend) throws {
        let (train, test) = try Dataset.digits().split(testFraction: 0.25, seed: 1)
        let model = try Classifier(sizes: [64, 48, 48, 48, 10], learningRate: 0.1, bottleneck: 8, options: backend.options)
        #expect(model.network.layers.map { $0.weights.value.shape } == [[64, 48], [48, 8], [8, 48], [48, 8], [8, 48], [48, 10]])
        #expect(model.network.bottlenecks == [1, 3])
        var random = RandomState(seed: 2)
        for _ in 0..<5 { _ = try model.trainEpoch(on: train.subset(Array(0..<400)), batchSize: 20, random: &random) }
        #expect(try model.accuracy(on: test) > 0.6)
    }
}
