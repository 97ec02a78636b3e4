import Foundation
import Testing
import TheanoTestSupport
@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoLoops
@testable import TheanoNative
@testable import TheanoOps
@testable import TheanoOptimizer

// ifelse: only the branch taken is computed (counted), on both executors, nested, with
// shared nodes; gradients and tangents flow through the branch taken; bad input.

/// How many times something ran.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func increment() { lock.withLock { value += 1 } }
    var count: Int { lock.withLock { value } }
}

/// The identity, counting its evaluations.
private struct Counted: Op {
    let counter: Counter
    var description: String { "counted" }
    static func == (a: Counted, b: Counted) -> Bool { a.counter === b.counter }
    func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(counter)) }
    func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] { inputs }
    func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        counter.increment()
        return inputs
    }
}

private func counted(_ x: Variable, _ counter: Counter) throws -> Variable {
    try Counted(counter: counter).apply([x], at: SourceLocation.resolve(fileID: #fileID, line: #line)).outputs[0]
}

private let executors: [(String, CompileOptions)] = [("reference", .default), ("native", CompileOptions(linker: Scratch.linker()))]

@Suite("ifelse")
struct IfElseTests {
    @Test(arguments: [0, 1])
    func onlyTheBranchTakenIsComputed(executor: Int) throws {
        let (thenCount, elseCount, sharedCount) = (Counter(), Counter(), Counter())
        let c = scalar("c", dtype: .bool), x = vector("x"), y = vector("y")
        let shared = try counted(x + y, sharedCount)
        let result = try ifelse(c, counted(exp(x) * 2, thenCount) + shared, counted(sqr(y), elseCount) - shared)
        let f = try function(inputs: [c, x, y], outputs: [result], options: executors[executor].1)
        let (xv, yv) = (NDArray([1, 2] as [Float]), NDArray([3, 4] as [Float]))
        let taken = try f([NDArray(scalar: true), xv, yv])[0]
        #expect(taken.isClose(to: NDArray([Float(2 * M_E + 4), Float(2 * M_E * M_E + 6)]), rtol: 1e-6))
        #expect((thenCount.count, elseCount.count, sharedCount.count) == (1, 0, 1))
        let other = try f([NDArray(scalar: false), xv, yv])[0]
        #expect(other == NDArray([5, 10] as [Float]))
        #expect((thenCount.count, elseCount.count, sharedCount.count) == (1, 1, 2))
    }

    @Test func nestedBranchesAreLazyToo() throws {
        let (inner, outer, condition) = (Counter(), Counter(), Counter())
        let a = scalar("a", dtype: .bool), x = scalar("x", dtype: .float64)
        // The inner condition itself is computed only when the outer branch needs it.
        let innerCondition = try counted(gt(x, 0), condition)
        let nested = try ifelse(innerCondition, counted(x * 10, inner), x - 1)
        let f = try function(inputs: [a, x], outputs: [try ifelse(a, nested, counted(x + 100, outer))])
        #expect(try f([NDArray(scalar: false), NDArray(scalar: 2.0, dtype: .float64)])[0].scalar(as: Double.self) == 102)
        #expect((inner.count, outer.count, condition.count) == (0, 1, 0))
        #expect(try f([NDArray(scalar: true), NDArray(scalar: 2.0, dtype: .float64)])[0].scalar(as: Double.self) == 20)
        #expect((inner.count, outer.count, condition.count) == (1, 1, 1))
        #expect(try f([NDArray(scalar: true), NDArray(scalar: -2.0, dtype: .float64)])[0].scalar(as: Double.self) == -3)
        #expect((inner.count, outer.count, condition.count) == (1, 1, 2))
    }

    @Test func severalValuesAtOnce() throws {
        let c = scalar("c", dtype: .int64), x = vector("x"), y = vector("y")
        let values = try ifelse(c, [x, try x * 2], [y, try y * 3])
        let f = try function(inputs: [c, x, y], outputs: values)
        let results = try f([NDArray(scalar: Int64(0)), NDArray([1] as [Float]), NDArray([5, 6] as [Float])])
        #expect(results == [NDArray([5, 6] as [Float]), NDArray([15, 18] as [Float])])
    }

    @Test func gradientsFlowThroughTheBranchTaken() throws {
        for sign in [1.0, -1.0] {
            let point = [NDArray([0.5 * sign, 0.25 * sign, 0.7 * sign], shape: [3]), NDArray([0.3, -0.8, 1.1], shape: [3])]
            try verifyGrad({ v in try sum(ifelse(gt(sum(v[0]), 0), sin(v[0]) * v[1], cos(v[1]) * v[0])) }, at: point)
            try verifyRop({ v in try ifelse(gt(sum(v[0]), 0), sin(v[0]) * v[1], cos(v[1]) * v[0]) }, at: point)
        }
    }

    @Test func badInput() {
        let c = vector("c", dtype: .bool), x = vector("x"), y = vector("y", dtype: .float64)
        expectFailure(mentioning: ["if_else", "condition must be a scalar", here()]) { _ = try ifelse(c, x, x) }
        expectFailure(mentioning: ["if_else", "float32[?]", "float64[?]", here()]) { _ = try ifelse(c[0], x, y) }
        expectFailure(mentioning: ["ifelse", "1 and 2", here()]) { _ = try ifelse(c[0], [x], [x, x]) }
    }
}
