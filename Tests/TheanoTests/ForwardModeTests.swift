@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoLoops
@testable import TheanoNative
@testable import TheanoOps
@testable import TheanoOptimizer
import Testing
import TheanoTestSupport

/// `x³` with a pullback but no pushforward rule: forward mode must transpose the pullback.
private struct CubeWithPullbackOnly: DifferentiableOp {
    var description: String { "cube" }
    func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] { inputs }
    func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        [NDArray(inputs[0].elements(as: Double.self).map { $0 * $0 * $0 }, shape: inputs[0].shape)]
    }
    func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        [try outputGradients[0].map { try $0 * 3 * sqr(node.inputs[0]) }]
    }
}

// MARK: - Tests

@Suite struct ForwardModeTests {
    private static func check(_ testCase: GradientCase, comparingWithPullbacks: Bool = true) throws {
        var random = RandomState(seed: 11)
        let point = testCase.inputs.map { $0.sample(using: &random) }
        let tolerance = testCase.tolerance
        try verifyRop(testCase.build, at: point, step: tolerance.step, absoluteTolerance: tolerance.absolute,
                      relativeTolerance: tolerance.relative, comparingWithPullbacks: comparingWithPullbacks)
    }

    /// Every gradient case checks forward mode too: together they cover every op whose
    /// record checks forward mode on its gradient cases.
    @Test(arguments: OpRecords.gradientCases)
    func ropMatchesFiniteDifferencesAndTransposedPullbacks(_ testCase: GradientCase) throws {
        try Self.check(testCase)
    }

    /// Fused composites and BLAS calls have no pullback (they appear after reverse-mode
    /// differentiation): finite differences alone check them.
    @Test(arguments: OpRecords.forwardCasesWithoutPullbacks)
    func ropOfOpsOfOptimizedGraphs(_ testCase: GradientCase) throws {
        try Self.check(testCase, comparingWithPullbacks: false)
    }

    /// Every op with a pullback has a pushforward rule of its own.
    @Test func everyDifferentiableOpHasAPushforward() {
        let missing = OpRecords.all.filter { $0.isDifferentiable && !$0.hasPushforward }.map(\.op)
        #expect(missing.isEmpty, "no pushforward for \(missing)")
    }

    /// Each record's forward-mode cases reach its op in the stabilized graphs that forward
    /// mode differentiates (or as built), so an op whose record claims forward mode is
    /// exercised.
    @Test func everyForwardCaseReachesItsOp() throws {
        for record in OpRecords.all {
            for testCase in record.forwardCases {
                #expect(try testCase.reachedOpTypes().contains(record.opType), "forward-mode case \"\(testCase.name)\" does not reach \(record.op)")
            }
        }
    }

    // MARK: The Rop API

    @Test func opWithOnlyAPullbackIsDifferentiatedByTransposingIt() throws {
        var random = RandomState(seed: 3)
        let point = [NDArray.uniform([2, 3], low: -2, high: 2, dtype: .float64, using: &random)]
        try verifyRop({ try tanh(CubeWithPullbackOnly()($0[0], at: OpRecords.location)) }, at: point)
    }

    @Test func ropOfSeveralOutputsWithRespectToSeveralVariables() throws {
        let (x, w) = (vector("x", dtype: .float64), matrix("w", dtype: .float64))
        let (vx, vw) = (vector("vx", dtype: .float64), matrix("vw", dtype: .float64))
        let (y, z) = (try dot(w, x), try sum(sqr(x)))
        let tangents = try Rop([y, z], wrt: [x, w], evalPoints: [vx, vw])
        let values = [NDArray([1, -2] as [Double]), NDArray([[1, 2], [3, 4], [5, 6]] as [[Double]]),
                      NDArray([0.5, 1] as [Double]), NDArray([[0, 1], [1, 0], [2, -1]] as [[Double]])]
        let results = try function(inputs: [x, w, vx, vw], outputs: tangents)(values)
        // d(Wx) = dW·x + W·dx = [-2, 1, 4] + [2.5, 5.5, 8.5]; d(Σx²) = 2x·dx = 2 · (0.5 - 2).
        #expect(results[0].isClose(to: NDArray([0.5, 6.5, 12.5] as [Double])))
        #expect(results[1].isClose(to: NDArray(scalar: -3.0, dtype: .float64)))
    }

    @Test func ropOfAVariableWithRespectToItselfIsTheEvalPoint() throws {
        let (x, v) = (vector("x", dtype: .float64), vector("v", dtype: .float64))
        #expect(try Rop([x], wrt: [x], evalPoints: [v])[0] === v)
    }

    @Test func outputThatDoesNotChangeGetsZeros() throws {
        let x = vector("x", dtype: .float64)
        let outputs = [try argmax(x), try floor(x)]
        let tangents = try Rop(outputs, wrt: [x], evalPoints: [constant(NDArray([1, 1, 1] as [Double]))])
        let results = try function(inputs: [x], outputs: tangents)(NDArray([0.5, 2.5, -1] as [Double]))
        #expect(results[0] == NDArray(scalar: Int64(0)))
        #expect(results[1] == NDArray(zeros: [3], dtype: .float64))
    }

