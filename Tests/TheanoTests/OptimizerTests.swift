import Foundation
import Testing
@testable import Theano
import TheanoModels

// The optimizers against their update rules computed by hand, step by step.

@Suite("Optimizers")
struct OptimizerTests {
    /// Three steps of each rule on `½‖p‖²` (whose gradient is `p`), against the same rule
    /// written out in Swift.
    @Test(arguments: Backend.allCases)
    func rulesMatchTheirFormulas(backend: Backend) throws {
        let rules: [(String, Optimizer.Rule)] = [("sgd", .sgd), ("momentum", .momentum(0.9)), ("nesterov", .nesterov(0.8)),
                                                 ("adagrad", .adagrad()), ("rmsprop", .rmsprop()), ("adadelta", .adadelta()), ("adam", .adam())]
        for (name, rule) in rules {
            let p = try shared(NDArray([1.0, -2.0]), name: "p")
            let rate = name == "adadelta" ? 1.0 : 0.1
            let f = try function(inputs: [], outputs: [], updates: Optimizer(rule, learningRate: .constant(rate)).updates(0.5 * sum(sqr(p)), parameters: [p]),
                                 options: backend.options)
            var expected = [1.0, -2.0], first = [0.0, 0.0], second = [0.0, 0.0]
            for t in 1...3 {
                _ = try f([])
                for i in 0..<2 {
                    let g = expected[i]
                    switch rule {
                    case .sgd: expected[i] -= rate * g
                    case .momentum(let mu):
                        first[i] = mu * first[i] - rate * g
                        expected[i] += first[i]
                    case .nesterov(let mu):
                        first[i] = mu * first[i] - rate * g
                        expected[i] += mu * first[i] - rate * g
                    case .adagrad(let epsilon):
                        first[i] += g * g
                        expected[i] -= rate * g / (first[i] + epsilon).squareRoot()
                    case .rmsprop(let decay, let epsilon):
                        first[i] = decay * first[i] + (1 - decay) * g * g
                        expected[i] -= rate * g / (first[i] + epsilon).squareRoot()
                    case .adadelta(let decay, let epsilon):
                        first[i] = decay * first[i] + (1 - decay) * g * g
                        let delta = g * (second[i] + epsilon).squareRoot() / (first[i] + epsilon).squareRoot()
                        second[i] = decay * second[i] + (1 - decay) * delta * delta
                        expected[i] -= rate * delta
                    case .adam(let beta1, let beta2, let epsilon):
                        first[i] = beta1 * first[i] + (1 - beta1) * g
                        second[i] = beta2 * second[i] + (1 - beta2) * g * g
                        let corrected = rate * (1 - Foundation.pow(beta2, Double(t))).squareRoot() / (1 - Foundation.pow(beta1, Double(t)))
                        expected[i] -= corrected * first[i] / (second[i].squareRoot() + epsilon)
                    }
                }
                let actual = p.value.elements(as: Double.self)
                #expect(zip(actual, expected).allSatisfy { abs($0 - $1) < 1e-12 }, "\(name), step \(t): \(actual) vs \(expected)")
            }
        }
    }

    /// Clipping scales the gradients together to the norm asked for; weight decay adds `λp`.
    @Test func clippingAndWeightDecay() throws {
        let p = try shared(NDArray([3.0, 4.0]), name: "p")
        let clipped = try function(inputs: [], outputs: [], updates: Optimizer(.sgd, learningRate: .constant(1), clipNorm: 1).updates(0.5 * sum(sqr(p)), parameters: [p]))
        _ = try clipped([])
        #expect(zip(p.value.elements(as: Double.self), [2.4, 3.2]).allSatisfy { abs($0 - $1) < 1e-12 })
        let q = try shared(NDArray([1.0, -1.0]), name: "q")
        let decayed = try function(inputs: [], outputs: [], updates: Optimizer(.sgd, learningRate: .constant(0.5), weightDecay: 0.2).updates(sum(q), parameters: [q]))
        _ = try decayed([])
        // g = 1 + 0.2 q
        #expect(zip(q.value.elements(as: Double.self), [1 - 0.5 * 1.2, -1 - 0.5 * 0.8]).allSatisfy { abs($0 - $1) < 1e-12 })
    }

    /// Each schedule's learning rate at steps 0 to 3, read from the steps SGD takes on `Σp`.
    @Test func schedulesSetTheRateByStep() throws {
        let schedules: [(Optimizer.Schedule, [Double])] = [
            (.constant(0.5), [0.5, 0.5, 0.5, 0.5]), (.exponential(1, decay: 0.5, steps: 2), [1, Foundation.pow(0.5, 0.5), 0.5, Foundation.pow(0.5, 1.5)]),
            (.inverseTime(1, decay: 1), [1, 0.5, 1.0 / 3, 0.25]), (.step(1, factor: 0.1, every: 2), [1, 1, 0.1, 0.1]),
        ]
        for (schedule, rates) in schedules {
            let p = try shared(NDArray([0.0]), name: "p")
            let f = try function(inputs: [], outputs: [], updates: Optimizer(.sgd, learningRate: schedule).updates(sum(p), parameters: [p]))
            var previous = 0.0
            for rate in rates {
                _ = try f([])
                let now = p.value.elements(as: Double.self)[0]
                #expect(abs(previous - now - rate) < 1e-12, "\(schedule): \(previous - now) vs \(rate)")
                previous = now
            }
        }
    }
}
