@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoLoops
@testable import TheanoNative
@testable import TheanoOps
@testable import TheanoOptimizer
import Testing
import TheanoTestSupport

@Suite struct OpFromGraphTests {
    /// `(x * y + exp(x), x - y)` of a matrix and a row vector.
    private func multiplyAndSubtract() throws -> OpFromGraph {
        let (x, y) = (matrix("x", dtype: .float64), vector("y", dtype: .float64))
        return try OpFromGraph(inputs: [x, y], outputs: [x * y + exp(x), x - y], name: "multiply_and_subtract")
    }

    private let a = NDArray([[1, -2, 0.5], [0, 3, -1]] as [[Double]])
    private let b = NDArray([0.5, -1, 2] as [Double])

    // MARK: Values

    @Test(arguments: [CompileOptions.default, .unoptimized, CompileOptions(optimization: .fastCompile)])
    func valuesAreThoseOfTheInnerGraph(options: CompileOptions) throws {
        let (p, q) = (matrix("p", dtype: .float64), vector("q", dtype: .float64))
        let outputs = try multiplyAndSubtract()(p, q)
        let direct = [try p * q + exp(p), try p - q]
        let results = try function(inputs: [p, q], outputs: outputs + direct, options: options)(a, b)
        #expect(results[0].isClose(to: results[2]))
        #expect(results[1].isClose(to: results[3]))
    }

    @Test func theOptimizerInlinesIt() throws {
        let (p, q) = (matrix("p", dtype: .float64), vector("q", dtype: .float64))
        let outputs = try multiplyAndSubtract()(p, q)
        let optimized = try function(inputs: [p, q], outputs: outputs)
        #expect(!optimized.graph.nodes.contains { $0.op is OpFromGraph })
        #expect(optimized.rewriteReport.counts["inline_op_from_graph"] == 1)
        let unoptimized = try function(inputs: [p, q], outputs: outputs, options: .unoptimized)
        #expect(unoptimized.graph.nodes.contains { $0.op is OpFromGraph })
    }

    @Test func nestedOpsAreInlinedAndApplicationsTakeEachOthersOutputs() throws {
        let x = vector("x", dtype: .float64)
        let inner = try OpFromGraph(inputs: [x], outputs: [tanh(x)], name: "inner")
        let z = vector("z", dtype: .float64)
        let outer = try OpFromGraph(inputs: [z], outputs: [inner(inner(z)[0] * 2)[0]], name: "outer")
        let p = vector("p", dtype: .float64)
        let compiled = try function(inputs: [p], outputs: outer(outer(p)[0]))
        #expect(!compiled.graph.nodes.contains { $0.op is OpFromGraph })
        let expected = b.elements(as: Double.self).map { value in
            (0..<2).reduce(value) { v, _ in Double.tanh(2 * Double.tanh(v)) }
        }
        #expect(try compiled(b)[0].isClose(to: NDArray(expected)))
    }

    @Test func sharedVariablesInTheInnerGraphAreReadWhenItRuns() throws {
        let weights = try shared(NDArray([1, 2, 3] as [Double]), name: "w")
        let x = vector("x", dtype: .float64)
        let scale = try OpFromGraph(inputs: [x], outputs: [x * weights])
        let p = vector("p", dtype: .float64)
        let compiled = try function(inputs: [p], outputs: scale(p), options: .unoptimized)
        #expect(try compiled(b)[0] == NDArray([0.5, -2, 6] as [Double]))
        try weights.setValue(NDArray([2, 2, 2] as [Double]))
        #expect(try compiled(b)[0] == NDArray([1, -2, 4] as [Double]))
    }

    // MARK: Default derivatives

    @Test func defaultGradientAndTangentAreThoseOfTheInnerGraph() throws {
        let op = try multiplyAndSubtract()
        let build: ([Variable]) throws -> Variable = { inputs in
            let outputs = try op(inputs[0], inputs[1])
            return try outputs[0] * outputs[1]
        }
        try verifyGrad(build, at: [a, b])
        try verifyRop(build, at: [a, b])
    }

    @Test func gradientThroughOneOfSeveralOutputs() throws {
        let op = try multiplyAndSubtract()
        try verifyGrad({ try sum(op($0[0], $0[1])[1] * 3) }, at: [a, b])
    }

