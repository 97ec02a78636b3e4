import Foundation
import Testing
@testable import Theano
@testable import TheanoCore
@testable import TheanoNative

// The C the native backend writes for a few representative graphs, compared with committed
// files (`Fixtures/GeneratedC/*.c`): a change to code generation shows up as a diff to review like
// code. `Scripts/regenerate-generated-c` writes the files again from the current generator.
// The graphs are optimized as for any backend; nothing is compiled here.

@Suite("Generated C")
struct GeneratedCTests {
    /// A graph and the name of the file holding its kernels.
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let build: @Sendable () throws -> Function
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "fused-elementwise") {
            let x = vector("x"), y = vector("y")
            return try function(inputs: [x, y], outputs: [tanh(x * y + 1) - exp(-x)])
        },
        Case(name: "fused-reduction") {
            let x = matrix("x"), y = matrix("y")
            return try function(inputs: [x, y], outputs: [sum(sqr(x - y), axis: 1)])
        },
        Case(name: "softmax-along-axis-0") {
            let x = matrix("x", dtype: .float64)
            return try function(inputs: [x], outputs: [softmax(x, axis: 0), logSoftmax(x, axis: 1)])
        },
        Case(name: "random-draws") {
            let streams = RandomStreams(seed: 1)
            return try function(inputs: [], outputs: [streams.uniform(shape: [1000]), streams.normal(shape: [1000], dtype: .float64)])
        },
        Case(name: "update-in-place") {
            let w = try shared(NDArray([1, 2, 3, 4], shape: [4]), name: "w"), g = vector("g")
            return try function(inputs: [g], outputs: [], updates: [w: w - 0.1 * sqr(g)])
        },
    ]

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/GeneratedC")

    @Test(arguments: cases)
    func kernelsMatchTheCommittedFile(_ testCase: Case) throws {
        let f = try testCase.build()
        let lowered = LoweredGraph(f.graph, updates: f.updatedVariables, overwritableInputs: [])
        let generated = lowered.kernelSources.joined(separator: "\n\n") + "\n"
        let file = Self.directory.appendingPathComponent(testCase.name + ".c")
        if ProcessInfo.processInfo.environment["THEANO_REGENERATE_GENERATED_C"] == "1" {
            try generated.write(to: file, atomically: true, encoding: .utf8)
            return
        }
        let committed = try String(contentsOf: file, encoding: .utf8)
        #expect(generated == committed, "the C for \(testCase.name) changed: run Scripts/regenerate-generated-c and review the diff")
    }
}
