import Testing
@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoLoops
@testable import TheanoNative
@testable import TheanoOps
@testable import TheanoOptimizer

// Writing results over the memory of inputs (the native backend's inplace plan): updates of
// shared variables written into the variable's storage, intermediates written over inputs
// nobody else reads — and every case where that would be wrong, which must compute the same
// values as the reference interpreter.

/// A model built twice, once per backend, with shared variables of its own each time.
private struct Model {
    let function: Function
    let shared: [SharedVariable]

    /// `build` makes the shared variables from `initial` and returns the function's pieces.
    init(native: Bool, initial: [NDArray],
         _ build: ([SharedVariable]) throws -> (inputs: [Variable], outputs: [Variable], updates: [SharedVariable: Variable])) throws {
        shared = try initial.enumerated().map { try Theano.shared($1, name: "s\($0)") }
        let (inputs, outputs, updates) = try build(shared)
        function = try Theano.function(inputs: inputs, outputs: outputs, updates: updates,
                                       options: native ? CompileOptions(linker: Scratch.linker()) : .default)
    }

    var values: [NDArray] { shared.map(\.value) }
}

/// Runs both backends `calls` times on `arguments`; expects the same outputs and shared
/// values after every call. Returns the native model.
@discardableResult
private func expectSameAsReference(initial: [NDArray], arguments: [NDArray] = [], calls: Int = 3,
                                   _ build: ([SharedVariable]) throws -> (inputs: [Variable], outputs: [Variable], updates: [SharedVariable: Variable]))
    throws -> Model {
    let native = try Model(native: true, initial: initial, build)
    let reference = try Model(native: false, initial: initial, build)
    for _ in 0..<calls {
        let (got, expected) = (try native.function(arguments), try reference.function(arguments))
        for (g, e) in zip(got + native.values, expected + reference.values) {
            #expect(g.isClose(to: e, rtol: 1e-5, atol: 1e-6), "\(g) != \(e)")
        }
    }
    return native
}

@Suite("Inplace")
struct InplaceTests {
    @Test("an SGD step writes W and b into their own storage")
    func sgdStepOverwritesParameters() throws {
        let x = randomValues([8, 5], seed: 1, dtype: .defaultFloat), y = randomValues([8, 3], seed: 2, dtype: .defaultFloat)
        let model = try expectSameAsReference(initial: [randomValues([5, 3], seed: 3, dtype: .defaultFloat), randomValues([3], seed: 4, dtype: .defaultFloat)], arguments: [x, y]) { s in
            let (W, b) = (s[0], s[1])
            let xs = matrix("x"), ys = matrix("y")
            let cost = try mean(sqr(tanh(dot(xs, W) + b) - ys))
            let g = try grad(cost, wrt: [W, b])
            return ([xs, ys], [cost], [W: try W - 0.5 * g[0], b: try b - 0.5 * g[1]])
        }
        #expect(model.function.inplaceNodes >= 2)
        let addresses = model.shared.map { $0.value.firstElementAddress }
        _ = try model.function([x, y])
        #expect(model.shared.map { $0.value.firstElementAddress } == addresses)
    }

    @Test("an array the caller kept is not changed by the update")
    func keptValueIsNotOverwritten() throws {
        let model = try expectSameAsReference(initial: [randomValues([4, 4], seed: 5, dtype: .defaultFloat)], arguments: [randomValues([4, 4], seed: 6, dtype: .defaultFloat)]) { s in
            let x = matrix("x")
            return ([x], [], [s[0]: try s[0] - 0.1 * dot(x, x)])
        }
        let kept = model.shared[0].value
        let copy = kept.contiguousCopy()
        _ = try model.function([randomValues([4, 4], seed: 6, dtype: .defaultFloat)])
        #expect(kept == copy)
        #expect(model.shared[0].value != copy)
        // Once the caller lets go, the next update is written in place again.
        let address = model.shared[0].value.firstElementAddress
        _ = try model.function([randomValues([4, 4], seed: 6, dtype: .defaultFloat)])
        #expect(model.shared[0].value.firstElementAddress == address)
    }

    @Test("a variable returned as an output, or read through a view by its update, is not overwritten")
    func aliasesPreventOverwriting() throws {
        let returned = try expectSameAsReference(initial: [randomValues([3, 3], seed: 7, dtype: .defaultFloat)]) { s in ([], [s[0]], [s[0]: try s[0] * 2]) }
        #expect(returned.function.inplaceNodes == 0)
        let transposed = try expectSameAsReference(initial: [randomValues([3, 3], seed: 8, dtype: .defaultFloat)]) { s in ([], [], [s[0]: try s[0] - s[0].T]) }
        #expect(transposed.function.inplaceNodes == 0)
    }

    @Test("two shared variables holding the same memory are updated independently")
    func sharedMemoryBetweenVariables() throws {
        let value = randomValues([6], seed: 9, dtype: .defaultFloat)
        let a = try shared(value, name: "a"), b = try shared(a.value, name: "b")
        let f = try function(inputs: [], outputs: [], updates: [a: try a + 1], options: CompileOptions(linker: Scratch.linker()))
        #expect(f.inplaceNodes == 1)
        _ = try f([])
        #expect(b.value == value)
        #expect(a.value.elements(as: Float.self) == value.elements(as: Float.self).map { $0 + 1 })
    }

    @Test("updates that read each other's variables see the values from before the call")
    func updatesReadingEachOther() throws {
        try expectSameAsReference(initial: [randomValues([4], seed: 10, dtype: .defaultFloat), randomValues([4], seed: 11, dtype: .defaultFloat)]) { s in
            ([], [], [s[0]: try s[0] + s[1], s[1]: try s[1] * s[0]])
        }
    }

