import Testing
@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoLoops
@testable import TheanoNative
@testable import TheanoOps
@testable import TheanoOptimizer

// Inputs a program gets from outside — sizes, arrays, masks — that cannot work: each must
// be a `TheanoError` that says what is wrong and where, on both backends, never a crash
// and never a silently wrong result.

@Suite("Bad inputs")
struct BadInputTests {
    /// `body`, which must throw a `TheanoError` mentioning every fragment.
    private func expectTheanoError(mentioning fragments: [String], sourceLocation: Testing.SourceLocation = #_sourceLocation,
                                   _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected an error mentioning \(fragments)", sourceLocation: sourceLocation)
        } catch let error as TheanoError {
            let message = "\(error)"
            for fragment in fragments where !message.contains(fragment) {
                Issue.record("\"\(message)\" does not mention \"\(fragment)\"", sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("expected a TheanoError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
        }
    }

    // MARK: Sizes

    @Test(arguments: Backend.allCases)
    func arraysTooLargeToMakeAreErrors(backend: Backend) throws {
        let x = vector("x")
        // 2^20 × 2^20 float32: 4 TiB.
        let huge = try function(inputs: [x], outputs: [try zeros([1 << 20, 1 << 20]) + 1], options: backend.options)
        expectTheanoError(mentioning: ["cannot allocate 4.0 TiB", "(1048576, 1048576)", here(#line - 1)]) { _ = try huge(NDArray([1] as [Float])) }
        // A byte count beyond Int.
        let overflowing = try function(inputs: [x], outputs: [try ones([Int.max / 2, 4], dtype: .float64)], options: backend.options)
        expectTheanoError(mentioning: ["does not fit in an Int"]) { _ = try overflowing(NDArray([1] as [Float])) }
        // Sizes known only when the function runs.
        let n = scalar("n", dtype: .int64)
        let filled = try function(inputs: [x, n], outputs: [try alloc(x, sizes: [n, try shape(x)[0]])], options: backend.options)
        expectTheanoError(mentioning: ["cannot allocate", "alloc"]) { _ = try filled(NDArray([1, 2] as [Float]), NDArray(scalar: Int64(1) << 42)) }
        expectTheanoError(mentioning: ["negative"]) { _ = try filled(NDArray([1, 2] as [Float]), NDArray(scalar: Int64(-3))) }
        let counted = try function(inputs: [n], outputs: [try arange(n)], options: backend.options)
        expectTheanoError(mentioning: ["cannot allocate 8.0 TiB", "arange"]) { _ = try counted(NDArray(scalar: Int64(1) << 40)) }
        expectTheanoError(mentioning: ["does not fit in an Int", "arange"]) { _ = try counted(NDArray(scalar: Int64(1) << 60)) }
        // Elementwise broadcasting to a result too large to make.
        let outer = try function(inputs: [x], outputs: [try x.dimshuffle(0, .newAxis) * x.dimshuffle(.newAxis, 0)], options: backend.options)
        expectTheanoError(mentioning: ["cannot allocate"]) { _ = try outer(NDArray(zeros: [1 << 22], dtype: .float32)) }
        // And the same functions work with sizes that fit.
        #expect(try filled(NDArray([1, 2] as [Float]), NDArray(scalar: Int64(3)))[0].shape == [3, 2])
    }

    /// A size-1 slice of unknown static size does not stretch, whether it meets the other
    /// operand directly or through fused elementwise work (where the reference interpreter
    /// once let it stretch and the native kernel did not).
    @Test(arguments: Backend.allCases)
    func fusedIntermediatesStretchNoMoreThanTheirOperands(backend: Backend) throws {
        let x = vector("x", dtype: .float64), y = vector("y", dtype: .float64)
        for build in [{ try x * y[..<1] }, { try x * sign(y[..<1]) }, { try exp(x) + sqr(y[..<1]) * 2 }] as [() throws -> Variable] {
            let f = try function(inputs: [x, y], outputs: [build()], options: backend.options)
            expectTheanoError(mentioning: ["only dimensions of static size 1 broadcast"]) { _ = try f(NDArray([1.0, 2, 3]), NDArray([-2.0, 5])) }
            #expect(try f(NDArray([3.0]), NDArray([-2.0, 5]))[0].shape == [1])
        }
        // A size declared 1 stretches.
        let declared = try function(inputs: [x, y], outputs: [x * sign(y[0].dimshuffle(.newAxis))], options: backend.options)
        #expect(try declared(NDArray([1.0, 2, 3]), NDArray([-2.0, 5]))[0] == NDArray([-1.0, -2, -3]))
    }

    @Test func identityMatricesOfImpossibleSizesAreErrors() {
        expectTheanoError(mentioning: ["eye", "negative", here()]) { _ = try eye(-2) }
        expectTheanoError(mentioning: ["eye", "cannot allocate"]) { _ = try eye(1 << 21) }
        expectTheanoError(mentioning: ["eye", "does not fit in an Int"]) { _ = try eye(Int.max / 2, 4) }
    }

    @Test func arangesOfHugeLengthsAreErrorsWhenTheyRun() throws {
        let f = try function(inputs: [], outputs: [try arange(0, Int.max, step: 1)])
        expectTheanoError(mentioning: ["arange", "more than an array can hold"]) { _ = try f([]) }
        let g = try function(inputs: [], outputs: [try arange(Int.min, Int.max, step: 3)])
        expectTheanoError(mentioning: ["arange"]) { _ = try g([]) }
    }

    // MARK: Arrays from data

    @Test func arraysFromDataThatDoNotFitTheirShapeThrow() throws {
        expectTheanoError(mentioning: ["5 values do not fill shape (2, 3)"]) { _ = try NDArray(validating: [1, 2, 3, 4, 5] as [Float], shape: [2, 3]) }
        expectTheanoError(mentioning: ["do not fill shape (-1, 2)"]) { _ = try NDArray(validating: [1, 2] as [Float], shape: [-1, 2]) }
        expectTheanoError(mentioning: ["row 1 has 1 values where row 0 has 2"]) { _ = try NDArray(validating: [[1, 2], [3]] as [[Float]]) }
        expectTheanoError(mentioning: ["plane 1 has shape (1, 2) where plane 0 has (2, 2)"]) {
            _ = try NDArray(validating: [[[1, 2], [3, 4]], [[5, 6]]] as [[[Double]]])
        }
        #expect(try NDArray(validating: [1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3]) == NDArray([[1, 2, 3], [4, 5, 6]] as [[Float]]))
        #expect(try NDArray(validating: [] as [Float], shape: [0, 4]).shape == [0, 4])
        expectTheanoError(mentioning: ["cannot stack arrays of shapes (2,), (3,)"]) {
            _ = try NDArray(stacking: [NDArray([1, 2] as [Float]), NDArray([1, 2, 3] as [Float])])
        }
    }

    /// Sums and products of small integers accumulate in int64 (and wrap as NumPy's do).
    @Test(arguments: Backend.allCases)
    func sumsOfSmallIntegersAreExact(backend: Backend) throws {
        let bytes = tensor("bytes", dtype: .uint8, shape: [nil, nil]), flags = vector("flags", dtype: .bool)
        let f = try function(inputs: [bytes, flags], outputs: [try sum(bytes), try sum(bytes, axis: 0), try prod(bytes, axis: 1), try sum(flags)],
                             options: backend.options)
        let values = NDArray((0..<600).map { UInt8($0 % 256) }, shape: [200, 3])
        let results = try f(values, NDArray([true, false, true, true]))
        let total = (0..<600).reduce(Int64(0)) { $0 + Int64($1 % 256) }
        #expect(results[0].dtype == .int64 && results[0].scalar(as: Int64.self) == total)
        let columnSums: [Int64] = (0..<3).map { column in (0..<200).reduce(Int64(0)) { total, row in total + Int64((row * 3 + column) % 256) } }
        #expect(results[1].elements(as: Int64.self) == columnSums)
        let firstRow = [Int64](arrayLiteral: 0, 1, 2).reduce(1, *), secondRow = Int64(3 * 4 * 5)
        #expect(Array(results[2].elements(as: Int64.self).prefix(2)) == [firstRow, secondRow])
        #expect(results[3].scalar(as: Int64.self) == 3)
    }

    // MARK: Substitutions and masks

    @Test func givensOfTheWrongSizeAreErrorsWhenCompiling() throws {
        let x = vector("x", length: 3)
        let four = try shared(NDArray([1, 2, 3, 4] as [Float]), name: "four")
        expectTheanoError(mentioning: ["given", "now of shape (4,)", "cannot replace", "float32[3]", here(#line + 1)]) {
            _ = try function(inputs: [], outputs: [try x * 2], givens: [x: four])
        }
        expectTheanoError(mentioning: ["cannot replace"]) {
            _ = try function(inputs: [], outputs: [try x * 2], givens: [x: constant(NDArray([1, 2] as [Float]))])
        }
        // A replacement whose size is known only when the function runs is checked then.
        let y = vector("y")
        let f = try function(inputs: [y], outputs: [try x * 2], givens: [x: y], options: CompileOptions(linker: Scratch.linker()))
        expectTheanoError(mentioning: ["(4,)", "(3,)"]) { _ = try f(NDArray([1, 2, 3, 4] as [Float])) }
        #expect(try f(NDArray([1, 2, 3] as [Float]))[0] == NDArray([2, 4, 6] as [Float]))
    }

    @Test(arguments: Backend.allCases)
    func booleanMasksMustHaveTheShapeTheySelectFrom(backend: Backend) throws {
        let x = matrix("x"), mask = vector("mask", dtype: .bool)
        let f = try function(inputs: [x, mask], outputs: [x[mask]], options: backend.options)
        let values = NDArray([[1, 2], [3, 4], [5, 6]] as [[Float]])
        expectTheanoError(mentioning: ["(2,)", "(3,)", here(#line - 2)]) { _ = try f(values, NDArray([true, false])) }
        expectTheanoError(mentioning: ["(4,)", "(3,)"]) { _ = try f(values, NDArray([true, false, true, true])) }
        #expect(try f(values, NDArray([true, false, true]))[0] == NDArray([[1, 2], [5, 6]] as [[Float]]))
        let square = matrix("square", dtype: .bool)
        let g = try function(inputs: [x, square], outputs: [x[square]], options: backend.options)
        expectTheanoError(mentioning: ["(3, 3)", "(3, 2)"]) { _ = try g(values, NDArray(zeros: [3, 3], dtype: .bool)) }
        expectTheanoError(mentioning: ["boolean mask", "does not match dimension 0", here(#line + 1)]) {
            _ = try matrix("fixed", shape: (3, 2))[vector("short", dtype: .bool, length: 2)]
        }
    }

    // MARK: Errors name the user's op

    /// A shape mismatch inside a fused loop names the op the user wrote and its line, not
    /// the composite it was fused into; mismatched operands of products and joins are named.
    @Test(arguments: Backend.allCases)
    func errorsInsideFusedLoopsNameTheUsersOp(backend: Backend) throws {
        let x = vector("x"), y = vector("y")
        let sum = try exp(x) * 2 + y
        let f = try function(inputs: [x, y], outputs: [try tanh(sum)], options: backend.options)
        #expect(f.graph.nodes.count == 1, "one fused loop")
        expectTheanoError(mentioning: ["add (fused into composite", "(3,)", "(4,)", here(#line - 3)]) {
            _ = try f(NDArray([1, 2, 3] as [Float]), NDArray([1, 2, 3, 4] as [Float]))
        }
        let a = matrix("a"), b = matrix("b")
        let joined = try function(inputs: [a, b], outputs: [try concatenate([a, b], axis: 0)], options: backend.options)
        expectTheanoError(mentioning: ["operand 1 has shape (1, 3)", "operand 0's (2, 2)"]) {
            _ = try joined(NDArray(zeros: [2, 2], dtype: .float32), NDArray(zeros: [1, 3], dtype: .float32))
        }
        let product = try function(inputs: [a, b], outputs: [try dot(a, b)], options: backend.options)
        expectTheanoError(mentioning: ["the first operand has 2 columns (shape (2, 2))", "the second 3 rows (shape (3, 1))"]) {
            _ = try product(NDArray(zeros: [2, 2], dtype: .float32), NDArray(zeros: [3, 1], dtype: .float32))
        }
    }
}
