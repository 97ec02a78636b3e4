import Testing
@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoLoops
@testable import TheanoNative
@testable import TheanoOps
@testable import TheanoOptimizer

// NumPy's semantics where an outside conformance run found ours wrong. The values are NumPy
// fixtures (Fixtures/numpy_semantics.json, run by OpValueTests on both backends) and the
// gradients are in the gradient table; here are the errors — at construction for types,
// when the function runs for values, on both backends — and what the native backend makes
// of the new vocabulary.

/// Runs `build`, which must throw ``TheanoError/typeMismatch(op:inputs:reason:location:)``
/// for `op` — the graph is being built, nothing has run — with a message containing every
/// fragment.
private func expectTypeMismatch(_ op: String, mentioning fragments: [String], sourceLocation: Testing.SourceLocation = #_sourceLocation,
                                _ build: () throws -> Void) {
    do {
        try build()
        Issue.record("expected a type error from \(op)", sourceLocation: sourceLocation)
    } catch TheanoError.typeMismatch(let name, _, _, _) {
        #expect(name == op, sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a type error from \(op), got \(error)", sourceLocation: sourceLocation)
    }
    expectFailure(mentioning: fragments, sourceLocation: sourceLocation, build)
}

@Suite("NumPy semantics: type errors when the graph is built")
struct NumPySemanticsConstructionTests {
    @Test func negatingABooleanIsAnError() {
        let flags = matrix("flags", dtype: .bool)
        expectTypeMismatch("neg", mentioning: ["neg", "bool[?, ?]", "cannot negate a bool tensor", "not(x)", here(#line + 1)]) {
            _ = try -flags
        }
    }

    @Test(arguments: [DType.int8, .int16, .int32, .int64, .uint8, .bool])
    func roundingAnIntegerIsAnError(dtype: DType) {
        let x = vector("x", dtype: dtype)
        expectTypeMismatch("round", mentioning: ["round: rounds floats only, not \(dtype)", "inputs: \(dtype)[?]", here()]) { _ = try round(x) }
        expectTypeMismatch("round{half_away_from_zero}", mentioning: ["round{half_away_from_zero}", "rounds floats only", here(#line + 1)]) {
            _ = try round(x, mode: .halfAwayFromZero)
        }
    }

    /// Logical functions of floats are comparisons first; `and` & co. are bitwise.
    @Test(arguments: [DType.float32, .float64])
    func bitwiseFunctionsOfFloatsAreErrors(dtype: DType) {
        let x = matrix("x", dtype: dtype), n = matrix("n", dtype: .int32)
        let reason = "takes integer or boolean operands (bitwise on integers, logical on booleans), not"
        expectTypeMismatch("and", mentioning: ["and: \(reason)", "\(dtype)[?, ?], int32[?, ?]", here()]) { _ = try and(x, n) }
        expectTypeMismatch("or", mentioning: ["or: \(reason)", "int32[?, ?], \(dtype)[?, ?]", here()]) { _ = try or(n, x) }
        expectTypeMismatch("xor", mentioning: ["xor: \(reason) \(dtype)", here()]) { _ = try xor(x, x) }
        expectTypeMismatch("invert", mentioning: ["invert: \(reason) \(dtype)", "gt(x, 0)", here()]) { _ = try not(x) }
        expectTypeMismatch("and", mentioning: ["and: \(reason)", here(#line + 1)]) {
            _ = try n & x
        }
        expectTypeMismatch("or", mentioning: ["or: \(reason)", here(#line + 1)]) {
            _ = try x | n
        }
        expectTypeMismatch("xor", mentioning: ["xor: \(reason)", here(#line + 1)]) {
            _ = try x ^ x
        }
        expectTypeMismatch("invert", mentioning: ["invert: \(reason)", here(#line + 1)]) {
            _ = try ~x
        }
    }

    /// Theano's `upgrade_to_float`, which NumPy 2 does not do for floor and ceil.
    @Test func floorAndCeilOfIntegersAreFloats() throws {
        let expected: [(DType, DType)] = [(.bool, .float32), (.int8, .float32), (.int16, .float32), (.uint8, .float32),
                                          (.int32, .float64), (.int64, .float64), (.float32, .float32), (.float64, .float64)]
        for (given, result) in expected {
            let x = matrix(dtype: given, shape: (2, nil))
            #expect(try floor(x).type == TensorType(result, shape: [2, nil]), "floor of \(given)")
            #expect(try ceil(x).type == TensorType(result, shape: [2, nil]), "ceil of \(given)")
        }
    }

    @Test func bitwiseResultsHaveThePromotedDType() throws {
        let i8 = vector(dtype: .int8), u8 = vector(dtype: .uint8), i64 = vector(dtype: .int64), flag = vector(dtype: .bool)
        #expect(try (i8 & u8).dtype == .int16)
        #expect(try (u8 | i64).dtype == .int64)
        #expect(try (flag ^ i8).dtype == .int8)
        #expect(try and(flag, flag).dtype == .bool)
        #expect(try (~u8).dtype == .uint8)
        #expect(try not(flag).dtype == .bool)
    }

    @Test func dotOfTensorsChecksTheContractedSizes() {
        let a = tensor3("a", shape: (2, 3, 4)), b = tensor3("b", shape: (5, 3, 6))
        expectTypeMismatch("dot", mentioning: ["dot: inner dimensions 4 and 3 differ (the last axis of a, axis 1 of b)",
                                   "float32[2, 3, 4], float32[5, 3, 6]", here()]) { _ = try dot(a, b) }
        let v = vector("v", length: 3)
        expectTypeMismatch("dot", mentioning: ["dot: inner dimensions 3 and 4", here()]) { _ = try dot(v, tensor4(shape: (1, 2, 4, 3))) }
    }

    @Test func batchedDotChecksRanksBatchesAndInnerSizes() {
        let stack = tensor3("stack", shape: (2, 3, 4))
        expectTypeMismatch("batchedDot", mentioning: ["batchedDot", "need a batch dimension and at least one more", "float32[?]", here(#line + 1)]) {
            _ = try batchedDot(vector(), stack)
        }
        expectTypeMismatch("batchedDot", mentioning: ["batchedDot: batch sizes 2 and 3 differ", here(#line + 1)]) {
            _ = try batchedDot(stack, tensor3(shape: (3, 4, 5)))
        }
        expectTypeMismatch("batchedDot", mentioning: ["batchedDot: inner dimensions 4 and 5 differ", here(#line + 1)]) {
            _ = try batchedDot(stack, tensor3(shape: (2, 5, 6)))
        }
        expectTypeMismatch("batchedDot", mentioning: ["batchedDot: inner dimensions 4 and 3 differ (the last axis of a, axis 1 of b)", here(#line + 1)]) {
            _ = try batchedDot(matrix(shape: (2, 4)), matrix(shape: (2, 3)))
        }
        expectTypeMismatch("batchedDot", mentioning: ["batchedDot: inner dimensions 4 and 2", "axis 2 of b", here(#line + 1)]) {
            _ = try batchedDot(stack, tensor4(shape: (2, 5, 2, 4)))
        }
    }

    @Test func repeatCountsMustBeIntegersFittingTheAxis() {
        let x = matrix("x", shape: (3, 4))
        expectTypeMismatch("repeat", mentioning: ["repeat", "counts must be integers", "float32[?]", here(#line + 1)]) {
            _ = try `repeat`(x, counts: vector("c"), axis: 0)
        }
        expectTypeMismatch("repeat", mentioning: ["repeat", "counts must be integers", here(#line + 1)]) {
            _ = try `repeat`(x, counts: matrix("c", dtype: .int64), axis: 0)
        }
        expectTypeMismatch("repeat", mentioning: ["repeat: 3 counts for axis 1 of 4 elements", "float32[3, 4], int64[3]", here(#line + 1)]) {
            _ = try `repeat`(x, counts: vector("c", dtype: .int64, length: 3), axis: 1)
        }
        expectFailure(mentioning: ["repeat", "axes [2]", here(#line + 1)]) {
            _ = try `repeat`(x, counts: vector("c", dtype: .int64), axis: 2)
        }
    }

    @Test func oneHotNeedsIntegerLabelsAndNoNegativeNumberOfClasses() {
        expectTypeMismatch("oneHot", mentioning: ["oneHot: labels must be integers", "float32[?]", here()]) { _ = try oneHot(vector(), classes: 3) }
        expectFailure(mentioning: ["oneHot: the number of classes must not be negative, not -1", here(#line + 1)]) {
            _ = try oneHot(vector(dtype: .int64), classes: -1)
        }
    }
}

@Suite("NumPy semantics: errors when a function runs")
struct NumPySemanticsRuntimeTests {
    @Test(arguments: Backend.allCases)
    func oneHotOfALabelOutsideTheClassesIsAnError(backend: Backend) throws {
        let labels = vector("labels", dtype: .int8)
        let f = try function(inputs: [labels], outputs: [oneHot(labels, classes: 4)], options: backend.options); let line = #line
        let built = "NumPySemanticsTests.swift:\(line)"
        expectFailure(mentioning: ["check_labels{4}: label 4 (element 2 of the labels", "oneHot's 4 classes", "0..<4", built]) {
            _ = try f(NDArray([0, 3, 4] as [Int8]))
        }
        expectFailure(mentioning: ["label -1 (element 0", built]) { _ = try f(NDArray([-1, 1] as [Int8])) }
        expectFailure(mentioning: ["label 127", built]) { _ = try f(NDArray([127] as [Int8])) }
        let rows = try f(NDArray([3, 0] as [Int8]))[0]
        #expect(rows == NDArray([[0, 0, 0, 1], [1, 0, 0, 0]] as [[Float]]))
        #expect(try f(NDArray([] as [Int8]))[0].shape == [0, 4])
    }

    /// A constant label is checked too (constant folding must not hide the error).
    @Test(arguments: Backend.allCases)
    func oneHotOfAConstantBadLabelIsAnError(backend: Backend) throws {
        let x = vector("x")
        let f = try function(inputs: [x], outputs: [x + sum(oneHot(constant(NDArray([[0, 9]] as [[Int64]])), classes: 3))],
                             options: backend.options)
        expectFailure(mentioning: ["label 9", "3 classes"]) { _ = try f(NDArray([1] as [Float])) }
    }

    @Test(arguments: Backend.allCases)
    func repeatWithCountsThatDoNotFitIsAnError(backend: Backend) throws {
        let x = matrix("x", dtype: .float64), counts = vector("counts", dtype: .int32)
        let f = try function(inputs: [x, counts], outputs: [`repeat`(x, counts: counts, axis: 1)], options: backend.options)
        let line = #line - 1
        let values = NDArray([[1, 2, 3], [4, 5, 6]] as [[Double]])
        expectFailure(mentioning: ["repeat: 2 counts for an axis of 3 elements", "NumPySemanticsTests.swift:\(line)"]) {
            _ = try f(values, NDArray([1, 2] as [Int32]))
        }
        expectFailure(mentioning: ["repeat: count -1 (element 1 of the counts) is negative", "NumPySemanticsTests.swift:\(line)"]) {
            _ = try f(values, NDArray([1, -1, 2] as [Int32]))
        }
        expectFailure(mentioning: ["repeat: the counts add up to more than"]) {
            let huge = constant(NDArray([Int64.max, 1, 0] as [Int64]))
            _ = try function(inputs: [x], outputs: [`repeat`(x, counts: huge, axis: 1)], options: backend.options)(values)
        }
        let repeated = try f(values, NDArray([2, 0, 1] as [Int32]))[0]
        #expect(repeated == NDArray([[1, 1, 3], [4, 4, 6]] as [[Double]]))
    }

    @Test(arguments: Backend.allCases)
    func productsOfTensorsWhoseSizesDisagreeAreErrors(backend: Backend) throws {
        let a = tensor3("a", dtype: .float64), b = tensor3("b", dtype: .float64)
        let product = try function(inputs: [a, b], outputs: [dot(a, b)], options: backend.options)
        let batched = try function(inputs: [a, b], outputs: [batchedDot(a, b)], options: backend.options)
        let stack = NDArray(zeros: [2, 3, 4], dtype: .float64)
        expectFailure(mentioning: ["dot", "the first operand has 4 columns", "the second 3 rows"]) { _ = try product(stack, stack) }
        expectFailure(mentioning: ["batched_dot", "(2, 3, 4) and (5, 4, 3)"]) { _ = try batched(stack, NDArray(zeros: [5, 4, 3], dtype: .float64)) }
        expectFailure(mentioning: ["batched_dot", "(2, 3, 4) and (2, 3, 4)"]) { _ = try batched(stack, stack) }
    }
}

@Suite("NumPy semantics: the native backend")
struct NumPySemanticsNativeTests {
    /// The leaky ReLU is elementwise ops only: one fused loop, and the gradient another.
    @Test func leakyReluIsOneFusedKernel() throws {
        let x = vector("x", dtype: .float64), slopes = vector("slopes", dtype: .float64, length: 1)
        let f = try function(inputs: [x, slopes], outputs: [relu(x, alpha: 0.1) + relu(x, alpha: slopes)],
                             options: CompileOptions(linker: Scratch.linker()))
        #expect(f.graph.nodes.count == 1 && f.compiledNodes == 1 && f.linkWarnings.isEmpty)
        let values = try f(NDArray([-2, -0.0, 3, -Double.infinity] as [Double]), NDArray([0.5] as [Double]))[0]
        #expect(values == NDArray([-1.2, -0.0, 6, -Double.infinity] as [Double]))
    }

    /// Tensors of any rank meet in one matrix product, which the native backend hands to BLAS.
    @Test func productsOfTensorsAreOneMatrixProductEach() throws {
        let a = tensor3("a", dtype: .float64), b = tensor4("b", dtype: .float64)
        let f = try function(inputs: [a, b], outputs: [dot(a, b), batchedDot(a, b)], options: CompileOptions(linker: Scratch.linker()))
        let products = f.graph.nodes.filter { $0.op is Dot }
        #expect(products.count == 1 && products.allSatisfy { $0.inputs.allSatisfy { $0.ndim == 2 } })
        #expect(f.graph.nodes.filter { $0.op is BatchedDot }.count == 1)
        #expect(f.linkWarnings.isEmpty)
    }

    /// C widens narrow integers to `int` before `~` and unary `-`: inside a fused reduction the
    /// kernel must still see the narrow type's bits.
    @Test func invertedNarrowIntegersFeedFusedReductionsExactly() throws {
        let u8 = matrix("u8", dtype: .uint8), i8 = matrix("i8", dtype: .int8)
        let outputs = [try sum(~u8, axis: 1), try sum(~i8, axis: 1), try max(~u8, axis: 1), try sum(-u8, axis: 1), try sum(-i8, axis: 1)]
        let native = try function(inputs: [u8, i8], outputs: outputs, options: CompileOptions(linker: Scratch.linker()))
        let reference = try function(inputs: [u8, i8], outputs: outputs)
        let arguments = [NDArray([[0, 1, 200], [255, 128, 7]] as [[UInt8]]), NDArray([[-128, -1, 0], [127, 5, -7]] as [[Int8]])]
        #expect(try native(arguments) == reference(arguments))
        #expect(try reference(arguments)[0] == NDArray([255 + 254 + 55, 0 + 127 + 248] as [Int64]))
    }
}
