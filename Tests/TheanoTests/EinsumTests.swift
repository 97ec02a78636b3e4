import Testing
@testable import Theano
@testable import TheanoCore
@testable import TheanoOps
import TheanoTestSupport

// einsum is lowered to the library's ops: its values against NumPy are the cases of
// Fixtures/einsum.json (run by OpValueTests on the reference backend, and here on the native
// one); here are its gradients, the graphs it lowers to, the order of its products and its
// errors.

@Suite("einsum")
struct EinsumTests {
    // MARK: Values on the native backend

    /// The NumPy cases compiled by the native backend, with sizes known only at run time
    /// (products left to right) and with every size known (products in the planned order).
    @Test(arguments: try Fixtures.cases(in: "einsum").map { VariantCase(fixture: $0, inputs: .contiguous) }
          + VariantCase.cases(of: ["einsum"], passedAs: [.staticShapes]))
    func nativeBackendAgreesWithNumPy(_ variant: VariantCase) throws {
        try expectNumPyResult(variant.fixture, inputs: variant.inputs, options: Backend.native.options)
    }

    // MARK: Gradients

    static let gradientForms: [(subscripts: String, shapes: [[Int]])] = [
        ("ij,jk->ik", [[3, 4], [4, 2]]),
        ("bij,bjk->bik", [[2, 3, 4], [2, 4, 2]]),
        ("ii", [[3, 3]]),
        ("ii->i", [[3, 3]]),
        ("i,j->ij", [[3], [4]]),
        ("ij,jk,kl->il", [[2, 3], [3, 4], [4, 2]]),
        ("...ij,...jk->...ik", [[2, 3, 4], [4, 2]]),
        ("ijk->j", [[2, 3, 4]]),
        ("ii,ij->j", [[3, 3], [3, 2]]),
        ("bi,bi->b", [[4, 3], [4, 3]]),
    ]

    /// The gradient through the lowering agrees with finite differences (float64), with sizes
    /// unknown and known when the graph is built.
    @Test(arguments: gradientForms, [false, true])
    func gradientMatchesFiniteDifferences(_ form: (subscripts: String, shapes: [[Int]]), staticShapes: Bool) throws {
        var random = RandomState(seed: 7)
        let point = form.shapes.map { GradientInput.uniform($0).sample(using: &random) }
        try verifyGrad({ inputs in
            let operands = staticShapes ? try zip(inputs, form.shapes).map { try reshape($0, $1) } : inputs
            return try einsum(form.subscripts, operands)
        }, at: point)
    }

    // MARK: The graphs it lowers to

    /// A matrix product is one `Dot` of the operands themselves: no transposes, no
    /// elementwise product and sum.
    @Test func matrixProductIsOneDot() throws {
        let a = matrix("a", dtype: .float64), b = matrix("b", dtype: .float64)
        let c = try einsum("ij,jk->ik", a, b)
        let nodes = topologicalOrder(of: [c])
        #expect(nodes.count == 1)
        #expect(nodes.first?.op is Dot && nodes.first?.inputs == [a, b])
        let transposed = topologicalOrder(of: [try einsum("ij,kj->ik", a, b)])
        #expect(transposed.filter { $0.op is Dot }.count == 1 && !transposed.contains { $0.op is Reduce })
    }

    /// A batch of matrix products is one `BatchedDot`; dot products of rows are one
    /// elementwise product and one sum.
    @Test func batchesAreOneBatchedDotAndRowDotsOneSum() throws {
        let x = tensor3("x", dtype: .float64), y = tensor3("y", dtype: .float64)
        let batched = topologicalOrder(of: [try einsum("bij,bjk->bik", x, y)])
        #expect(batched.map { "\(type(of: $0.op))" } == ["BatchedDot"])
        let u = matrix("u", dtype: .float64), v = matrix("v", dtype: .float64)
        let rows = topologicalOrder(of: [try einsum("bi,bi->b", u, v)])
        #expect(rows.count == 2 && rows[0].op is Multiply && rows[1].op is Reduce)
    }

