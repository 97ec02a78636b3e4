import Testing
@testable import Theano
import TheanoModels

/// `a · x + y` of float64 arrays of one shape.
private func axpy(_ a: Double, _ x: NDArray, _ y: NDArray) -> NDArray {
    NDArray(zip(x.elements(as: Double.self), y.elements(as: Double.self)).map { a * $0 + $1 }, shape: x.shape)
}

extension NDArray {
    /// Each element through `f`, float64.
    fileprivate func map(_ f: (Double) -> Double) -> NDArray { NDArray(elements(as: Double.self).map(f), shape: shape) }
}

// Hessian-free optimization: the Gauss–Newton product from Rop and Lop against the Hessian
// where they coincide, its symmetry and sign through a recurrent network, and steps that
// lower the loss.

@Suite("Hessian-free optimization")
struct HessianFreeTests {
    /// For a linear model the Gauss–Newton matrix is the Hessian: `G v` matches central
    /// differences of the gradient along `v`, for softmax cross-entropy and squared error.
    @Test(arguments: [HessianFree.Loss.softmaxCrossentropy, .squaredError])
    func gaussNewtonOfALinearModelIsTheHessian(loss: HessianFree.Loss) throws {
        var random = RandomState(seed: 21)
        let w = try shared(NDArray.uniform([5, 3], low: -1, high: 1, dtype: .float64, using: &random), name: "W")
        let b = try shared(NDArray.uniform([3], low: -1, high: 1, dtype: .float64, using: &random), name: "b")
        let x = matrix("x", dtype: .float64)
        let isCrossentropy = if case .softmaxCrossentropy = loss { true } else { false }
        let targets = isCrossentropy ? vector("t", dtype: .int64) : matrix("t", dtype: .float64)
        let optimizer = try HessianFree(parameters: [w, b], inputs: [x], outputs: dot(x, w) + b, targets: targets, loss: loss, options: .default)
        let data = [NDArray.uniform([20, 5], low: -1, high: 1, dtype: .float64, using: &random),
                    isCrossentropy ? NDArray((0..<20).map { Int64($0 % 3) }) : NDArray.uniform([20, 3], low: -1, high: 1, dtype: .float64, using: &random)]
        let v = [NDArray.uniform([5, 3], low: -1, high: 1, dtype: .float64, using: &random), NDArray.uniform([3], low: -1, high: 1, dtype: .float64, using: &random)]
        let product = try optimizer.gaussNewtonProduct(v, on: data)

        let cost: Variable = isCrossentropy ? try mean(categoricalCrossentropy(softmax(dot(x, w) + b), targets))
            : try 0.5 * sum(sqr(dot(x, w) + b - targets)) / 20
        let gradient = try function(inputs: [x, targets], outputs: grad(cost, wrt: [w, b]))
        let (w0, b0, h) = (w.value, b.value, 1e-5)
        func gradientAt(_ sign: Double) throws -> [NDArray] {
            try w.setValue(axpy(sign * h, v[0], w0))
            try b.setValue(axpy(sign * h, v[1], b0))
            return try gradient(data)
        }
        let (plus, minus) = (try gradientAt(1), try gradientAt(-1))
        for k in 0..<2 {
            let difference = axpy(-1, minus[k], plus[k]).map { $0 / (2 * h) }
            #expect(product[k].isClose(to: difference, rtol: 1e-6, atol: 1e-8), "parameter \(k): off by \(product[k].maxAbsDifference(to: difference))")
        }
    }

    /// Through a recurrent network (Rop and Lop through scan) the product is symmetric and
    /// positive semidefinite, and a few steps lower the loss.
    @Test func stepsThroughARecurrentNetwork() throws {
        var random = RandomState(seed: 22)
        let cell = try ElmanCell(inputs: 3, hidden: 5, dtype: .float64, random: &random)
        let readout = try shared(NDArray.uniform([5, 2], low: -1, high: 1, dtype: .float64, using: &random), name: "W_y")
        let x = tensor3("x", dtype: .float64), targets = tensor3("t", dtype: .float64)
        let z = try dot(Sequencer(cell)(x).outputs, readout)
        let parameters = cell.parameters + [readout]
        let optimizer = try HessianFree(parameters: parameters, inputs: [x], outputs: z, targets: targets, loss: .squaredError, damping: 0.1,
                                        options: .default)
        let data = [NDArray.uniform([6, 4, 3], low: -1, high: 1, dtype: .float64, using: &random), NDArray.uniform([6, 4, 2], low: -1, high: 1, dtype: .float64, using: &random)]
        let u = parameters.map { NDArray.uniform($0.value.shape, low: -1, high: 1, dtype: .float64, using: &random) }
        let v = parameters.map { NDArray.uniform($0.value.shape, low: -1, high: 1, dtype: .float64, using: &random) }
        func inner(_ a: [NDArray], _ b: [NDArray]) -> Double {
            zip(a, b).reduce(0) { total, pair in total + zip(pair.0.elements(as: Double.self), pair.1.elements(as: Double.self)).reduce(0) { $0 + $1.0 * $1.1 } }
        }
        let (gu, gv) = (try optimizer.gaussNewtonProduct(u, on: data), try optimizer.gaussNewtonProduct(v, on: data))
        #expect(abs(inner(u, gv) - inner(v, gu)) < 1e-9 * Swift.max(1, abs(inner(u, gv))))
        #expect(inner(v, gv) >= 0 && inner(u, gu) >= 0)
        var losses: [Double] = []
        for _ in 0..<6 { losses.append(try optimizer.step(data)) }
        #expect(losses.last! < 0.5 * losses.first!, "losses \(losses)")
        #expect(optimizer.lastIterations >= 1)
    }
}
