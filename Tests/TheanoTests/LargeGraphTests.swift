import Foundation
import Testing
@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoLoops
@testable import TheanoNative
@testable import TheanoOps
@testable import TheanoOptimizer

// Graphs of a hundred thousand nodes, a hundred thousand deep (a chain built in a loop) or
// wide (independent terms), through everything a user does with them — build, `grad`,
// compile, run, release — on the main thread and on a thread with a small stack: nothing
// may recurse once per node.

@Suite("Large graphs")
struct LargeGraphTests {
    static let size = 100_000

    /// Runs `body` on a new thread whose stack is `stackSize` bytes, and waits for it.
    static func onThread(stackSize: Int, _ body: @escaping @Sendable () throws -> Void) throws {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var failure: (any Error)?
        let thread = Thread {
            do { try body() } catch { failure = error }
            done.signal()
        }
        thread.stackSize = stackSize
        thread.start()
        done.wait()
        if let failure { throw failure }
    }

    /// `c = c + v`, `size` times: its value, its gradient (`size + 1` everywhere), and the
    /// release of every node.
    static func deepChain() throws {
        let v = vector("v", dtype: .float64, length: 3)
        var c = v
        for _ in 0..<size { c = try c + v }
        let cost = try sum(c)
        let gradient = try grad(cost, wrt: [v])[0]
        let f = try function(inputs: [v], outputs: [cost, gradient], options: .unoptimized)
        let results = try f(NDArray([1, 2, 3] as [Double]))
        #expect(results[0].scalar(as: Double.self) == 6 * Double(size + 1))
        #expect(results[1].elements(as: Double.self) == [Double](repeating: Double(size + 1), count: 3))
    }

    /// `size` independent terms `v · k`, summed pairwise: wide, and shallow.
    static func wideGraph() throws {
        let v = vector("v", dtype: .float64, length: 2)
        var terms = try (0..<size).map { k in try v * Double(k % 7) }
        while terms.count > 1 {
            terms = try stride(from: 0, to: terms.count, by: 2).map { i in i + 1 < terms.count ? try terms[i] + terms[i + 1] : terms[i] }
        }
        let cost = try sum(terms[0])
        let gradient = try grad(cost, wrt: [v])[0]
        let f = try function(inputs: [v], outputs: [cost, gradient], options: .unoptimized)
        let weight = Double((0..<size).reduce(0) { $0 + $1 % 7 })
        let results = try f(NDArray([1, -0.5] as [Double]))
        #expect(results[0].scalar(as: Double.self) == 0.5 * weight)
        #expect(results[1].elements(as: Double.self) == [weight, weight])
    }

    @Test func aDeepChainOnTheMainThread() throws { try Self.deepChain() }

    @Test func aDeepChainOnASmallStack() throws { try Self.onThread(stackSize: 512 << 10) { try Self.deepChain() } }

    @Test func aWideGraphOnASmallStack() throws { try Self.onThread(stackSize: 512 << 10) { try Self.wideGraph() } }

    /// A chain made and dropped without compiling: releasing the last variable releases
    /// every node, from a thread with a small stack.
    @Test func releasingAChainDoesNotRecurse() throws {
        try Self.onThread(stackSize: 256 << 10) {
            let v = vector("v")
            var c = try exp(v)
            weak let first = c.owner
            for _ in 0..<(4 * Self.size) { c = try c * 1.5 }
            c = v
            #expect(first == nil, "the chain's first node outlived the chain")
        }
    }

    /// Every optimizer phase and the native backend on a chain of 5,000 tanh steps and its
    /// gradient (about 50,000 nodes): they must stay near-linear in the graph's size (this
    /// took minutes when rules rescanned whole trees and each step was its own C function).
    @Test func aLongChainCompilesFullyOptimized() throws {
        let v = vector("v", dtype: .float64, length: 4)
        var y = v
        for _ in 0..<5_000 { y = try tanh(y) * 0.5 + v }
        let gradient = try grad(sum(y), wrt: [v])[0]
        let native = try function(inputs: [v], outputs: [y, gradient], options: CompileOptions(linker: Scratch.linker()))
        let reference = try function(inputs: [v], outputs: [y, gradient], options: .unoptimized)
        #expect(native.linkWarnings.isEmpty, "\(native.linkWarnings)")
        let point = NDArray([0.3, -1, 2, 0] as [Double])
        for (a, b) in zip(try native(point), try reference(point)) { #expect(a.isClose(to: b, rtol: 1e-9, atol: 1e-12)) }
    }
}
