@testable import Theano
import Testing

// Sparse matrices beyond the op records: the values themselves, how graphs refuse them where
// they do not belong, functions and shared variables holding them, and both backends.

@Suite("Sparse matrices")
struct SparseTests {
    /// A 3×4 matrix storing four values, one of them an explicit zero.
    private let matrix = try! SparseMatrix(format: .csr, shape: [3, 4], data: NDArray([1.0, 2, 0, 3]), indices: [0, 2, 1, 3], indptr: [0, 2, 3, 4])

    @Test func partsDescribeTheMatrix() throws {
        #expect(matrix.dense() == NDArray([[1.0, 0, 2, 0], [0, 0, 0, 0], [0, 0, 0, 3]]))
        #expect(matrix.storedCount == 4)
        #expect(matrix.transposed.format == .csc && matrix.transposed.dense() == matrix.dense().transposed().contiguousCopy())
        let csc = try matrix.converted(to: .csc)
        #expect(csc.dense() == matrix.dense() && csc.indptr == [0, 1, 2, 3, 4])
        #expect(try SparseMatrix(dense: matrix.dense()).storedCount == 3, "the explicit zero is not a nonzero")
        #expect(matrix.description.contains("(0, 2)\t2.") && matrix.description.hasPrefix("<3x4 sparse matrix of type float64 with 4 stored"))
    }

    @Test func inconsistentPartsAreErrors() {
        #expect(throws: OpError.self) { try SparseMatrix(format: .csr, shape: [2, 2], data: NDArray([1.0]), indices: [0, 1], indptr: [0, 1, 2]) }
        #expect(throws: OpError.self) { try SparseMatrix(format: .csr, shape: [2, 2], data: NDArray([1.0, 2]), indices: [0, 2], indptr: [0, 1, 2]) }
        #expect(throws: OpError.self) { try SparseMatrix(format: .csr, shape: [2, 2], data: NDArray([1.0, 2]), indices: [0, 1], indptr: [0, 2, 1]) }
        #expect(throws: OpError.self) { try SparseMatrix(format: .dense, shape: [2, 2], data: NDArray([1.0]), indices: [0], indptr: [0, 1, 1]) }
    }

    /// An op that does not take sparse matrices refuses them when the graph is built, naming
    /// itself, not a cast or broadcast put before it.
    @Test func denseOpsRefuseSparseOperands() throws {
        let s = try sparseMatrix("s", dtype: .float64)
        for build in [{ try exp(s) }, { try s - 2 }, { try prod(s) }, { try s + tensor("d", dtype: .float64, shape: [nil, nil]) }] as [() throws -> Variable] {
            let error = #expect(throws: TheanoError.self) { try build() }
            #expect("\(error.map { "\($0)" } ?? "")".contains("sparse matrix, which it does not take"))
        }
    }

    /// A function with a sparse input takes a sparse value of that format, and says so
    /// otherwise; shared variables hold sparse values.
    @Test(arguments: Backend.allCases)
    func functionsTakeAndGiveSparseValues(_ backend: Backend) throws {
        let s = try sparseMatrix("s", dtype: .float64), w = tensor("w", dtype: .float64, shape: [4, 2])
        let f = try backend.compile(inputs: [s, w], outputs: [relu(dot(s, w) + 1), s.sparseTransposed])
        let weights = NDArray([[1.0, -1], [2, 0], [3, 1], [-4, 2]])
        let results = try f([NDArray(sparse: matrix), weights])
        #expect(results[0] == NDArray([[8.0, 2], [1, 1], [0, 7]]))
        #expect(results[1].sparse == matrix.transposed)
        #expect(throws: TheanoError.self) { _ = try f([matrix.dense(), weights]) }
        #expect(throws: TheanoError.self) { _ = try f([NDArray(sparse: try matrix.converted(to: .csc)), weights]) }

        let stored = try shared(NDArray(sparse: matrix), name: "stored")
        #expect(stored.type.format == .csr)
        let g = try backend.compile(inputs: [], outputs: [toDense(stored)])
        #expect(try g([])[0] == matrix.dense())
        #expect(throws: TheanoError.self) { try stored.setValue(matrix.dense()) }
    }

    /// The gradient with respect to a sparse input is sparse with its structure, the explicit
    /// zero included: `∂ sum(S·W) / ∂S[i, j] = Σ_k W[j, k]` at each stored position.
    @Test(arguments: Backend.allCases)
    func sparseGradientsKeepTheStructure(_ backend: Backend) throws {
        let s = try sparseMatrix("s", dtype: .float64), w = tensor("w", dtype: .float64, shape: [4, 2])
        let cost = try sum(structuredDot(s, w))
        let gradients = try grad(cost, wrt: [s, w])
        #expect(gradients[0].type.format == .csr)
        let f = try backend.compile(inputs: [s, w], outputs: gradients)
        let results = try f([NDArray(sparse: matrix), NDArray([[1.0, -1], [2, 0], [3, 1], [-4, 2]])])
        let sparseGradient = try #require(results[0].sparse)
        #expect(sparseGradient.indices == matrix.indices && sparseGradient.indptr == matrix.indptr)
        #expect(sparseGradient.data == NDArray([0.0, 4, 2, -2]))
        #expect(results[1] == NDArray([[1.0, 1], [0, 0], [2, 2], [3, 3]]))
    }