    /// An index only one operand carries is summed before the product: `"ij,kl->ik"` is the
    /// outer product of two row sums.
    @Test func indicesOfOneOperandAreSummedFirst() throws {
        let a = matrix("a", dtype: .float64, shape: (2, 3)), b = matrix("b", dtype: .float64, shape: (4, 5))
        let nodes = topologicalOrder(of: [try einsum("ij,kl->ik", a, b)])
        let product = try #require(nodes.last)
        #expect(product.op is Multiply && product.output(0).staticShape == [2, 4])
        #expect(nodes.filter { $0.op is Reduce }.count == 2 && !nodes.contains { $0.op is Dot })
    }

    /// A chain `"ij,jk,kl->il"` of three matrices: the operands its first product should
    /// multiply, the shapes of its products, and its planned steps.
    struct Chain: Sendable, CustomTestStringConvertible {
        let shapes: [[Int]], firstPair: [Int], productShapes: [[Int?]], steps: [EinsumPath.Step]

        var testDescription: String { shapes.map { "(\($0.map(String.init).joined(separator: ", ")))" }.joined(separator: " · ") }
    }

    static let chains = [
        Chain(shapes: [[2, 1000], [1000, 2], [2, 1000]], firstPair: [0, 1], productShapes: [[2, 2], [2, 1000]],
              steps: [.init(first: 0, second: 1), .init(first: 0, second: 1)]),
        // Left to right would cost 4 000 000 multiply-adds.
        Chain(shapes: [[1000, 2], [2, 1000], [1000, 2]], firstPair: [1, 2], productShapes: [[2, 2], [1000, 2]],
              steps: [.init(first: 1, second: 2), .init(first: 0, second: 1)]),
    ]

    /// The cheap pair of a chain (the one with a 2×2 product) is multiplied first: 8 000
    /// multiply-adds in all.
    @Test(arguments: chains)
    func chainsMultiplyTheCheapPairFirst(_ chain: Chain) throws {
        let operands = chain.shapes.enumerated().map { tensor("m\($0)", dtype: .float64, shape: $1) }
        let products = topologicalOrder(of: [try einsum("ij,jk,kl->il", operands)]).filter { $0.op is Dot }
        #expect(products.first?.inputs == chain.firstPair.map { operands[$0] })
        #expect(products.map { $0.output(0).staticShape } == chain.productShapes)
        let sizes = [0: chain.shapes[0][0], 1: chain.shapes[1][0], 2: chain.shapes[2][0], 3: chain.shapes[2][1]]
        let path = EinsumPath(terms: [[0, 1], [1, 2], [2, 3]], output: [0, 3], sizes: sizes)
        #expect(path.steps == chain.steps && path.cost == 8000)
    }

