import Foundation
import Synchronization
import Testing
@testable import Theano
@testable import TheanoCore
@testable import TheanoNative

/// A tanh layer and a softmax classifier trained by SGD, float64, with weights of its own:
/// two of them compiled differently see the same numbers.
private struct TrainingStep {
    let function: Function
    let weights: [SharedVariable]

    init(options: CompileOptions, profile: Bool = false) throws {
        let x = matrix("x", dtype: .float64, shape: (nil, 6)), y = vector("y", dtype: .int64)
        let W1 = try shared(NDArray((0..<48).map { sin(Double($0)) / 3 }, shape: [6, 8]), name: "W1")
        let W2 = try shared(NDArray((0..<24).map { cos(Double($0)) / 3 }, shape: [8, 3]), name: "W2")
        let probabilities = try softmax(dot(tanh(dot(x, W1)), W2))
        let cost = try mean(categoricalCrossentropy(probabilities, y))
        let gradients = try grad(cost, wrt: [W1, W2])
        function = try Theano.function(inputs: [x, y], outputs: [cost, probabilities],
                                       updates: [W1: W1 - 0.5 * gradients[0], W2: W2 - 0.5 * gradients[1]],
                                       options: options, profile: profile)
        weights = [W1, W2]
    }

    static let inputs = [NDArray((0..<30).map { Double($0 % 7) / 7 - 0.4 }, shape: [5, 6]), NDArray([0, 2, 1, 1, 0] as [Int64])]
}

/// Functions that answer calls while their kernels compile (`waitsForOptimizedCode: false`).
@Suite("Tiered compilation")
struct TieredCompilationTests {
    /// GCC held back until the test opens its gate (or for 60 s at most): the first tier is
    /// sure to answer first, however busy the machine.
    struct GatedCompiler {
        let command: String
        private let gate = Scratch.freshPath("gate")

        init() throws {
            command = try NativeFaultTests.script("gated-cc", """
                if [ "$1" = "--version" ]; then exec gcc --version; fi
                waited=0
                while [ ! -e \(gate) ] && [ $waited -lt 1200 ]; do sleep 0.05; waited=$((waited + 1)); done
                exec gcc "$@"
                """)
        }

        /// Lets the compiles run.
        func open() { FileManager.default.createFile(atPath: gate, contents: nil) }

        func linker(_ name: String) -> NativeLinker {
            Scratch.linker(cache: ModuleCache(directory: Scratch.freshPath(name)), compilers: [command])
        }
    }

    static func tiered(_ linker: NativeLinker) -> CompileOptions { CompileOptions(linker: linker, waitsForOptimizedCode: false) }

