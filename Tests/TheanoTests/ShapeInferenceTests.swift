@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoLoops
@testable import TheanoNative
@testable import TheanoOps
@testable import TheanoOptimizer
import Testing
import TheanoTestSupport

/// One input of a shape-inference case: the value it is run with, and the static shape of
/// the symbolic input (every dimension unknown unless a broadcastable 1 is wanted).
struct ShapeInput: Sendable {
    let value: NDArray
    let staticShape: [Int?]

    /// Float64 values of `shape` (mixed signs, some zeros), declared with every dimension
    /// unknown unless `staticShape` says otherwise.
    static func floats(_ shape: [Int], staticShape: [Int?]? = nil) -> Self {
        let values = (0..<shape.reduce(1, *)).map { Double(($0 * 5) % 11) - 5 }
        return Self(value: NDArray(values, shape: shape), staticShape: staticShape ?? shape.map { _ in nil })
    }

    /// Int64 values (positions, labels) of `shape` (default: a vector), dimensions unknown
    /// unless `staticShape` says otherwise.
    static func integers(_ values: [Int64], shape: [Int]? = nil, staticShape: [Int?]? = nil) -> Self {
        let array = NDArray(values, shape: shape)
        return Self(value: array, staticShape: staticShape ?? array.shape.map { _ in nil })
    }

    /// An `int64` scalar: a symbolic size, bound or index.
    static func size(_ value: Int64) -> Self { Self(value: NDArray(scalar: value), staticShape: []) }

    /// A `float64` scalar.
    static func real(_ value: Double) -> Self { Self(value: NDArray(scalar: value), staticShape: []) }
}

/// A graph whose output node's op infers its output shapes from symbolic input shapes.
struct ShapeCase: Sendable, CustomTestStringConvertible {
    let name: String
    let inputs: [ShapeInput]
    /// Builds the node under test: its op is the one whose `inferShape` is checked.
    let build: @Sendable ([Variable]) throws -> Variable

    var testDescription: String { name }

    init(_ name: String, _ inputs: [ShapeInput], _ build: @escaping @Sendable ([Variable]) throws -> Variable) {
        self.name = name
        self.inputs = inputs
        self.build = build
    }

    init(_ name: String, _ input: ShapeInput, _ build: @escaping @Sendable (Variable) throws -> Variable) {
        self.init(name, [input]) { try build($0[0]) }
    }

    init(_ name: String, _ lhs: ShapeInput, _ rhs: ShapeInput, _ build: @escaping @Sendable (Variable, Variable) throws -> Variable) {
        self.init(name, [lhs, rhs]) { try build($0[0], $0[1]) }
    }
}

extension ShapeInput {
    static let matrix = floats([3, 4])
    static let tensor3 = floats([2, 3, 4])
    /// A (1, 4) row declared broadcastable along its first dimension.
    static let broadcastRow = floats([1, 4], staticShape: [1, nil])

    /// Operand layouts for elementwise broadcasting.
    static let broadcastLayouts: [(name: String, lhs: ShapeInput, rhs: ShapeInput)] = [
        ("(m, n) with (m, n)", matrix, matrix),
        ("(1, n) broadcastable with (m, n)", broadcastRow, matrix),
        ("(m, n) with (m, 1) broadcastable", matrix, .floats([3, 1], staticShape: [nil, 1])),
        ("(m, 1) with (1, n), both broadcastable", .floats([3, 1], staticShape: [nil, 1]), broadcastRow),
        ("(m, n) with (n,)", matrix, .floats([4])),
        ("scalar with (m, n)", .real(2), matrix),
        ("(m, n) with (m, n) of static sizes", .floats([3, 4], staticShape: [3, 4]), matrix),
    ]
}

/// The shape-inference checks are the records' shape cases (OpRecords+*.swift).
@Suite struct ShapeInferenceTests {
    /// The node `testCase` builds from symbolic inputs of unknown shape.
    private func buildNode(_ testCase: ShapeCase) throws -> (inputs: [Variable], node: Apply) {
        let inputs = testCase.inputs.enumerated().map { index, input in
            tensor("input\(index)", dtype: input.value.dtype, shape: input.staticShape)
        }
        let node = try #require(try testCase.build(inputs).owner, "the case must build a node")
        return (inputs, node)
    }

    @Test(arguments: OpRecords.shapeCases)
    func inferredShapeMatchesComputedShape(_ testCase: ShapeCase) throws {
        let (inputs, node) = try buildNode(testCase)
        let op = try #require(node.op as? any ShapeInferringOp, "\(node.op) does not infer shapes")
        let inputShapes = try node.inputs.map { try $0.dimensionSizes() }
        let inferred = try op.inferShape(node, inputShapes: inputShapes)
        try #require(inferred.map(\.count) == node.outputs.map(\.ndim), "one size per output dimension")

        let sizes = inferred.flatMap { $0 }
        let results = try function(inputs: inputs, outputs: sizes + node.outputs)(testCase.inputs.map(\.value))
        var sizeValues = results.prefix(sizes.count).map { Int($0.scalar(as: Int64.self)) }[...]
        let inferredShapes = inferred.map { shape in
            defer { sizeValues = sizeValues.dropFirst(shape.count) }
            return Array(sizeValues.prefix(shape.count))
        }
        let computedShapes = results.dropFirst(sizes.count).map(\.shape)
        #expect(inferredShapes == computedShapes, "\(node.op)")
    }

    /// Each record's shape cases build a node of its op, so a case filed under the wrong op
    /// shows, and (with OpRecordTests) so does an op that infers shapes without a case.
    @Test func everyShapeCaseBuildsANodeOfItsOp() throws {
        for record in OpRecords.all {
            for testCase in record.shapes.cases {
                let op = try buildNode(testCase).node.op
                #expect(ObjectIdentifier(type(of: op)) == record.opType, "shape case \"\(testCase.name)\" builds \(op), not \(record.op)")
            }
        }
    }
}
