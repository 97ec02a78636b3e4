import Foundation
import Testing
import Theano

/// Runs `body`, which must throw; the message must contain every fragment.
func expectFailure(mentioning fragments: [String], sourceLocation: Testing.SourceLocation = #_sourceLocation,
                           _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected an error mentioning \(fragments)", sourceLocation: sourceLocation)
    } catch {
        let message = "\(error)"
        for fragment in fragments where !message.contains(fragment) {
            Issue.record("message \"\(message)\" does not mention \"\(fragment)\"", sourceLocation: sourceLocation)
        }
    }
}

/// `TheanoTests/File.swift:N` for a line of the calling file.
func here(_ line: Int = #line, fileID: String = #fileID) -> String { "\(fileID):\(line)" }

@Suite("Errors at graph construction")
struct ConstructionErrors {
    @Test func incompatibleBroadcastNamesOpTypesAndLine() {
        let a = matrix("a", shape: (2, 3)), b = tensor3("b", shape: (4, 5, 6))
        expectFailure(mentioning: ["add", "float32[2, 3]", "float32[4, 5, 6]", "do not broadcast", here(#line + 1)]) {
            _ = try a + b
        }
    }

    @Test func dotWithWrongInnerDimensions() {
        let a = matrix("a", shape: (2, 3)), b = matrix("b", shape: (4, 5))
        expectFailure(mentioning: ["dot", "inner dimensions 3 and 4", here()]) { _ = try dot(a, b) }
    }

    @Test func reshapeToTheWrongSize() {
        let a = matrix("a", shape: (2, 3))
        expectFailure(mentioning: ["reshape", "cannot reshape 6 elements", here()]) { _ = try reshape(a, [4, 2]) }
    }

    @Test func reductionAxisOutOfRange() {
        let a = matrix("a")
        expectFailure(mentioning: ["sum", "axes [2]", "2-d", here()]) { _ = try sum(a, axis: 2) }
    }

    @Test func dimshuffleDroppingARealDimension() {
        let a = matrix("a", shape: (3, 4))
        expectFailure(mentioning: ["dimshuffle", "drops dimensions [1]", here()]) { _ = try a.dimshuffle(0) }
    }

    @Test func staticIndexOutOfBounds() {
        let a = vector("a", length: 3)
        expectFailure(mentioning: ["index 5 is out of bounds", "size 3", here()]) { _ = try a[5] }
    }

    @Test func tooManyIndices() {
        let a = vector("a")
        expectFailure(mentioning: ["too many indices", here()]) { _ = try a[0, 1] }
    }

    @Test func zeroSliceStep() {
        let a = vector("a")
        expectFailure(mentioning: ["step cannot be zero"]) { _ = try a[.stride(by: 0)] }
    }

    @Test func nonScalarCost() {
        let a = vector("a")
        expectFailure(mentioning: ["grad", "must be a scalar", "float32[?]", here()]) { _ = try grad(a * 2, wrt: [a]) }
    }

    @Test func disconnectedInput() {
        let a = vector("a"), b = vector("b")
        expectFailure(mentioning: ["does not depend on b", here()]) { _ = try grad(sum(a), wrt: [b]) }
    }

    @Test func missingInput() {
        let a = vector("a"), b = vector("b")
        expectFailure(mentioning: ["depend on b", "not an input", here()]) { _ = try function(inputs: [a], outputs: [a + b]) }
    }

    @Test func computedVariableAsInput() throws {
        let a = vector("a")
        let doubled = try a * 2
        expectFailure(mentioning: ["not a free variable"]) { _ = try function(inputs: [doubled], outputs: [doubled]) }
    }

    @Test func updateOfTheWrongType() throws {
        let w = try shared(NDArray([1, 2, 3] as [Float]), name: "w")
        let x = vector("x", dtype: .float64)
        expectFailure(mentioning: ["update of w", "float64"]) { _ = try function(inputs: [x], outputs: [], updates: [w: x]) }
    }

    @Test func setSubtensorNeedsASubscript() {
        let a = vector("a"), b = vector("b")
        expectFailure(mentioning: ["setSubtensor", "direct result of a subscript"]) { _ = try setSubtensor(a, b) }
    }

    @Test func splitSizesMustAddUp() {
        let a = vector("a", length: 5)
        expectFailure(mentioning: ["split", "do not add up to 5"]) { _ = try split(a, sizes: [2, 2]) }
    }

    @Test func concatenateMismatchedShapes() {
        let a = matrix("a", shape: (2, 3)), b = matrix("b", shape: (2, 4))
        expectFailure(mentioning: ["join", "differ in dimension 1", here()]) { _ = try concatenate([a, b], axis: 0) }
    }

    @Test func sharedValueOfTheWrongShape() throws {
        let w = try shared(NDArray([1, 2, 3] as [Float]), name: "w")
        expectFailure(mentioning: ["setValue", "float32[3]", "(2,)"]) { try w.setValue(NDArray([1, 2] as [Float])) }
    }
}

@Suite("Errors when a compiled function runs")
struct RuntimeErrors {
    @Test func wrongRank() throws {
        let x = matrix("x")
        let f = try function(inputs: [x], outputs: [x * 2])
        expectFailure(mentioning: ["input 'x'", "float32[?, ?]", "shape (3,)"]) { _ = try f(NDArray([1, 2, 3] as [Float])) }
    }

    @Test func wrongDType() throws {
        let x = vector("x")
        let f = try function(inputs: [x], outputs: [x * 2])
        expectFailure(mentioning: ["input 'x'", "expects float32[?]", "given float64"]) { _ = try f(NDArray([1, 2] as [Double])) }
    }

    @Test func shapeContradictingTheStaticType() throws {
        let x = matrix("x", shape: (nil, 3))
        let f = try function(inputs: [x], outputs: [x * 2])
        expectFailure(mentioning: ["float32[?, 3]", "shape (2, 2)"]) { _ = try f(NDArray(zeros: [2, 2], dtype: .float32)) }
    }

    @Test func indexOutOfBounds() throws {
        let p = matrix("p"), labels = vector("labels", dtype: .int64)
        let picked = try p[arange(p.shape[0]), labels]
        let f = try function(inputs: [p, labels], outputs: [picked])
        expectFailure(mentioning: ["advanced_subtensor", "index 7 is out of bounds for axis 1 with size 3", "(2, 3)", "ErrorTests.swift:\(#line - 2)"]) {
            _ = try f(NDArray(zeros: [2, 3], dtype: .float32), NDArray([0, 7] as [Int64]))
        }
    }

    @Test func reshapeSizeMismatch() throws {
        let x = vector("x")
        let f = try function(inputs: [x], outputs: [reshape(x, [4, 2])])
        expectFailure(mentioning: ["reshape", "cannot reshape array of shape (6,)", "to (4, 2)", here(#line - 1)]) {
            _ = try f(NDArray([Float](repeating: 1, count: 6)))
        }
    }

    @Test func elementwiseShapesDisagree() throws {
        let a = vector("a"), b = vector("b")
        let f = try function(inputs: [a, b], outputs: [a + b])
        expectFailure(mentioning: ["add", "(2,) and (3,)", here(#line - 1)]) {
            _ = try f(NDArray([1, 2] as [Float]), NDArray([1, 2, 3] as [Float]))
        }
    }

    @Test func wrongArgumentCount() throws {
        let a = vector("a")
        let f = try function(inputs: [a], outputs: [a + 1], name: "plusOne")
        expectFailure(mentioning: ["plusOne", "expects 1 argument but was given 2"]) {
            _ = try f(NDArray([1] as [Float]), NDArray([1] as [Float]))
        }
    }

    @Test func failedCallLeavesSharedStateUnchanged() throws {
        let w = try shared(NDArray([1, 2, 3] as [Float]), name: "w")
        let x = vector("x")
        let f = try function(inputs: [x], outputs: [sum(w * x)], updates: [w: w + 1])
        #expect(throws: TheanoError.self) { _ = try f(NDArray([1, 2] as [Float])) }
        #expect(w.value == NDArray([1, 2, 3] as [Float]))
        _ = try f(NDArray([1, 1, 1] as [Float]))
        #expect(w.value == NDArray([2, 3, 4] as [Float]))
    }

    @Test func unreadableDataFiles() throws {
        expectFailure(mentioning: ["/nonexistent/images", "no such file"]) { _ = try IDXFile.read("/nonexistent/images") }
        expectFailure(mentioning: ["gunzip"]) { _ = try IDXFile.read("/nonexistent/train-images.gz") }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID()).idx").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data([1, 2, 3, 4, 5])))
        defer { try? FileManager.default.removeItem(atPath: path) }
        expectFailure(mentioning: ["bad magic number"]) { _ = try IDXFile.read(path) }
    }
}
