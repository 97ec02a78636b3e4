import Testing
import Theano

/// The Jacobian of `f` at `x` by central finite differences: shape `f(x).shape + x.shape`.
private func numericJacobian(_ f: (Variable) throws -> Variable, at x: NDArray, step: Double = 1e-6) throws -> NDArray {
    let input = tensor(dtype: .float64, shape: x.shape)
    let evaluate = try function(inputs: [input], outputs: [f(input)])
    let outputShape = try evaluate(x)[0].shape
    let values = x.elements(as: Double.self)
    let columns = try values.indices.map { j in
        var (plus, minus) = (values, values)
        plus[j] += step
        minus[j] -= step
        let (high, low) = (try evaluate(NDArray(plus, shape: x.shape))[0], try evaluate(NDArray(minus, shape: x.shape))[0])
        return zip(high.elements(as: Double.self), low.elements(as: Double.self)).map { ($0 - $1) / (2 * step) }
    }
    let rows = columns.first?.count ?? 0
    return NDArray((0..<rows).flatMap { i in columns.map { $0[i] } }, shape: outputShape + x.shape)
}

@Suite struct JacobianTests {
    private let x = vector("x", dtype: .float64, length: 4)
    private let sample = NDArray([-1.5, -0.5, 0.25, 2] as [Double])

    private func evaluate(_ outputs: [Variable]) throws -> [NDArray] {
        try function(inputs: [x], outputs: outputs)(sample)
    }

    // MARK: jacobian

    @Test(arguments: [JacobianMethod.reverse, .forward, .scan, .automatic])
    func jacobianOfSoftmaxIsDiagonalMinusOuterProduct(method: JacobianMethod) throws {
        let J = try jacobian(softmax(x), wrt: x, method: method)
        let results = try evaluate([J, softmax(x)])
        let s = results[1].elements(as: Double.self)
        let expected = (0..<4).flatMap { (i: Int) -> [Double] in (0..<4).map { (j: Int) -> Double in (i == j ? s[i] : 0) - s[i] * s[j] } }
        #expect(J.staticShape == [4, 4])
        #expect(results[0].isClose(to: NDArray(expected, shape: [4, 4])))
    }

    @Test(arguments: [JacobianMethod.reverse, .forward, .scan])
    func jacobianOfAMatrixExpressionWithRespectToAMatrix(method: JacobianMethod) throws {
        let weights = NDArray([[0.5, -1, 2, 0], [1, 1, -0.5, 0.25], [0, 2, 1, -1]] as [[Double]])
        let f: (Variable) throws -> Variable = { w in try tanh(dot(w, self.x)).dimshuffle(0, .newAxis) * w }
        let w = matrix("w", dtype: .float64, shape: (3, 4))
        let J = try jacobian(f(w), wrt: w, method: method)
        #expect(J.staticShape == [3, 4, 3, 4])
        let symbolic = try function(inputs: [w, x], outputs: [J])(weights, sample)[0]
        let fixedX = constant(sample)
        let numeric = try numericJacobian({ w in try tanh(dot(w, fixedX)).dimshuffle(0, .newAxis) * w }, at: weights)
        #expect(symbolic.isClose(to: numeric, rtol: 1e-6, atol: 1e-8))
    }

    @Test func jacobianOfAScalarIsTheGradientAndWithRespectToAScalarIsAColumn() throws {
        let s = scalar("s", dtype: .float64)
        let ofScalar = try jacobian(sum(sqr(x)), wrt: x)
        let wrtScalar = try jacobian(x * s, wrt: s)
        let results = try function(inputs: [x, s], outputs: [ofScalar, wrtScalar])(sample, NDArray(scalar: 3.0, dtype: .float64))
        #expect(results[0] == NDArray(sample.elements(as: Double.self).map { 2 * $0 }))
        #expect(results[1] == sample)
    }