    /// Unknown sizes: left to right. Five operands: greedy, cheapest shared pair first.
    @Test func unknownSizesGoLeftToRightAndLongChainsGreedily() {
        let unknown = EinsumPath(terms: [[0, 1], [1, 2], [2, 3]], output: [0, 3], sizes: [0: 1000, 1: 2, 3: 2])
        #expect(unknown.steps == [.init(first: 0, second: 1), .init(first: 0, second: 1)] && unknown.cost == nil)
        // (10×10)(10×10)(10×1)(1×10)(10×10): the column meets its left neighbour first (100
        // multiply-adds), and the chain stays a column until the last product: 1 300 in all,
        // where left to right costs 2 200.
        let sizes = [0: 10, 1: 10, 2: 10, 3: 1, 4: 10, 5: 10]
        let greedy = EinsumPath(terms: [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]], output: [0, 5], sizes: sizes)
        #expect(greedy.steps == [.init(first: 1, second: 2), .init(first: 0, second: 1), .init(first: 0, second: 1), .init(first: 0, second: 1)])
        #expect(greedy.cost == 1300)
    }

    // MARK: Errors

    @Test func subscriptsThatDoNotParseAreInvalidArguments() {
        let a = matrix("a", dtype: .float64, shape: (2, 3)), v = vector("v", dtype: .float64)
        let cases: [(subscripts: String, operands: [Variable], fragment: String)] = [
            ("ij,j1", [a, v], "contain '1': indices must be letters"),
            ("ij->k", [a], "have the output index 'k', which no operand has"),
            ("ij->ii", [a], "repeat the output index 'i'"),
            ("i..j", [a], "'.' that is not part of one ellipsis ('...') in operand 0"),
            ("...i...", [a], "'.' that is not part of one ellipsis"),
            ("ij->->ij", [a], "more than one '->'"),
            ("i-j", [a], "'-' that is not part of '->'"),
            ("ij>ji", [a], "'>' that is not part of '->'"),
            ("ij->i,j", [a], "an output that is not letters"),
            ("", [], "need at least one operand"),
        ]
        for (subscripts, operands, fragment) in cases {
            expectEinsumError(invalidArgument: true, mentioning: ["einsum: subscripts \"\(subscripts)\"", fragment, here(#line + 1)]) {
                _ = try einsum(subscripts, operands)
            }
        }
    }

    @Test func subscriptsThatDoNotFitTheOperandsAreTypeMismatches() {
        let a = matrix("a", dtype: .float64, shape: (2, 3)), b = matrix("b", dtype: .float64, shape: (4, 5))
        let square = matrix("s", dtype: .float32, shape: (2, 3)), stack = tensor3("x", dtype: .float64, shape: (2, 3, 3))
        let cases: [(subscripts: String, operands: [Variable], fragments: [String])] = [
            ("ij,jk->ik", [a], ["2 terms for 1 operand", "float64[2, 3]"]),
            ("ij", [a, b], ["1 term for 2 operands"]),
            ("ijk", [a], ["operand 0 (float64[2, 3]) has 2 dimensions for 3 indices"]),
            ("i", [a], ["operand 0 (float64[2, 3]) has 2 dimensions for 1 index and no '...'"]),
            ("ij,jk", [a, b], ["index 'j' has size 3 in operand 0 (float64[2, 3]) and 4 in operand 1 (float64[4, 5])"]),
            ("ii", [square], ["index 'i' of operand 0 (float32[2, 3]) takes a diagonal of dimensions of sizes 2 and 3"]),
            ("...ij->ij", [stack], ["'...' stands for 1 dimension, but the output has no '...'"]),
            ("...i,...i", [stack, matrix(dtype: .float64, shape: (5, 3))],
             ["index '...' (broadcast dimension 1) has size 3 in operand 0", "and 5 in operand 1"]),
        ]
        for (subscripts, operands, fragments) in cases {
            expectEinsumError(invalidArgument: false, mentioning: ["einsum: subscripts \"\(subscripts)\":"] + fragments + [here(#line + 1)]) {
                _ = try einsum(subscripts, operands)
            }
        }
    }

    /// Sizes known only at run time that disagree fail when the function runs, on both
    /// backends, naming the node's line.
    @Test(arguments: Backend.allCases)
    func sizesThatDisagreeAtRunTimeAreErrors(backend: Backend) throws {
        let m = matrix("m", dtype: .float64), a = matrix("a", dtype: .float64), b = matrix("b", dtype: .float64)
        let line = #line + 1
        let diagonal = try function(inputs: [m], outputs: [einsum("ii->i", m)], options: backend.options)
        let product = try function(inputs: [a, b], outputs: [einsum("ij,jk->ik", a, b)], options: backend.options)
        let values = NDArray(zeros: [2, 3], dtype: .float64)
        expectFailure(mentioning: ["specify_shape", "(2, 3) where (2, 2) is needed", "EinsumTests.swift:\(line)"]) { _ = try diagonal(values) }
        expectFailure(mentioning: ["dot", "inner dimensions differ"]) { _ = try product(values, values) }
    }
}

/// Runs `build`, which must throw `invalidArgument` (or `typeMismatch`) from `einsum` with a
/// message containing every fragment.
private func expectEinsumError(invalidArgument: Bool, mentioning fragments: [String],
                               sourceLocation: Testing.SourceLocation = #_sourceLocation, _ build: () throws -> Void) {
    do {
        try build()
        Issue.record("expected an error from einsum", sourceLocation: sourceLocation)
    } catch TheanoError.invalidArgument(let function, _, _) where invalidArgument {
        #expect(function == "einsum", sourceLocation: sourceLocation)
    } catch TheanoError.typeMismatch(let op, _, _, _) where !invalidArgument {
        #expect(op == "einsum", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected \(invalidArgument ? "an invalid argument" : "a type mismatch") from einsum, got \(error)",
                     sourceLocation: sourceLocation)
    }
    expectFailure(mentioning: fragments, sourceLocation: sourceLocation, build)
}
