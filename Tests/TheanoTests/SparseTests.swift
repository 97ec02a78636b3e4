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
        for build in [{ try exp(s) }, { try s * 2 }, { try sum(s) }, { try s + tensor("d", dtype: .float64, shape: [nil, nil]) }] as [() throws -> Variable] {
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

    /// Sparse constants merge when equal and print as SciPy does.
    @Test func constantsMergeAndPrint() throws {
        let w = tensor("w", dtype: .float64, shape: [4, 2])
        let a = constant(NDArray(sparse: matrix)), b = constant(NDArray(sparse: matrix))
        let f = try function(inputs: [w], outputs: [dot(a, w) + dot(b, w)])
        #expect(f.graph.nodes.filter { $0.op is StructuredDot }.count == 1)
        #expect("\(NDArray(sparse: matrix))" == matrix.description)
    }
}
