import Theano

/// How parameters move against the gradient of a cost, as a compiled function's updates (the
/// optimizers Lasagne gave Theano users). The state an optimizer keeps (velocities, running
/// averages, the step count) lives in shared variables its updates advance.
///
/// ```swift
/// let updates = try Optimizer(.adam(), learningRate: .constant(1e-3), clipNorm: 5).updates(cost, parameters: parameters)
/// let train = try function(inputs: [x, y], outputs: [cost], updates: updates)
/// ```
public struct Optimizer: Sendable {
    /// The update rules, with their usual hyperparameters.
    public enum Rule: Sendable {
        /// `p ← p − η g`.
        case sgd
        /// `v ← μ v − η g`, `p ← p + v`.
        case momentum(Double = 0.9)
        /// Nesterov's momentum as Lasagne writes it: `v ← μ v − η g`, `p ← p + μ v − η g`.
        case nesterov(Double = 0.9)
        /// `a ← a + g²`, `p ← p − η g / √(a + ε)`.
        case adagrad(epsilon: Double = 1e-6)
        /// `a ← ρ a + (1 − ρ) g²`, `p ← p − η g / √(a + ε)`.
        case rmsprop(decay: Double = 0.9, epsilon: Double = 1e-6)
        /// Zeiler's AdaDelta: `a ← ρ a + (1 − ρ) g²`, `Δ = g √(d + ε) / √(a + ε)`, `p ← p − η Δ`,
        /// `d ← ρ d + (1 − ρ) Δ²` (η is usually 1).
        case adadelta(decay: Double = 0.95, epsilon: Double = 1e-6)
        /// Kingma and Ba's Adam, with bias-corrected moments.
        case adam(beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8)
    }

    /// The learning rate as a function of the step count `t` (0 at the first step).
    public enum Schedule: Sendable {
        /// `η`.
        case constant(Double)
        /// `η · decay^(t / steps)`.
        case exponential(Double, decay: Double, steps: Int)
        /// `η / (1 + decay · t)`.
        case inverseTime(Double, decay: Double)
        /// `η · factor^⌊t / every⌋`.
        case step(Double, factor: Double, every: Int)
    }

    public var rule: Rule
    public var learningRate: Schedule
    /// When set, the gradients are scaled together so that their joint norm is at most this.
    public var clipNorm: Double?
    /// Adds `weightDecay · p` to each parameter's gradient (L2 regularization).
    public var weightDecay: Double

    public init(_ rule: Rule, learningRate: Schedule, clipNorm: Double? = nil, weightDecay: Double = 0) {
        (self.rule, self.learningRate, self.clipNorm, self.weightDecay) = (rule, learningRate, clipNorm, weightDecay)
    }

    /// The updates of `parameters` (and of the optimizer's state) for one step on `cost`.
    public func updates(_ cost: Variable, parameters: [SharedVariable]) throws -> [SharedVariable: Variable] {
        try updates(gradients: grad(cost, wrt: parameters), parameters: parameters)
    }

    /// The updates of `parameters` (and of the optimizer's state) for one step along
    /// `gradients` (one per parameter, computed however the caller likes — reduced over
    /// processes, for data-parallel training).
    public func updates(gradients: [Variable], parameters: [SharedVariable]) throws -> [SharedVariable: Variable] {
        var gradients = gradients
        if weightDecay != 0 { gradients = try zip(gradients, parameters).map { try $0 + weightDecay * $1 } }
        if let clipNorm { gradients = try clipByNorm(gradients, maxNorm: clipNorm) }
        let step = try shared(NDArray(scalar: Float(0)), name: "optimizer_step")
        var updates: [SharedVariable: Variable] = [step: try step + 1]
        for (parameter, gradient) in zip(parameters, gradients) {
            let rate = try learningRate.value(at: cast(step, to: parameter.dtype))
            func state(_ name: String) throws -> SharedVariable {
                try shared(NDArray(zeros: parameter.value.shape, dtype: parameter.dtype), name: "\(name)_\(parameter.name ?? "parameter")")
            }
            switch rule {
            case .sgd:
                updates[parameter] = try parameter - rate * gradient
            case .momentum(let mu), .nesterov(let mu):
                let velocity = try state("velocity")
                let newVelocity = try mu * velocity - rate * gradient
                updates[velocity] = newVelocity
                if case .momentum = rule {
                    updates[parameter] = try parameter + newVelocity
                } else {
                    updates[parameter] = try parameter + mu * newVelocity - rate * gradient
                }
            case .adagrad(let epsilon):
                let accumulated = try state("adagrad")
                let newAccumulated = try accumulated + sqr(gradient)
                updates[accumulated] = newAccumulated
                updates[parameter] = try parameter - rate * gradient / sqrt(newAccumulated + epsilon)
            case .rmsprop(let decay, let epsilon):
                let average = try state("rmsprop")
                let newAverage = try decay * average + (1 - decay) * sqr(gradient)
                updates[average] = newAverage
                updates[parameter] = try parameter - rate * gradient / sqrt(newAverage + epsilon)
            case .adadelta(let decay, let epsilon):
                let average = try state("adadelta_gradients"), deltas = try state("adadelta_steps")
                let newAverage = try decay * average + (1 - decay) * sqr(gradient)
                let delta = try gradient * sqrt(deltas + epsilon) / sqrt(newAverage + epsilon)
                updates[average] = newAverage
                updates[deltas] = try decay * deltas + (1 - decay) * sqr(delta)
                updates[parameter] = try parameter - rate * delta
            case .adam(let beta1, let beta2, let epsilon):
                let first = try state("adam_m"), second = try state("adam_v")
                let t = try cast(step, to: parameter.dtype) + 1
                let corrected = try rate * sqrt(1 - pow(constant(beta2, dtype: t.dtype), t)) / (1 - pow(constant(beta1, dtype: t.dtype), t))
                let newFirst = try beta1 * first + (1 - beta1) * gradient, newSecond = try beta2 * second + (1 - beta2) * sqr(gradient)
                updates[first] = newFirst
                updates[second] = newSecond
                updates[parameter] = try parameter - corrected * newFirst / (sqrt(newSecond) + epsilon)
            }
        }
        return updates
    }
}

extension Optimizer.Schedule {
    /// The learning rate at step `t` (a float scalar, whose dtype the rate takes), as graph.
    func value(at t: Variable) throws -> Variable {
        switch self {
        case .constant(let rate): Theano.constant(rate, dtype: t.dtype)
        case .exponential(let rate, let decay, let steps): try rate * pow(Theano.constant(decay, dtype: t.dtype), t / Double(steps))
        case .inverseTime(let rate, let decay): try rate / (1 + decay * t)
        case .step(let rate, let factor, let every): try rate * pow(Theano.constant(factor, dtype: t.dtype), floor(t / Double(every)))
        }
    }
}

/// The gradients scaled together so that their joint norm is at most `maxNorm` (unchanged
/// when it is already): clipping by norm, which keeps the step's direction.
public func clipByNorm(_ gradients: [Variable], maxNorm: Double) throws -> [Variable] {
    guard !gradients.isEmpty else { return [] }
    let squares = try gradients.map { try sum(sqr(cast($0, to: .float64))) }
    let total = try sqrt(squares.dropFirst().reduce(squares[0]) { try $0 + $1 })
    let scale = try minimum(constant(1, dtype: .float64), maxNorm / maximum(total, constant(1e-12, dtype: .float64)))
    return try gradients.map { try $0 * cast(scale, to: $0.dtype) }
}
