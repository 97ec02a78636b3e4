import Dispatch
import Synchronization
@testable import Theano
import Testing

// The matrix-algebra ops at their edges, on both backends: empty matrices and stacks, 1×1
// matrices, sizes known only when the function runs, and matrices they cannot handle.

@Suite("Matrix algebra at the edges")
struct MatrixAlgebraEdgeTests {
    /// A float64 matrix (or stack) input of unknown sizes.
    private func input(_ ndim: Int = 2) -> Variable { tensor("a", dtype: .float64, shape: Array(repeating: nil, count: ndim)) }

    /// `build(a)` run on `value`.
    private func run(_ backend: Backend, _ value: NDArray, _ build: (Variable) throws -> [Variable]) throws -> [NDArray] {
        let a = input(value.ndim)
        return try backend.compile(inputs: [a], outputs: build(a))([value])
    }

    /// NumPy's results for 0×0 matrices: an empty factor, inverse and solution, determinant 1,
    /// log-determinant 0 with sign 1, no eigenvalues or singular values.
    @Test(arguments: Backend.allCases)
    func emptyMatricesGiveEmptyResults(_ backend: Backend) throws {
        let empty = NDArray(zeros: [0, 0], dtype: .float64)
        let results = try run(backend, empty) { a in
            let (sign, logAbsDet) = try slogdet(a)
            return [try cholesky(a), try inv(a), try det(a), sign, logAbsDet, try eigvalsh(a), try svdvals(a), try expm(a),
                    try solve(a, a), try qr(a).r, try pinv(a), try trace(a)]
        }
        #expect(results.map(\.shape) == [[0, 0], [0, 0], [], [], [], [0], [0], [0, 0], [0, 0], [0, 0], [0, 0], []])
        #expect(results[2].scalar(as: Double.self) == 1 && results[3].scalar(as: Double.self) == 1)
        #expect(results[4].scalar(as: Double.self) == 0 && results[11].scalar(as: Double.self) == 0)
    }

    /// A stack of no matrices gives stacks of no results.
    @Test(arguments: Backend.allCases)
    func emptyStacksGiveEmptyStacks(_ backend: Backend) throws {
        let none = NDArray(zeros: [0, 3, 3], dtype: .float64)
        let results = try run(backend, none) { a in [try inv(a), try det(a), try eigh(a).values, try svd(a).vt] }
        #expect(results.map(\.shape) == [[0, 3, 3], [0], [0, 3], [0, 3, 3]])
    }

    /// Rectangular shapes with an empty side: NumPy's reduced QR and SVD shapes.
    @Test(arguments: Backend.allCases)
    func emptySidesKeepNumPyShapes(_ backend: Backend) throws {
        let wide = NDArray(zeros: [0, 3], dtype: .float64)
        let results = try run(backend, wide) { a in
            let (q, r) = try qr(a)
            let (u, s, vt) = try svd(a, fullMatrices: false)
            return [q, r, u, s, vt, try pinv(a), try svd(a).vt]
        }
        #expect(results.map(\.shape) == [[0, 0], [0, 3], [0, 0], [0], [0, 3], [3, 0], [3, 3]])
    }

    /// 1×1 matrices: the familiar scalar results.
    @Test(arguments: Backend.allCases)
    func oneByOneMatricesAreNumbers(_ backend: Backend) throws {
        let four = NDArray([4.0], shape: [1, 1])
        let results = try run(backend, four) { a in [try cholesky(a), try inv(a), try det(a), try expm(a), try svdvals(a)] }
        #expect(results.map { $0.elements(as: Double.self)[0] } == [2, 0.25, 4, Double.exp(4), 4])
    }

    /// Matrices an op cannot handle throw, naming the op and what is wrong, on both backends.
    @Test(arguments: Backend.allCases)
    func unsuitableMatricesAreErrors(_ backend: Backend) throws {
        let singular = NDArray([1.0, 2, 2, 4], shape: [2, 2])
        let indefinite = NDArray([1.0, 2, 2, 1], shape: [2, 2])
        let rectangular = NDArray(zeros: [2, 3], dtype: .float64)
        let cases: [(NDArray, (Variable) throws -> Variable, String)] = [
            (singular, { try inv($0) }, "singular"),
            (singular, { try solve($0, $0) }, "singular"),
            (indefinite, { try cholesky($0) }, "not positive definite"),
            (indefinite, { try solve($0, $0, assume: .positiveDefinite) }, "not positive definite"),
            (singular, { try solveTriangular(triu($0, k: 1), $0) }, "singular"),
            (rectangular, { try det($0) }, "square"),
            (rectangular, { try cholesky($0) }, "square"),
        ]
        for (value, build, words) in cases {
            let error = #expect(throws: TheanoError.self) { _ = try run(backend, value) { [try build($0)] } }
            #expect("\(error.map { "\($0)" } ?? "")".contains(words), "\(String(describing: error))")
        }
    }

    /// A singular matrix's determinant is 0 and its log-determinant −∞ with sign 0, as NumPy's.
    @Test(arguments: Backend.allCases)
    func singularMatricesHaveZeroDeterminants(_ backend: Backend) throws {
        let singular = NDArray([1.0, 2, 2, 4], shape: [2, 2])
        let results = try run(backend, singular) { a in
            let (sign, logAbsDet) = try slogdet(a)
            return [try det(a), sign, logAbsDet]
        }
        #expect(results.map { $0.scalar(as: Double.self) } == [0, 0, -.infinity])
    }

    /// Sizes that do not fit are errors when the graph is built when known, with the op's name.
    @Test func staticMismatchesAreTypeErrors() throws {
        let a = tensor("a", dtype: .float64, shape: [3, 3]), b = tensor("b", dtype: .float64, shape: [4, 2])
        #expect(throws: TheanoError.self) { try solve(a, b) }
        #expect(throws: TheanoError.self) { try cholesky(tensor("r", dtype: .float64, shape: [2, 3])) }
        #expect(throws: TheanoError.self) { try det(tensor("v", dtype: .float64, shape: [3])) }
        #expect(throws: TheanoError.self) { try matmul(tensor("x", dtype: .float64, shape: [2, 3, 4]), tensor("y", dtype: .float64, shape: [5, 4, 2])) }
        #expect(throws: TheanoError.self) { try norm(a, order: .nuclear, axis: [0]) }
    }

    /// One compiled function called from several threads at once: each call's solve gets its
    /// own answer (LAPACK is loaded once, and each call has its own buffers).
    @Test(arguments: Backend.allCases)
    func concurrentCallsAgree(_ backend: Backend) throws {
        let a = input(), b = input()
        let f = try backend.compile(inputs: [a, b], outputs: [solve(a, b)])
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 8) { call in
            let scale = Double(call + 2)
            let matrix = NDArray([scale, 1, 0, scale], shape: [2, 2]), rightSide = NDArray([scale, scale], shape: [2, 1])
            // (s 1; 0 s)·x = (s; s) has x = ((s − 1)/s, 1).
            let x = (try? f([matrix, rightSide])[0].elements(as: Double.self)) ?? []
            if x.count != 2 || Swift.abs(x[0] - (scale - 1) / scale) > 1e-12 || Swift.abs(x[1] - 1) > 1e-12 {
                failures.withLock { $0 += 1 }
            }
        }
        #expect(failures.withLock { $0 } == 0)
    }
}
