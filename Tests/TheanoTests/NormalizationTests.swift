import Foundation
import Testing
import TheanoTestSupport
@testable import Theano
import TheanoModels

// Batch and layer normalization against their formulas computed by hand, their gradients by
// finite differences, and the batch-norm layer's running averages.

/// `values` (rows × columns) normalized per column (or per row) with the population variance.
private func normalized(_ values: [[Double]], epsilon: Double, perColumn: Bool) -> [[Double]] {
    let lines = perColumn ? (0..<values[0].count).map { j in values.map { $0[j] } } : values
    let results = lines.map { line in
        let mean = line.reduce(0, +) / Double(line.count)
        let variance = line.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(line.count)
        return line.map { ($0 - mean) / (variance + epsilon).squareRoot() }
    }
    return perColumn ? (0..<values.count).map { i in results.map { $0[i] } } : results
}

@Suite("Normalization")
struct NormalizationTests {
    static let rows: [[Double]] = [[1, -2, 0.5], [3, 0, 2.5], [-1, 4, 1], [0.5, 1, -3]]
    static var matrixValue: NDArray { NDArray(rows.flatMap { $0 }, shape: [4, 3]) }

    /// Per-activation statistics, gamma and beta, and the running averages' updates.
    @Test(arguments: Backend.allCases)
    func batchNormalizationValues(backend: Backend) throws {
        let x = matrix("x", dtype: .float64)
        let gamma = constant(NDArray([2.0, 1, 0.5])), beta = constant(NDArray([0.1, 0, -0.1]))
        let runningMean = try shared(NDArray([0.0, 0, 0]), name: "mean"), runningVariance = try shared(NDArray([1.0, 1, 1]), name: "variance")
        let result = try batchNormalizationTrain(x, gamma: gamma, beta: beta, epsilon: 1e-3, runningAverageFactor: 0.5,
                                                 runningMean: runningMean, runningVariance: runningVariance)
        let f = try function(inputs: [x], outputs: [result.output], updates: result.updates, options: backend.options)
        let out = try f(Self.matrixValue)[0].elements(as: Double.self)
        let expected = normalized(Self.rows, epsilon: 1e-3, perColumn: true).flatMap { row in
            zip(row, zip([2.0, 1, 0.5], [0.1, 0, -0.1])).map { $0 * $1.0 + $1.1 }
        }
        #expect(zip(out, expected).allSatisfy { abs($0 - $1) < 1e-12 })
        let columns = (0..<3).map { j in Self.rows.map { $0[j] } }
        let means = columns.map { $0.reduce(0, +) / 4 }
        let unbiased = zip(columns, means).map { column, mean in column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 3 }
        #expect(zip(runningMean.value.elements(as: Double.self), means.map { 0.5 * $0 }).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(zip(runningVariance.value.elements(as: Double.self), unbiased.map { 0.5 + 0.5 * $0 }).allSatisfy { abs($0 - $1) < 1e-12 })
        let test = try function(inputs: [x], outputs: [batchNormalizationTest(x, gamma: gamma, beta: beta, mean: runningMean, variance: runningVariance)])
        let first = try test(Self.matrixValue)[0].elements(as: Double.self)[0]
        #expect(abs(first - ((1 - means[0] * 0.5) / (0.5 + 0.5 * unbiased[0] + 1e-4).squareRoot() * 2 + 0.1)) < 1e-12)
    }

    /// Spatial statistics average over the batch and the image axes, one per channel.
    @Test func spatialStatistics() throws {
        let x = tensor4("x", dtype: .float64)
        let result = try batchNormalizationTrain(x, gamma: constant(NDArray([1.0, 1], shape: [1, 2, 1, 1])),
                                                 beta: constant(NDArray([0.0, 0], shape: [1, 2, 1, 1])), axes: .spatial)
        let values = (0..<24).map { Double($0 * $0 % 7) }
        let mean = try function(inputs: [x], outputs: [result.mean])(NDArray(values, shape: [2, 2, 3, 2]))[0]
        #expect(mean.shape == [1, 2, 1, 1])
        let channel0 = [0, 1].flatMap { n in (0..<6).map { values[n * 12 + $0] } }
        #expect(abs(mean.elements(as: Double.self)[0] - channel0.reduce(0, +) / 12) < 1e-12)
    }

    /// Gradients through the batch statistics and through layer normalization.
    @Test func gradientsMatchFiniteDifferences() throws {
        try verifyGrad({ p in
            try sum(sin(batchNormalizationTrain(p[0], gamma: p[1], beta: p[2], axes: .perActivation).output))
        }, at: [Self.matrixValue, NDArray([2.0, 1, 0.5]), NDArray([0.1, 0, -0.1])])
        try verifyGrad({ p in try sum(sin(layerNormalization(p[0], gain: p[1], bias: p[2]))) },
                       at: [Self.matrixValue, NDArray([2.0, 1, 0.5]), NDArray([0.1, 0, -0.1])])
    }

    /// Layer normalization normalizes each row by its own statistics.
    @Test func layerNormalizationValues() throws {
        let x = matrix("x", dtype: .float64)
        let out = try function(inputs: [x], outputs: [layerNormalization(x, gain: constant(1.0, dtype: .float64), bias: constant(0.0, dtype: .float64))])(
            Self.matrixValue)[0].elements(as: Double.self)
        #expect(zip(out, normalized(Self.rows, epsilon: 1e-5, perColumn: false).flatMap { $0 }).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(throws: TheanoError.self) { try layerNormalization(x, gain: x, bias: x, axes: [2]) }
    }

    /// The layer's training graph comes with the running averages' updates; its prediction
    /// uses them.
    @Test(arguments: Backend.allCases)
    func batchNormLayer(backend: Backend) throws {
        let layer = try BatchNorm(shape: [1, 3], runningAverageFactor: 0.5, name: "bn")
        let x = matrix("x", shape: (nil, 3))
        var updates: [SharedVariable: Variable] = [:]
        let output = try layer(x, training: true, updates: &updates)
        #expect(Set(updates.keys) == [layer.runningMean, layer.runningVariance])
        let train = try function(inputs: [x], outputs: [output], updates: updates, options: backend.options)
        let input = Self.matrixValue.cast(to: .float32)
        _ = try train(input)
        let means = (0..<3).map { j in Self.rows.map { $0[j] }.reduce(0, +) / 4 }
        #expect(zip(layer.runningMean.value.elements(as: Double.self), means.map { 0.5 * $0 }).allSatisfy { abs($0 - $1) < 1e-6 })
        let predict = try function(inputs: [x], outputs: [layer(x)], options: backend.options)
        let first = try predict(input)[0].elements(as: Double.self)[0]
        let variance = layer.runningVariance.value.elements(as: Double.self)[0]
        #expect(abs(first - (1 - 0.5 * means[0]) / (variance + 1e-4).squareRoot()) < 1e-5)
        #expect(try layer.outputShape([nil, 3]) == [nil, 3])
        #expect(throws: TheanoError.self) { try layer.outputShape([nil, 4]) }
    }
}