    @Test func applyingItToTheSameVariableTwiceCountsEachUseOnce() throws {
        let (x, y) = (vector("x", dtype: .float64), vector("y", dtype: .float64))
        let product = try OpFromGraph(inputs: [x, y], outputs: [x * y])
        let p = vector("p", dtype: .float64)
        // d/dp Σ p·p = 2p.
        let gradient = try grad(sum(product(p, p)[0]), wrt: [p])[0]
        #expect(try function(inputs: [p], outputs: [gradient])(b)[0] == NDArray([1, -2, 4] as [Double]))
    }

    @Test func inputTheOutputsDoNotDependOnIsDisconnected() throws {
        let (x, unused) = (vector("x", dtype: .float64), vector("unused", dtype: .float64))
        let op = try OpFromGraph(inputs: [x, unused], outputs: [exp(x)])
        let (p, q) = (vector("p", dtype: .float64), vector("q", dtype: .float64))
        let error = try #require(throws: TheanoError.self) { try grad(sum(op(p, q)[0]), wrt: [q]) }
        let isDisconnected = if case .disconnectedInput = error { true } else { false }
        #expect(isDisconnected, "got \(error)")
    }

    // MARK: Custom derivatives

    /// `sign(x)` forward, the identity backward: a straight-through estimator.
    private func straightThroughSign() throws -> OpFromGraph {
        let x = vector("x", dtype: .float64)
        return try OpFromGraph(inputs: [x], outputs: [sign(x)], name: "straight_through_sign",
                               pullback: { _, _, gradients in gradients },
                               pushforward: { _, _, tangents in tangents })
    }

    @Test func straightThroughEstimatorRoundsForwardAndPassesGradientsBack() throws {
        let p = vector("p", dtype: .float64)
        let signs = try straightThroughSign()(p)[0]
        let upstream = constant(NDArray([3, -1, 0.5] as [Double]))
        let gradient = try grad(sum(signs * upstream), wrt: [p])[0]
        let tangent = try Rop([signs], wrt: [p], evalPoints: [upstream])[0]
        let results = try function(inputs: [p], outputs: [signs, gradient, tangent])(b)
        #expect(results[0] == NDArray([1, -1, 1] as [Double]))
        #expect(results[1] == NDArray([3, -1, 0.5] as [Double]))
        #expect(results[2] == NDArray([3, -1, 0.5] as [Double]))
    }

    @Test func customPullbackSeesTheNodesInputsAndOutputs() throws {
        let x = vector("x", dtype: .float64)
        // exp, with its gradient written from the node's output.
        let op = try OpFromGraph(inputs: [x], outputs: [exp(x)], pullback: { _, outputs, gradients in
            [try gradients[0].map { try $0 * outputs[0] }]
        })
        try verifyGrad({ try op($0[0])[0] }, at: [b])
    }

    // MARK: Errors

    @Test func badDefinitionsAndApplicationsNameWhatIsWrong() throws {
        let (x, y) = (vector("x", dtype: .float64), vector("y", dtype: .float64))
        expectFailure(mentioning: ["OpFromGraph", "is not a free variable", here(#line + 1)]) {
            _ = try OpFromGraph(inputs: [exp(x)], outputs: [x])
        }
        expectFailure(mentioning: ["OpFromGraph", "depend on y", "which is not an input", here(#line + 1)]) {
            _ = try OpFromGraph(inputs: [x], outputs: [x + y])
        }
        let op = try OpFromGraph(inputs: [x], outputs: [exp(x)], name: "my_exp")
        expectFailure(mentioning: ["my_exp", "takes 1 input, not 2", here()]) { _ = try op(x, y) }
        expectFailure(mentioning: ["my_exp", "float32[?, ?]", "does not fit", here()]) { _ = try op(matrix()) }
        let wrong = try OpFromGraph(inputs: [x], outputs: [exp(x)], name: "wrong", pullback: { _, _, _ in [] })
        let p = vector("p", dtype: .float64)
        let applied = try wrong(p)[0]
        expectFailure(mentioning: ["wrong", "custom pullback gave 0 results where 1 are needed", here(#line - 1)]) {
            _ = try grad(sum(applied), wrt: [p])
        }
    }
}
