import Theano

/// Batch normalization as a layer: learned `gamma` and `beta`, and running averages of the
/// batch statistics for prediction. While training it normalizes by the batch's statistics
/// and adds the running averages' updates to the training updates; predictions use the
/// running averages.
public struct BatchNorm: Layer {
    public let gamma: SharedVariable, beta: SharedVariable
    public let runningMean: SharedVariable, runningVariance: SharedVariable
    public let axes: NormalizationAxes
    public let epsilon: Double, runningAverageFactor: Double

    /// Statistics of shape `shape`: the input's, with the averaged axes of size 1 (`[1, 64]`
    /// for 64 activations, `[1, 16, 1, 1]` for 16 channels of images).
    public init(shape: [Int], axes: NormalizationAxes = .perActivation, epsilon: Double = 1e-4, runningAverageFactor: Double = 0.1,
                name: String) throws {
        let ones = NDArray([Float](repeating: 1, count: shape.reduce(1, *)), shape: shape)
        let zeros = NDArray(zeros: shape, dtype: .float32)
        gamma = try shared(ones, name: "gamma_\(name)")
        beta = try shared(zeros, name: "beta_\(name)")
        runningMean = try shared(zeros, name: "mean_\(name)")
        runningVariance = try shared(ones, name: "variance_\(name)")
        (self.axes, self.epsilon, self.runningAverageFactor) = (axes, epsilon, runningAverageFactor)
    }

    public var parameters: [SharedVariable] { [gamma, beta] }

    public func outputShape(_ input: [Int?]) throws -> [Int?] {
        let shape = gamma.value.shape
        guard input.count == shape.count, zip(input, shape).allSatisfy({ $0 == nil || $1 == 1 || $0 == $1 }) else {
            throw misfit(input, "does not fit batch statistics of shape \(shape)")
        }
        return input
    }

    public func callAsFunction(_ x: Variable, training: Bool, updates: inout [SharedVariable: Variable]) throws -> Variable {
        guard training else {
            return try batchNormalizationTest(x, gamma: gamma, beta: beta, mean: runningMean, variance: runningVariance, epsilon: epsilon)
        }
        let result = try batchNormalizationTrain(x, gamma: gamma, beta: beta, axes: axes, epsilon: epsilon, runningAverageFactor: runningAverageFactor,
                                                 runningMean: runningMean, runningVariance: runningVariance)
        updates.merge(result.updates) { $1 }
        return result.output
    }
}
