import Theano

/// Plain SGD: every parameter moves against its gradient of `cost`, times `learningRate`.
public func sgdUpdates(_ cost: Variable, parameters: [SharedVariable], learningRate: Double) throws -> [SharedVariable: Variable] {
    let gradients = try grad(cost, wrt: parameters)
    return Dictionary(uniqueKeysWithValues: try zip(parameters, gradients).map { ($0, try $0 - learningRate * $1) })
}

/// Adam (Kingma and Ba, 2015): each parameter moves by its bias-corrected first moment
/// over the square root of its second, the moments running averages of the gradient of
/// `cost` and of its square kept in shared state the updates advance.
public func adamUpdates(_ cost: Variable, parameters: [SharedVariable], learningRate: Double, beta1: Double = 0.9,
                        beta2: Double = 0.999, epsilon: Double = 1e-8) throws -> [SharedVariable: Variable] {
    let gradients = try grad(cost, wrt: parameters)
    let step = try shared(NDArray(scalar: Float(0)), name: "adam_step")
    let t = try step + 1
    let rate = try learningRate * sqrt(1 - pow(constant(beta2, dtype: .float32), t)) / (1 - pow(constant(beta1, dtype: .float32), t))
    var updates: [SharedVariable: Variable] = [step: t]
    for (parameter, gradient) in zip(parameters, gradients) {
        let zeros = NDArray(zeros: parameter.value.shape, dtype: parameter.dtype)
        let first = try shared(zeros, name: "adam_m_\(parameter.name ?? "")"), second = try shared(zeros, name: "adam_v_\(parameter.name ?? "")")
        let newFirst = try beta1 * first + (1 - beta1) * gradient, newSecond = try beta2 * second + (1 - beta2) * sqr(gradient)
        updates[first] = newFirst
        updates[second] = newSecond
        updates[parameter] = try parameter - rate * newFirst / (sqrt(newSecond) + epsilon)
    }
    return updates
}
