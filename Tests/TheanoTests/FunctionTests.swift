import Testing
import Theano

@Suite("Compiled functions")
struct FunctionTests {
    @Test func severalOutputs() throws {
        let x = vector("x")
        let f = try function(inputs: [x], outputs: [sum(x), x * 2])
        let results = try f(NDArray([1, 2, 3] as [Float]))
        #expect(results[0] == NDArray(scalar: Float(6)))
        #expect(results[1] == NDArray([2, 4, 6] as [Float]))
    }

    @Test func updatesUseTheValuesBeforeTheCall() throws {
        let a = try shared(NDArray([1] as [Float]), name: "a")
        let b = try shared(NDArray([2] as [Float]), name: "b")
        let swap = try function(inputs: [], outputs: [a + b], updates: [a: b, b: a])
        let total = try swap([])
        #expect(total[0] == NDArray([3] as [Float]))
        #expect(a.value == NDArray([2] as [Float]) && b.value == NDArray([1] as [Float]))
    }

    @Test func sharedStatePersistsAcrossCalls() throws {
        let counter = try shared(NDArray(scalar: Int64(0)), name: "counter")
        let tick = try function(inputs: [], outputs: [counter], updates: [counter: counter + 1])
        for expected in 0..<3 { #expect(try tick([])[0].scalar(as: Int64.self) == Int64(expected)) }
        #expect(counter.value.scalar(as: Int64.self) == 3)
        try counter.setValue(NDArray(scalar: Int64(10)))
        #expect(try tick([])[0].scalar(as: Int64.self) == 10)
    }

    @Test func givensSubstituteBeforeCompiling() throws {
        let x = vector("x"), y = vector("y")
        let data = try shared(NDArray([1, 2, 3] as [Float]), name: "data")
        let f = try function(inputs: [y], outputs: [x * y], givens: [x: data])
        #expect(try f(NDArray([2, 2, 2] as [Float]))[0] == NDArray([2, 4, 6] as [Float]))
    }

    @Test func compilingLeavesTheUserGraphAlone() throws {
        let x = vector("x")
        let y = try exp(x)
        _ = try function(inputs: [x], outputs: [y])
        #expect(y.owner?.inputs[0] === x)
    }

    @Test func equalConstantsAreMerged() throws {
        let x = vector("x")
        let f = try function(inputs: [x], outputs: [x * constant(2.0) + constant(2.0)])
        let constants = Set(f.graph.nodes.flatMap(\.inputs).compactMap { $0 as? Constant }.map(ObjectIdentifier.init))
        #expect(constants.count == 1)
        #expect(try f(NDArray([1] as [Float]))[0] == NDArray([4] as [Float]))
    }

    @Test func operatorsWithSwiftNumbersKeepTheTensorDType() throws {
        let x = vector("x", dtype: .float64), n = vector("n", dtype: .int32)
        #expect(try (2 * x + 1).dtype == .float64)
        #expect(try (n * 2).dtype == .int32)
        #expect(try (n * 2.5).dtype == .float64)
        #expect(try (n / 2).dtype == .float64)
        #expect(try intDiv(n, n).dtype == .int32)
    }

    /// The README's example, verbatim in spirit: logistic regression on the digits.
    @Test func readmeExampleLearns() throws {
        let x = matrix("x", shape: (nil, 64))
        let y = vector("y", dtype: .int64)
        let W = try shared(NDArray(zeros: [64, 10], dtype: .float32), name: "W")
        let b = try shared(NDArray(zeros: [10], dtype: .float32), name: "b")
        let probabilities = try softmax(dot(x, W) + b)
        let cost = try mean(categoricalCrossentropy(probabilities, y))
        let gradients = try grad(cost, wrt: [W, b])
        let train = try function(inputs: [x, y], outputs: [cost],
                                 updates: [W: W - 0.5 * gradients[0], b: b - 0.5 * gradients[1]])
        let predict = try function(inputs: [x], outputs: [argmax(probabilities, axis: 1)])
        let digits = try Dataset.digits()
        var losses: [Double] = []
        for _ in 1...100 { losses.append(try train(digits.images, digits.labels)[0].scalar(as: Double.self)) }
        #expect(losses.last! < losses.first! / 3)
        let predicted = try predict(digits.images)[0].elements(as: Int64.self)
        let correct = zip(predicted, digits.labels.elements(as: Int64.self)).filter { $0 == $1 }.count
        #expect(Double(correct) / Double(digits.count) > 0.9)
    }
}

@Suite("Named inputs and defaults")
struct NamedInputTests {
    @Test func trailingDefaultsMayBeLeftOut() throws {
        let x = vector("x"), scale = scalar("scale")
        let f = try function(inputs: [x, scale], outputs: [x * scale], defaults: [scale: NDArray(scalar: Float(10))])
        #expect(try f(NDArray([1, 2] as [Float]))[0] == NDArray([10, 20] as [Float]))
        #expect(try f(NDArray([1, 2] as [Float]), NDArray(scalar: Float(2)))[0] == NDArray([2, 4] as [Float]))
    }

    @Test func argumentsByName() throws {
        let x = vector("x"), shift = scalar("shift")
        let f = try function(inputs: [x, shift], outputs: [x + shift], defaults: [shift: NDArray(scalar: Float(1))], name: "shifted")
        #expect(try f(named: ["x": NDArray([1] as [Float])])[0] == NDArray([2] as [Float]))
        #expect(try f(named: ["shift": NDArray(scalar: Float(5)), "x": NDArray([1] as [Float])])[0] == NDArray([6] as [Float]))
        #expect { try f(named: ["y": NDArray([1] as [Float])]) } throws: { "\($0)".contains("no input is named 'y'") }
        #expect { try f(named: ["shift": NDArray(scalar: Float(5))]) } throws: { "\($0)".contains("no value for input x") }
    }

    @Test func defaultsMustFitTheirInput() {
        let x = vector("x")
        #expect { try function(inputs: [x], outputs: [x], defaults: [x: NDArray([1] as [Double])]) } throws: {
            "\($0)".contains("default for x")
        }
    }
}