    @Test("a failed call changes no shared variable, even with updates written in place")
    func failedCallChangesNothing() throws {
        let W = try shared(randomValues([3, 3], seed: 12, dtype: .defaultFloat), name: "W"), b = try shared(randomValues([3], seed: 13, dtype: .defaultFloat), name: "b")
        let v = vector("v")
        let f = try function(inputs: [v], outputs: [], updates: [W: try W * 2, b: try b + v], options: CompileOptions(linker: Scratch.linker()))
        #expect(f.inplaceNodes == 2)
        let (before, beforeB) = (W.value.contiguousCopy(), b.value.contiguousCopy())
        #expect(throws: TheanoError.self) { try f([randomValues([4], seed: 14, dtype: .defaultFloat)]) }
        #expect(W.value == before && b.value == beforeB)
    }

    /// The kinds of update a native function may write in place, each beside an update
    /// that fails its shape check when the call runs (`A: a`, with `a` of the wrong shape):
    /// the call throws and neither variable changes, on both backends.
    static let inPlaceUpdateKinds: [(name: String, update: @Sendable (SharedVariable, Variable) throws -> Variable)] = [
        ("elementwise B - 1", { B, _ in try B - 1 }),
        ("gemm with β = 1: B - 0.1 · x·xᵀ", { B, x in try B - 0.1 * dot(x, x.T) }),
        ("increment of a row: incSubtensor(B[0], 1)", { B, _ in try incSubtensor(B[0], constant(NDArray([1, 1, 1] as [Float]))) }),
        ("loop output: three steps of B · 0.5", { B, _ in
            try scan(outputsInfo: [.recurrent(B)], nSteps: constant(3, dtype: .int64)) { h in [try h[0] * 0.5] }[0][-1]
        }),
    ]

    @Test(arguments: inPlaceUpdateKinds.indices, Backend.allCases)
    func aCallThatFailsAfterAnUpdateInPlaceChangesNothing(kind: Int, backend: Backend) throws {
        let (name, update) = Self.inPlaceUpdateKinds[kind]
        let A = try shared(randomValues([2, 3], seed: 20, dtype: .defaultFloat), name: "A"), B = try shared(randomValues([3, 3], seed: 21, dtype: .defaultFloat), name: "B")
        let a = matrix("a"), x = matrix("x")
        let f = try function(inputs: [a, x], outputs: [], updates: [A: a, B: try update(B, x)], options: backend.options)
        let (beforeA, beforeB) = (A.value.contiguousCopy(), B.value.contiguousCopy())
        let addresses = (A.value.firstElementAddress, B.value.firstElementAddress)
        let line = #line - 3  // where the function was compiled
        expectFailure(mentioning: ["(3, 2)", "(2, 3)", here(line)]) { _ = try f(randomValues([3, 2], seed: 22, dtype: .defaultFloat), randomValues([3, 4], seed: 23, dtype: .defaultFloat)) }
        #expect(A.value == beforeA && B.value == beforeB, "\(name): a failed call changed a variable")
        #expect(A.value.firstElementAddress == addresses.0 && B.value.firstElementAddress == addresses.1)
        // And the same function works with good arguments.
        _ = try f(randomValues([2, 3], seed: 24, dtype: .defaultFloat), randomValues([3, 4], seed: 23, dtype: .defaultFloat))
        #expect(A.value.shape == [2, 3] && B.value != beforeB, "\(name)")
    }

    @Test("an intermediate read by one node is overwritten; one that is also an output is not")
    func intermediates() throws {
        let (a, b) = (randomValues([5, 4], seed: 15, dtype: .defaultFloat), randomValues([4, 6], seed: 16, dtype: .defaultFloat))
        let once = try expectSameAsReference(initial: [], arguments: [a, b]) { _ in
            let x = matrix("x"), y = matrix("y")
            return ([x, y], [try exp(dot(x, y)) + 1], [:])
        }
        #expect(once.function.inplaceNodes == 1)
        let returned = try expectSameAsReference(initial: [], arguments: [a, b]) { _ in
            let x = matrix("x"), y = matrix("y")
            let product = try dot(x, y)
            return ([x, y], [product, try exp(product) + 1], [:])
        }
        #expect(returned.function.inplaceNodes == 0)
    }

    @Test("an input the caller hands over is overwritten; one it keeps is not")
    func handedOverInputs() throws {
        let acc = matrix("acc"), a = matrix("a"), b = matrix("b")
        let sum = try acc + dot(a, b)
        let graph = try FunctionGraph(inputs: [acc, a, b], outputs: [sum])
        _ = Pipeline.optimize(graph, options: CompileOptions(linker: Scratch.linker()))
        let handed = try Scratch.linker().link(graph, updates: [], overwritableInputs: [0])
        let kept = try Scratch.linker().link(graph, updates: [])
        #expect(handed.inplaceNodes == 1 && kept.inplaceNodes == 0)
        let values = [randomValues([3, 2], seed: 40, dtype: .defaultFloat), randomValues([3, 4], seed: 41, dtype: .defaultFloat), randomValues([4, 2], seed: 42, dtype: .defaultFloat)]
        let expected = try function(inputs: [acc, a, b], outputs: [sum])(values)[0]
        let accumulator = values[0].contiguousCopy()
        let result = try handed.executor.run(inputs: [accumulator, values[1], values[2]])[0]
        #expect(result.firstElementAddress == accumulator.firstElementAddress)
        #expect(result.isClose(to: expected, rtol: 1e-5, atol: 1e-6))
        let untouched = values[0].contiguousCopy()
        _ = try kept.executor.run(inputs: [untouched, values[1], values[2]])
        #expect(untouched == values[0])
    }
}