    /// A boolean mask gives a vector of unknown length: only columns can be unrolled.
    @Test func automaticMethodUnrollsOverTheStaticSize() throws {
        let positive = try x[gt(x, 0)]
        let J = try jacobian(exp(positive), wrt: x)
        let result = try evaluate([J])[0]
        let expected = NDArray([0, 0, Double.exp(0.25), 0, 0, 0, 0, Double.exp(2)], shape: [2, 4])
        #expect(result.isClose(to: expected))
        expectFailure(mentioning: ["jacobian", "method .reverse needs the size of the expression", here(#line + 1)]) {
            _ = try jacobian(exp(positive), wrt: x, method: .reverse)
        }
    }

    /// Without static sizes, the automatic method loops over the expression's elements.
    @Test func withoutStaticSizesTheJacobianIsALoop() throws {
        let unknown = vector("unknown", dtype: .float64)
        let J = try jacobian(exp(unknown) * sum(unknown), wrt: unknown)
        let value = NDArray([0.5, -1, 2] as [Double])
        let result = try function(inputs: [unknown], outputs: [J])(value)[0]
        let u = value.elements(as: Double.self), total = u.reduce(0, +)
        let expected = (0..<3).flatMap { i in (0..<3).map { j in (i == j ? Double.exp(u[i]) * total : 0) + Double.exp(u[i]) } }
        #expect(result.isClose(to: NDArray(expected, shape: [3, 3])))
        let empty = try function(inputs: [unknown], outputs: [J])(NDArray(zeros: [0], dtype: .float64))[0]
        #expect(empty.shape == [0, 0])
    }

    @Test func jacobianOfAnEmptyExpressionIsEmpty() throws {
        let empty = try x[0..<0]
        let J = try jacobian(exp(empty), wrt: x)
        #expect(try evaluate([J])[0].shape == [0, 4])
    }

    @Test func badArgumentsNameJacobianAndTheLine() throws {
        let unknown = vector("unknown", dtype: .float64)
        expectFailure(mentioning: ["jacobian", "method .forward needs the size of wrt", here(#line + 1)]) {
            _ = try jacobian(sum(unknown), wrt: unknown, method: .forward)
        }
        expectFailure(mentioning: ["jacobian", "must be float tensors", here(#line + 1)]) {
            _ = try jacobian(argmax(x), wrt: x)
        }
        let other = vector("other", dtype: .float64, length: 2)
        expectFailure(mentioning: ["jacobian", "does not depend on other", here(#line + 1)]) {
            _ = try jacobian(exp(x), wrt: other)
        }
        let zeros = try jacobian(exp(x), wrt: other, disconnected: .zero)
        #expect(try function(inputs: [x, other], outputs: [zeros])(sample, NDArray([1, 2] as [Double]))[0] == NDArray(zeros: [4, 2], dtype: .float64))
    }

    // MARK: hessian

    @Test(arguments: [JacobianMethod.reverse, .forward, .scan])
    func hessianOfSumOfCubesIsDiagonalSixX(method: JacobianMethod) throws {
        let H = try hessian(sum(pow(x, 3)), wrt: x, method: method)
        let xs = sample.elements(as: Double.self)
        let expected = (0..<4).flatMap { (i: Int) -> [Double] in (0..<4).map { (j: Int) -> Double in i == j ? 6 * xs[i] : 0 } }
        #expect(try evaluate([H])[0].isClose(to: NDArray(expected, shape: [4, 4])))
    }

    @Test func hessianOfAQuadraticFormIsTheSymmetrizedMatrix() throws {
        let a = NDArray([[1, 2, 0, -1], [0, 3, 1, 0], [2, 0, -2, 1], [0, 1, 1, 4]] as [[Double]])
        let H = try hessian(dot(x, dot(constant(a), x)), wrt: x)
        let entries = a.elements(as: Double.self)
        let expected = (0..<4).flatMap { (i: Int) -> [Double] in (0..<4).map { (j: Int) -> Double in entries[4 * i + j] + entries[4 * j + i] } }
        #expect(try evaluate([H])[0].isClose(to: NDArray(expected, shape: [4, 4])))
    }

    @Test func hessianMatchesFiniteDifferencesOfTheGradient() throws {
        let cost: (Variable) throws -> Variable = { try logsumexp($0 * $0) + sum(tanh($0)) }
        let H = try hessian(cost(x), wrt: x)
        let numeric = try numericJacobian({ try grad(cost($0), wrt: [$0])[0] }, at: sample)
        #expect(try evaluate([H])[0].isClose(to: numeric, rtol: 1e-6, atol: 1e-8))
    }

    // MARK: Hessian-vector products

    @Test func hessianVectorProductIsHessianTimesVector() throws {
        let v = vector("v", dtype: .float64, length: 4)
        let cost = try logsumexp(x * x) + sum(tanh(x))
        let product = try hessianVectorProduct(cost, wrt: [x], vectors: [v])[0]
        let viaMatrix = try dot(hessian(cost, wrt: x), v)
        let reverseOverReverse = try Lop(grad(cost, wrt: [x]), wrt: [x], evalPoints: [v])[0]
        let direction = NDArray([0.5, -1, 2, 1] as [Double])
        let results = try function(inputs: [x, v], outputs: [product, viaMatrix, reverseOverReverse])(sample, direction)
        #expect(results[0].isClose(to: results[1]))
        #expect(results[0].isClose(to: results[2]))
    }

    /// With two variables, each product sums the second derivatives over both.
    @Test func hessianVectorProductOverSeveralVariables() throws {
        let y = vector("y", dtype: .float64, length: 4)
        let (vx, vy) = (constant(NDArray([1, 0, -1, 2] as [Double])), constant(NDArray([0.5, 0.5, 1, -1] as [Double])))
        // f = Σ x²y + Σ y³: ∂²f/∂x² = diag(2y), ∂²f/∂x∂y = diag(2x), ∂²f/∂y² = diag(6y).
        let cost = try sum(x * x * y) + sum(pow(y, 3))
        let products = try hessianVectorProduct(cost, wrt: [x, y], vectors: [vx, vy])
        let yValue = NDArray([1, -2, 0.5, 3] as [Double])
        let results = try function(inputs: [x, y], outputs: products)(sample, yValue)
        let (xs, ys) = (sample.elements(as: Double.self), yValue.elements(as: Double.self))
        let (dx, dy) = (vx.value.elements(as: Double.self), vy.value.elements(as: Double.self))
        let expectedX = (0..<4).map { (i: Int) -> Double in 2 * ys[i] * dx[i] + 2 * xs[i] * dy[i] }
        let expectedY = (0..<4).map { (i: Int) -> Double in 2 * xs[i] * dx[i] + 6 * ys[i] * dy[i] }
        #expect(results[0].isClose(to: NDArray(expectedX)))
        #expect(results[1].isClose(to: NDArray(expectedY)))
    }

    /// The example of README.md's section on forward mode.
    @Test func readmeExample() throws {
        let x = vector("x", dtype: .float64, length: 5), v = vector("v", dtype: .float64, length: 5)
        let y = try tanh(x) * x
        let jvp = try Rop([y], wrt: [x], evalPoints: [v])[0]
        let J = try jacobian(softmax(x), wrt: x)
        let H = try hessian(sum(pow(x, 3)), wrt: x)
        let Hv = try hessianVectorProduct(sum(pow(x, 3)), wrt: [x], vectors: [v])[0]
        let straightThrough = try OpFromGraph(inputs: [x], outputs: [sign(x)], pullback: { _, _, g in g })
        let passedBack = try grad(sum(straightThrough(x)[0] * v), wrt: [x])[0]

        let (xs, vs) = ([-1.5, -0.5, 0.25, 1, 2] as [Double], [1, 2, -1, 0.5, 3] as [Double])
        let results = try function(inputs: [x, v], outputs: [jvp, J, dot(H, v), Hv, passedBack])(NDArray(xs), NDArray(vs))
        let expectedJvp = zip(xs, vs).map { x, v in (Double.tanh(x) + x * (1 - Double.tanh(x) * Double.tanh(x))) * v }
        #expect(results[0].isClose(to: NDArray(expectedJvp)))
        #expect(results[1].shape == [5, 5])
        #expect(results[2].isClose(to: NDArray(zip(xs, vs).map { 6 * $0 * $1 })))
        #expect(results[3].isClose(to: results[2]))
        #expect(results[4] == NDArray(vs))
    }

    @Test func hessianVectorProductRejectsVectorsOfTheWrongType() {
        expectFailure(mentioning: ["hessianVectorProduct", "evalPoints[0]", "float32[?]", here(#line + 1)]) {
            _ = try hessianVectorProduct(sum(sqr(x)), wrt: [x], vectors: [vector("v")])
        }
    }
}
