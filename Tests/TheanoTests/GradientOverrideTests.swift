@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoLoops
@testable import TheanoNative
@testable import TheanoOps
@testable import TheanoOptimizer
import Testing

@Suite struct GradientOverrideTests {
    private let x = vector("x", dtype: .float64)
    /// Values beyond ±1, so clipping shows.
    private let sample = NDArray([-1.5, -0.5, 0.25, 2] as [Double])

    private func evaluate(_ outputs: [Variable], options: CompileOptions = .default) throws -> [NDArray] {
        try function(inputs: [x], outputs: outputs, options: options)(sample)
    }

    private func expected(_ transform: (Double) -> Double) -> NDArray {
        NDArray(sample.elements(as: Double.self).map(transform), shape: sample.shape)
    }

    /// Each override applied to `x`.
    private func overrides() throws -> [(name: String, value: Variable)] {
        [("disconnectedGrad", try disconnectedGrad(x)), ("zeroGrad", try zeroGrad(x)), ("considerConstant", try considerConstant(x)),
         ("gradClip", try gradClip(x, lower: -1, upper: 1)), ("gradScale", try gradScale(x, by: -2))]
    }

    // MARK: Values

    @Test(arguments: [CompileOptions.default, .unoptimized, CompileOptions(optimization: .fastCompile)])
    func valuesPassUnchanged(options: CompileOptions) throws {
        for (name, value) in try overrides() {
            #expect(try evaluate([value * 3], options: options)[0] == expected { $0 * 3 }, "\(name)")
        }
    }

    @Test(arguments: [OptimizationLevel.fastRun, .fastCompile])
    func theOptimizerRemovesThem(level: OptimizationLevel) throws {
        let compiled = try function(inputs: [x], outputs: try overrides().map { try $0.value * 3 }, options: CompileOptions(optimization: level))
        let remaining = compiled.graph.nodes.filter { $0.op is GradientOverride }
        #expect(remaining.isEmpty, "\(remaining.map(\.op))")
        #expect(compiled.rewriteReport.counts["remove_gradient_override"] == 5)
    }

    // MARK: Gradients

    @Test func disconnectedGradBlocksTheGradientLikeConsiderConstant() throws {
        // d/dx Σ c·x with c = x held constant is c.
        let blocked = try grad(sum(disconnectedGrad(x) * x), wrt: [x])[0]
        let square = try x * x
        let viaParameter = try grad(sum(square * x), wrt: [x], considerConstant: [square])[0]
        let viaFunction = try grad(sum(disconnectedGrad(square) * x), wrt: [x])[0]
        let results = try evaluate([blocked, viaParameter, viaFunction])
        #expect(results[0] == sample)
        #expect(results[1].isClose(to: results[2]))
    }

    @Test func disconnectedGradFollowsTheDisconnectedPolicy() throws {
        let error = try #require(throws: TheanoError.self) { try grad(sum(disconnectedGrad(x)), wrt: [x]) }
        let isDisconnected = if case .disconnectedInput = error { true } else { false }
        #expect(isDisconnected, "got \(error)")
        let zeros = try grad(sum(disconnectedGrad(x)), wrt: [x], disconnected: .zero)[0]
        #expect(try evaluate([zeros])[0] == NDArray(zeros: [4], dtype: .float64))
    }

    @Test func zeroGradGivesZerosWithoutRaising() throws {
        let zeros = try grad(sum(exp(zeroGrad(x))), wrt: [x])[0]
        let partial = try grad(sum(zeroGrad(x) * x), wrt: [x])[0]
        let constantFactor = try grad(sum(considerConstant(x) * x), wrt: [x])[0]
        let results = try evaluate([zeros, partial, constantFactor])
        #expect(results[0] == NDArray(zeros: [4], dtype: .float64))
        #expect(results[1] == sample)
        #expect(results[2] == sample, "considerConstant is zeroGrad")
    }

    @Test func gradClipClipsTheGradientFlowingBack() throws {
        let upstream = constant(NDArray([3, -0.5, -4, 0.75] as [Double]))
        let gradient = try grad(sum(gradClip(x, lower: -1, upper: 1) * upstream), wrt: [x])[0]
        #expect(try evaluate([gradient])[0] == NDArray([1, -0.5, -1, 0.75] as [Double]))
    }

    @Test func gradScaleScalesAndReversesTheGradient() throws {
        let halved = try grad(sum(sqr(gradScale(x, by: 0.5))), wrt: [x])[0]
        let reversed = try grad(sum(sqr(gradScale(x, by: -1))), wrt: [x])[0]
        let results = try evaluate([halved, reversed])
        #expect(results[0] == sample)
        #expect(results[1] == expected { -2 * $0 })
    }

    /// `grad` stabilizes the cost first (the fused cross-entropy here); that must keep the
    /// override in place.
    @Test func overridesSurviveTheStabilizationGradApplies() throws {
        let logits = matrix("logits", dtype: .float64)
        let labels = constant(NDArray([2, 0] as [Int64]))
        func loss(_ z: Variable) throws -> Variable {
            try sum(-log(softmax(z)[arange(shape(z)[0]), labels]))
        }
        let scaled = try grad(loss(gradScale(logits, by: 3)), wrt: [logits])[0]
        let plain = try grad(loss(logits), wrt: [logits])[0]
        let values = NDArray([[1, 2, 3], [-1, 0, 4]] as [[Double]])
        let results = try function(inputs: [logits], outputs: [scaled, plain])(values)
        #expect(results[0].isClose(to: NDArray(results[1].elements(as: Double.self).map { 3 * $0 }, shape: [2, 3])))
    }

    // MARK: Forward mode

    @Test func tangentsAreOverriddenAsGradientsAre() throws {
        let direction = constant(NDArray([3, -0.5, -4, 0.75] as [Double]))
        let scaled = try Rop([gradScale(x, by: 2)], wrt: [x], evalPoints: [direction])[0]
        let clipped = try Rop([gradClip(x, lower: -1, upper: 1)], wrt: [x], evalPoints: [direction])[0]
        let zeroed = try Rop([zeroGrad(x)], wrt: [x], evalPoints: [direction])[0]
        let results = try evaluate([scaled, clipped, zeroed])
        #expect(results[0] == NDArray([6, -1, -8, 1.5] as [Double]))
        #expect(results[1] == NDArray([1, -0.5, -1, 0.75] as [Double]))
        #expect(results[2] == NDArray(zeros: [4], dtype: .float64))
    }

    @Test func ropThroughDisconnectedGradFollowsTheDisconnectedPolicy() throws {
        let direction = constant(NDArray([1, 1, 1, 1] as [Double]))
        expectFailure(mentioning: ["Rop", "does not depend", here(#line + 1)]) {
            _ = try Rop([exp(disconnectedGrad(x))], wrt: [x], evalPoints: [direction])
        }
        let zeros = try Rop([exp(disconnectedGrad(x))], wrt: [x], evalPoints: [direction], disconnected: .zero)[0]
        #expect(try evaluate([zeros])[0] == NDArray(zeros: [4], dtype: .float64))
    }

    // MARK: Arguments

    @Test func badArgumentsNameTheFunctionAndTheLine() {
        expectFailure(mentioning: ["gradClip", "lower bound 1.0 is above the upper bound -1.0", here(#line + 1)]) {
            _ = try gradClip(x, lower: 1, upper: -1)
        }
        expectFailure(mentioning: ["gradScale", "finite", here()]) { _ = try gradScale(x, by: .infinity) }
    }
}