    /// Sparse · sparse, sums, subscripts and elements on both backends. Each gradient with
    /// respect to a sparse input keeps its structure, and equals the dense computation's
    /// gradient at the stored positions (the explicit zero included).
    @Test(arguments: Backend.allCases)
    func sparseVocabularyMatchesTheDenseComputation(_ backend: Backend) throws {
        let right = try SparseMatrix(dense: NDArray([[1.0, 0], [0, 2], [3, 0], [0, -1]]), format: .csc)
        let rows = tensor("rows", dtype: .int64, shape: [nil]), weights = constant(NDArray([0.5, -1, 2]))
        func cost(_ s: Variable, _ t: Variable) throws -> Variable {
            let product = try dot(s, t)
            let picked = try s.isSparse ? toDense(s[rows, 1..<4]) : s[rows][.all, 1..<4]
            let paired = try s[constant(NDArray([0, 2] as [Int64])), constant(NDArray([2, 3] as [Int64]))]
            return try sum(product.isSparse ? toDense(product) : product) + sum(sum(picked, axis: 0) * weights) + sum(s, axis: 1)[2]
                + s[2, 3] * 3 + sum(paired)
        }
        let s = try sparseMatrix("s", dtype: .float64), t = try sparseMatrix("t", format: .csc, dtype: .float64)
        let sparseGradients = try grad(cost(s, t), wrt: [s, t])
        #expect(sparseGradients.map(\.type.format) == [.csr, .csc])
        let f = try backend.compile(inputs: [s, t, rows], outputs: [cost(s, t)] + sparseGradients)
        let d = tensor("d", dtype: .float64, shape: [nil, nil]), e = tensor("e", dtype: .float64, shape: [nil, nil])
        let reference = try backend.compile(inputs: [d, e, rows], outputs: [cost(d, e)] + grad(cost(d, e), wrt: [d, e]))
        let chosen = NDArray([2, 0, 2] as [Int64])
        let results = try f([NDArray(sparse: matrix), NDArray(sparse: right), chosen])
        let expected = try reference([matrix.dense(), right.dense(), chosen])
        #expect(results[0] == expected[0])
        for (gradient, (operand, dense)) in zip(results[1...], [(matrix, expected[1]), (right, expected[2])]) {
            let structured = try #require(gradient.sparse)
            #expect(structured.indices == operand.indices && structured.indptr == operand.indptr)
            #expect(structured.data.elements(as: Double.self) == Self.values(of: dense, at: operand))
        }
    }

    /// The elements of the dense matrix `dense` at the positions `pattern` stores, in its order.
    private static func values(of dense: NDArray, at pattern: SparseMatrix) -> [Double] {
        let elements = dense.contiguous().elements(as: Double.self), columns = dense.shape[1]
        let lines = pattern.format == .csr ? pattern.shape[0] : pattern.shape[1]
        return (0..<lines).flatMap { line in
            (pattern.indptr[line]..<pattern.indptr[line + 1]).map { entry in
                let (row, column) = pattern.format == .csr ? (line, pattern.indices[entry]) : (pattern.indices[entry], line)
                return elements[row * columns + column]
            }
        }
    }

    /// Triplets build a matrix as SciPy's COO constructor does, and bad ones are errors.
    @Test func tripletsBuildMatrices() throws {
        let built = try SparseMatrix(format: .csc, shape: [2, 3], rows: [1, 0, 1], columns: [2, 0, 2], values: NDArray([1.0, 2, 4]))
        #expect(built.dense() == NDArray([[2.0, 0, 0], [0, 0, 5]]) && built.storedCount == 2 && built.format == .csc)
        #expect(throws: OpError.self) { try SparseMatrix(format: .csr, shape: [2, 3], rows: [2], columns: [0], values: NDArray([1.0])) }
        #expect(throws: OpError.self) { try SparseMatrix(format: .csr, shape: [2, 3], rows: [0, 1], columns: [0], values: NDArray([1.0])) }
        #expect(throws: OpError.self) { try SparseMatrix(format: .csr, shape: [2, 3], rows: [-1], columns: [0], values: NDArray([1.0])) }
        let empty = try SparseMatrix(format: .csr, shape: [0, 3], rows: [], columns: [], values: NDArray([Double]()))
        #expect(empty.storedCount == 0 && empty.indptr == [0])
    }

    /// Subscripts a sparse matrix cannot take are errors that say why, when the graph is built
    /// where the sizes are known and at call time otherwise.
    @Test func badSparseSubscriptsAreErrors() throws {
        let s = try sparseMatrix("s", dtype: .float64, shape: [3, nil])
        for build in [{ try s[0, 1, 2] }, { try s[.newAxis] }, { try s[3] }, { try s[tensor(dtype: .float64, shape: [nil])] },
                      { try s[tensor(dtype: .int64, shape: [nil, nil])] }] as [() throws -> Variable] {
            #expect(throws: TheanoError.self) { try build() }
        }
        let f = try function(inputs: [s], outputs: [toDense(s[.all, 7..<9]), s[0, 5]])
        #expect(throws: TheanoError.self) { _ = try f([NDArray(sparse: matrix)]) }
        let g = try function(inputs: [s], outputs: [toDense(s[.all, 7..<9])])
        #expect(try g([NDArray(sparse: matrix)])[0].shape == [3, 0])
    }

    /// Sparse constants merge when equal and print as SciPy does.
    @Test func constantsMergeAndPrint() throws {
        let w = tensor("w", dtype: .float64, shape: [4, 2])
        let a = constant(NDArray(sparse: matrix)), b = constant(NDArray(sparse: matrix))
        let f = try function(inputs: [w], outputs: [dot(a, w) + dot(b, w)])
        #expect(f.graph.nodes.filter { $0.op is StructuredDot }.count == 1)
        #expect("\(NDArray(sparse: matrix))" == matrix.description)
    }
}
