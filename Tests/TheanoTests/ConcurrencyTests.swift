import Dispatch
import Foundation
import Synchronization
import Testing
@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoLoops
@testable import TheanoNative
@testable import TheanoOps
@testable import TheanoOptimizer

// Compiled functions and shared variables used from several threads at once, as a server
// answering requests does: every call must compute what it would alone, no update may be
// lost, and no value may be seen half-written. Run these under the thread sanitizer too
// (Scripts/sanitize).

@Suite("Concurrency")
struct ConcurrencyTests {
    static let threads = 4

    /// One function (a fused kernel, a matrix product and a reduction; and a loop) called
    /// from four threads at once, each with its own arguments, many times.
    @Test(arguments: Backend.allCases)
    func oneFunctionCalledFromSeveralThreadsAtOnce(backend: Backend) throws {
        let x = matrix("x", dtype: .float64), W = try shared(NDArray([[1, 2], [3, 4], [5, 6]] as [[Double]]), name: "W")
        let hidden = try tanh(dot(x, W)) * 2 + 1
        let states = try scan(sequences: [ScanSequence(hidden)], outputsInfo: [.recurrent(zeros([2], dtype: .float64))]) { v in
            [try v[0] * 0.5 + v[1]]
        }[0]
        let f = try function(inputs: [x], outputs: [try sum(hidden, axis: 1), states], options: backend.options)
        let reference = try function(inputs: [x], outputs: [try sum(hidden, axis: 1), states])
        let arguments = (0..<Self.threads).map { t in
            NDArray((0..<(3 * (t + 2))).map { Double($0 * (t + 1)) / 10 }, shape: [t + 2, 3])
        }
        let expected = try arguments.map { try reference($0) }
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: Self.threads) { t in
            for call in 0..<200 {
                do {
                    let results = try f(arguments[t])
                    if zip(results, expected[t]).contains(where: { !$0.isClose(to: $1) }) {
                        failures.withLock { $0.append("thread \(t), call \(call): \(results) ≠ \(expected[t])") }
                        return
                    }
                } catch {
                    failures.withLock { $0.append("thread \(t), call \(call): \(error)") }
                    return
                }
            }
        }
        let found = failures.withLock { $0 }
        #expect(found.isEmpty, "\(found.prefix(3))")
    }

    /// Four functions updating one shared variable (one of them in place, on the native
    /// backend) from four threads: every update counts.
    @Test(arguments: Backend.allCases)
    func updatesOfOneVariableFromSeveralThreadsAreNotLost(backend: Backend) throws {
        let counter = try shared(NDArray(zeros: [64], dtype: .float64), name: "counter")
        let step = try shared(NDArray([Double](repeating: 1, count: 64)), name: "step")
        let functions = try (0..<Self.threads).map { t in
            try function(inputs: [], outputs: [], updates: [counter: t.isMultiple(of: 2) ? try counter + step : try step + counter],
                         options: backend.options)
        }
        let calls = 500
        DispatchQueue.concurrentPerform(iterations: Self.threads) { t in
            for _ in 0..<calls { _ = try? functions[t]([]) }
        }
        let total = counter.value.elements(as: Double.self)
        #expect(total.allSatisfy { $0 == Double(Self.threads * calls) }, "\(total.prefix(4)) after \(Self.threads * calls) increments")
    }

    /// Readers and writers of a variable's value on other threads while functions update it
    /// in place: every value seen is whole (all its elements from one update).
    @Test(arguments: Backend.allCases)
    func valuesAreNeverSeenHalfWritten(backend: Backend) throws {
        let v = try shared(NDArray(zeros: [4096], dtype: .float32), name: "v")
        let f = try function(inputs: [], outputs: [], updates: [v: try v + 1], options: backend.options)
        let torn = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { role in
            for i in 0..<300 {
                switch role {
                case 0, 1:
                    _ = try? f([])
                case 2:
                    let elements = v.value.elements(as: Float.self)
                    if elements.contains(where: { $0 != elements[0] }) { torn.add(1, ordering: .relaxed) }
                default:
                    try? v.setValue(NDArray([Float](repeating: Float(i), count: 4096)))
                }
            }
        }
        #expect(torn.load(ordering: .relaxed) == 0)
        let final = v.value.elements(as: Float.self)
        #expect(final.allSatisfy { $0 == final[0] })
    }
}