    /// The first calls run before the kernels are compiled, then the compiled code takes
    /// over; every result and update agrees with a function that waited for its kernels.
    @Test(.enabled(if: NativeFaultTests.hasGCC)) func firstCallsRunWhileTheKernelsCompile() throws {
        let compiler = try GatedCompiler()
        let linker = compiler.linker("tiered")
        let waited = try TrainingStep(options: CompileOptions(linker: Scratch.linker()))
        let tiered = try TrainingStep(options: Self.tiered(linker))
        #expect(!tiered.function.isOptimizedCodeReady, "function returned before the compiler could finish")
        for call in 0..<8 {
            // Three calls on the first tier, five on compiled code.
            if call < 3 { #expect(!tiered.function.isOptimizedCodeReady) }
            if call == 3 {
                compiler.open()
                tiered.function.waitForOptimizedCode()
            }
            let (a, b) = (try tiered.function(TrainingStep.inputs), try waited.function(TrainingStep.inputs))
            for (x, y) in zip(a, b) { #expect(x.isClose(to: y, rtol: 1e-12, atol: 1e-14), "call \(call): \(x) vs \(y)") }
        }
        #expect(tiered.function.isOptimizedCodeReady)
        #expect(tiered.function.compiledNodes == waited.function.compiledNodes && tiered.function.compiledNodes > 0)
        #expect(tiered.function.linkWarnings.isEmpty, "\(tiered.function.linkWarnings)")
        #expect(tiered.function.compileTimes.compile > 0 && !tiered.function.compileTimes.cacheHit, "the compile times are the optimized code's")
        for (a, b) in zip(tiered.weights, waited.weights) { #expect(a.value.isClose(to: b.value, rtol: 1e-12)) }
    }

    /// Exact operations give the same bits on either tier.
    @Test(.enabled(if: NativeFaultTests.hasGCC)) func exactOperationsAgreeBitForBit() throws {
        let compiler = try GatedCompiler()
        let linker = compiler.linker("tiered-exact")
        let x = matrix("x", dtype: .float64), y = matrix("y", dtype: .float64)
        let outputs = [try maximum(x * 2 + y, y - x), try abs(x - y) * 0.5, try dot(x, y)]
        let f = try function(inputs: [x, y], outputs: outputs, options: Self.tiered(linker))
        let a = NDArray((0..<16).map { Double($0 % 5) - 2 }, shape: [4, 4]), b = NDArray((0..<16).map { Double($0 % 3) * 1.5 }, shape: [4, 4])
        #expect(!f.isOptimizedCodeReady)
        let first = try f(a, b)
        compiler.open()
        f.waitForOptimizedCode()
        #expect(f.compiledNodes > 0)
        let later = try f(a, b)
        for (p, q) in zip(first, later) { #expect(p.elements(as: Double.self) == q.elements(as: Double.self)) }
    }

    /// Two threads calling while the compiled code is swapped in all get right answers.
    @Test(.enabled(if: NativeFaultTests.hasGCC)) func callsFromSeveralThreadsSpanTheSwap() throws {
        let compiler = try GatedCompiler()
        let linker = compiler.linker("tiered-threads")
        let x = vector("x", dtype: .float64)
        let f = try function(inputs: [x], outputs: [try tanh(x) * 3 + exp(-x)], options: Self.tiered(linker))
        let input = NDArray((0..<1000).map { Double($0) / 500 - 1 })
        let expected = input.elements(as: Double.self).map { Foundation.tanh($0) * 3 + Foundation.exp(-$0) }
        let failures = Mutex(0), ranBefore = Mutex(false)
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            var calls = 0, after = 0
            while after < 20 {
                calls += 1
                if calls == 5 { compiler.open() }
                if f.isOptimizedCodeReady { after += 1 } else { ranBefore.withLock { $0 = true } }
                let result = try? f(input)[0].elements(as: Double.self)
                let right = result.map { zip($0, expected).allSatisfy { abs($0 - $1) <= 1e-13 * Swift.max(1, abs($1)) } } ?? false
                if !right { failures.withLock { $0 += 1 } }
            }
        }
        #expect(failures.withLock { $0 } == 0)
        #expect(ranBefore.withLock { $0 }, "some calls ran on the first tier")
        #expect(f.compiledNodes == 1)
    }

    /// With the kernels in the cache, the compiled code answers the first call; a profiled
    /// function waits for its kernels; loops' steps get a first tier too.
    @Test(.enabled(if: NativeFaultTests.hasGCC)) func cachedKernelsProfilesAndLoops() throws {
        let cache = ModuleCache(directory: Scratch.freshPath("tiered-cached"))
        _ = try TrainingStep(options: CompileOptions(linker: Scratch.linker(cache: cache)))
        let warm = try TrainingStep(options: Self.tiered(Scratch.linker(cache: cache)))
        #expect(warm.function.isOptimizedCodeReady && warm.function.compileTimes.cacheHit)

        let opened = try GatedCompiler()
        opened.open()
        let slow = opened.linker("tiered-profiled")
        let profiled = try TrainingStep(options: Self.tiered(slow), profile: true)
        #expect(profiled.function.isOptimizedCodeReady && profiled.function.compiledNodes > 0)

        let sequence = matrix("sequence", dtype: .float64, shape: (nil, 4)), h0 = vector("h0", dtype: .float64, length: 4)
        let h = try scan(sequences: [ScanSequence(sequence)], outputsInfo: [.recurrent(h0)]) { v in [try tanh(v[0] * 0.5 + v[1])] }[0]
        let compiler = try GatedCompiler()
        let loopLinker = compiler.linker("tiered-loop")
        let loop = try function(inputs: [sequence, h0], outputs: [sum(h)], options: Self.tiered(loopLinker))
        let reference = try function(inputs: [sequence, h0], outputs: [sum(h)])
        let values = [NDArray((0..<20).map { Double($0) / 10 - 1 }, shape: [5, 4]), NDArray([0.1, -0.2, 0.3, 0] as [Double])]
        #expect(!loop.isOptimizedCodeReady)
        let first = try loop(values)[0]
        compiler.open()
        loop.waitForOptimizedCode()
        let (later, expected) = (try loop(values)[0], try reference(values)[0])
        #expect(first.isClose(to: expected) && later.isClose(to: expected))
    }

    /// Background compiles take turns in the order their functions were made: a second
    /// function's kernels, quick to compile, wait for the first's, held back by the gate.
    @Test(.enabled(if: NativeFaultTests.hasGCC)) func backgroundCompilesTakeTurns() throws {
        let gated = try GatedCompiler()
        let first = try TrainingStep(options: Self.tiered(gated.linker("tiered-turn-first")))
        let x = vector("x", dtype: .float64)
        let second = try function(inputs: [x], outputs: [try exp(x) * 2 + 1],
                                  options: Self.tiered(Scratch.linker(cache: ModuleCache(directory: Scratch.freshPath("tiered-turn-second")))))
        Thread.sleep(forTimeInterval: 1)
        #expect(!first.function.isOptimizedCodeReady && !second.isOptimizedCodeReady)
        gated.open()
        second.waitForOptimizedCode()
        #expect(first.function.isOptimizedCodeReady)
        #expect(second.compiledNodes == 1 && first.function.compiledNodes > 0)
    }

    /// A compile that fails in the background leaves the first tier answering, and says why.
    @Test func aFailedBackgroundCompileKeepsTheFirstTier() throws {
        let broken = try NativeFaultTests.script("broken-cc", """
            if [ "$1" = "--version" ]; then echo "broken-cc 1.0"; exit 0; fi
            echo "broken-cc: cannot compile" >&2
            exit 1
            """)
        let linker = Scratch.linker(cache: ModuleCache(directory: Scratch.freshPath("tiered-broken")), compilers: [broken])
        let (f, input, expected) = try NativeFaultTests.smallFunction(linker: linker, options: Self.tiered)
        #expect(try f(input)[0].isClose(to: expected))
        f.waitForOptimizedCode()
        #expect(f.compiledNodes == 0)
        #expect(f.linkWarnings.count == 1 && f.linkWarnings[0].contains("cannot compile"), "\(f.linkWarnings)")
        #expect(try f(input)[0].isClose(to: expected))
    }
}