    @Test func disconnectedOutputRaisesOrGivesZeros() throws {
        let (x, unrelated) = (vector("x", dtype: .float64), vector("unrelated", dtype: .float64))
        let direction = constant(NDArray([1, 2] as [Double]))
        expectFailure(mentioning: ["Rop", "does not depend on any variable of wrt", here(#line + 1)]) {
            _ = try Rop([exp(unrelated)], wrt: [x], evalPoints: [direction])
        }
        let tangent = try Rop([exp(unrelated)], wrt: [x], evalPoints: [direction], disconnected: .zero)[0]
        let result = try function(inputs: [unrelated], outputs: [tangent])(NDArray([3, 4] as [Double]))[0]
        #expect(result == NDArray(zeros: [2], dtype: .float64))
    }

    @Test func evalPointOfTheWrongTypeNamesRopAndTheLine() throws {
        let x = matrix("x", dtype: .float64)
        let y = try exp(x)
        expectFailure(mentioning: ["Rop", "evalPoints[0]", "float32[?, ?]", "x: float64[?, ?]", here(#line + 1)]) {
            _ = try Rop([y], wrt: [x], evalPoints: [matrix("v", dtype: .float32)])
        }
        expectFailure(mentioning: ["Rop", "evalPoints[0]", "float64[?]", here(#line + 1)]) {
            _ = try Rop([y], wrt: [x], evalPoints: [vector("v", dtype: .float64)])
        }
        expectFailure(mentioning: ["Rop", "static size 1", here(#line + 1)]) {
            _ = try Rop([y], wrt: [x], evalPoints: [tensor("v", dtype: .float64, shape: [1, nil])])
        }
        expectFailure(mentioning: ["Rop", "0 eval points for 1 variable of wrt", here(#line + 1)]) {
            _ = try Rop([y], wrt: [x], evalPoints: [])
        }
        expectFailure(mentioning: ["Rop", "listed twice", here(#line + 1)]) {
            _ = try Rop([y], wrt: [x, x], evalPoints: [x, x])
        }
    }

    @Test func opWithoutDerivativeNamesTheOpAndWhereItWasBuilt() throws {
        let x = vector("x", dtype: .float64)
        let y = try IncrementWithoutDerivative()(x, at: SourceLocation(fileID: #fileID, line: #line))
        let built = here(#line - 1)
        expectFailure(mentioning: ["Rop", "increment has no derivative", built, here(#line + 1)]) {
            _ = try Rop([y], wrt: [x], evalPoints: [x])
        }
    }

    @Test func tangentNodesRecordTheLineOfTheNodeTheyDifferentiate() throws {
        let x = vector("x", dtype: .float64)
        let y = try tanh(x)
        let line = here(#line - 1)
        let tangent = try Rop([y], wrt: [x], evalPoints: [vector("v", dtype: .float64)])[0]
        let locations = topologicalOrder(of: [tangent]).map(\.location.description)
        #expect(locations.allSatisfy { $0 == line }, "\(locations)")
    }

    // MARK: Lop

    @Test func lopOfAScalarWithCotangentOneIsTheGradient() throws {
        let x = vector("x", dtype: .float64)
        let cost = try sum(tanh(x) * x)
        let (lop, gradient) = (try Lop([cost], wrt: [x], evalPoints: [constant(1, dtype: .float64)])[0], try grad(cost, wrt: [x])[0])
        let results = try function(inputs: [x], outputs: [lop, gradient])(NDArray([-1, 0.5, 2] as [Double]))
        #expect(results[0].isClose(to: results[1]))
    }

    @Test func lopIsTheGradientOfTheProjectedOutputs() throws {
        let (x, w) = (vector("x", dtype: .float64), matrix("w", dtype: .float64))
        let (u1, u2) = (vector("u1", dtype: .float64), vector("u2", dtype: .float64))
        let (y1, y2) = (try dot(w, x), try exp(x))
        let lops = try Lop([y1, y2], wrt: [x, w], evalPoints: [u1, u2])
        let projected = try sum(y1 * u1) + sum(y2 * u2)
        let gradients = try grad(projected, wrt: [x, w])
        let values = [NDArray([1, -2] as [Double]), NDArray([[1, 2], [3, 4], [5, 6]] as [[Double]]),
                      NDArray([0.5, 1, -1] as [Double]), NDArray([2, 3] as [Double])]
        let results = try function(inputs: [x, w, u1, u2], outputs: lops + gradients)(values)
        #expect(results[0].isClose(to: results[2]))
        #expect(results[1].isClose(to: results[3]))
    }

    @Test func lopRejectsCotangentsOfTheWrongTypeAndIntegerOutputs() throws {
        let x = vector("x", dtype: .float64)
        expectFailure(mentioning: ["Lop", "evalPoints[0]", "f[0]", here(#line + 1)]) {
            _ = try Lop([exp(x)], wrt: [x], evalPoints: [matrix(dtype: .float64)])
        }
        expectFailure(mentioning: ["Lop", "not a float tensor", here(#line + 1)]) {
            _ = try Lop([argmax(x)], wrt: [x], evalPoints: [scalar(dtype: .int64)])
        }
        expectFailure(mentioning: ["Lop", "do not depend on", here(#line + 1)]) {
            _ = try Lop([exp(x)], wrt: [vector("other", dtype: .float64)], evalPoints: [vector(dtype: .float64)])
        }
    }
}
