import Testing
@testable import Theano

@Test func scratchMLP() throws {
    let x = matrix("x", shape: (nil, 784)), y = vector("y", dtype: .int64)
    var random = RandomState(seed: 1)
    let W1 = try shared(NDArray.uniform([784, 500], low: -0.1, high: 0.1, using: &random), name: "W1")
    let b1 = try shared(NDArray(zeros: [500], dtype: .float32), name: "b1")
    let W2 = try shared(NDArray.uniform([500, 10], low: -0.1, high: 0.1, using: &random), name: "W2")
    let b2 = try shared(NDArray(zeros: [10], dtype: .float32), name: "b2")
    let h = try tanh(dot(x, W1) + b1)
    let p = try softmax(dot(h, W2) + b2)
    let cost = try mean(categoricalCrossentropy(p, y))
    let params = [W1, b1, W2, b2]
    let grads = try grad(cost, wrt: params)
    var updates: [SharedVariable: Variable] = [:]
    for (param, g) in zip(params, grads) { updates[param] = try param - 0.01 * g }
    let raw = try function(inputs: [x, y], outputs: [cost], updates: updates, options: .unoptimized)
    let opt = try function(inputs: [x, y], outputs: [cost], updates: updates, options: CompileOptions(trace: true, checkInvariants: true))
    print("NODES raw", raw.graph.nodes.count, "optimized", opt.graph.nodes.count)
    print(opt.rewriteReport)
    print(debugprint(opt))
}
