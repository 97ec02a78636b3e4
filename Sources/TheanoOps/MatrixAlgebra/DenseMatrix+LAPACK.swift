import TheanoCore

/// The factorizations and solves of one matrix, each a LAPACK call on a column-major copy.
/// A failure LAPACK reports (a singular or indefinite matrix, an iteration that did not
/// converge) is thrown as an ``OpError`` saying what it means for the matrix.
extension DenseMatrix {
    private typealias Integer = LAPACK.Integer

    /// Throws unless LAPACK's `info` is 0; `failure` explains a positive one.
    private static func check(_ info: Integer, _ routine: String, _ failure: (Int) -> String) throws {
        if info < 0 { throw OpError("\(routine) rejected argument \(-info) (an internal error)") }
        if info > 0 { throw OpError(failure(Int(info))) }
    }

    /// The Cholesky factor of this symmetric positive-definite matrix, read from its `lower`
    /// (or upper) triangle: `L` with `A = L·Lᵀ`, or `U` with `A = Uᵀ·U`.
    func choleskyFactor(lower: Bool, using lapack: LAPACK) throws -> DenseMatrix {
        var factor = self
        var n = Integer(rows), lda = Integer(Swift.max(1, rows)), info: Integer = 0
        lapack.potrf(lower ? "L" : "U", &n, &factor.elements, &lda, &info, 1)
        try Self.check(info, "dpotrf") { "the matrix is not positive definite (its leading minor of order \($0) is not)" }
        return factor.triangle(lower: lower)
    }

    /// The LU factorization with partial pivoting, `P·A = L·U`, packed as LAPACK returns it:
    /// `L` (unit diagonal, not stored) below the diagonal, `U` on and above it, and the
    /// row swapped with row `i` (0-based) at `pivots[i]`. `singular` is set when `U` has a
    /// zero on its diagonal.
    func luFactorization(using lapack: LAPACK) throws -> (lu: DenseMatrix, pivots: [Int32], singular: Bool) {
        var lu = self
        var m = Integer(rows), n = Integer(columns), lda = Integer(Swift.max(1, rows)), info: Integer = 0
        var pivots = [Integer](repeating: 0, count: Swift.min(rows, columns))
        lapack.getrf(&m, &n, &lu.elements, &lda, &pivots, &info)
        if info < 0 { try Self.check(info, "dgetrf") { _ in "" } }
        return (lu, pivots.map { $0 - 1 }, info > 0)
    }

    /// `A⁻¹·b` (or `A⁻ᵀ·b` when `transposed`) from this packed LU factorization.
    func luSolve(pivots: [Int32], _ b: DenseMatrix, transposed: Bool, using lapack: LAPACK) throws -> DenseMatrix {
        var x = b
        var fortranPivots = pivots.map { $0 + 1 }
        var n = Integer(rows), k = Integer(b.columns), lda = Integer(Swift.max(1, rows)), ldb = lda, info: Integer = 0
        withReadOnlyPointer { lu in
            lapack.getrs(transposed ? "T" : "N", &n, &k, lu, &lda, &fortranPivots, &x.elements, &ldb, &info, 1)
        }
        try Self.check(info, "dgetrs") { _ in "" }
        return x
    }

    /// `A⁻¹·b` for a general square matrix; throws when it is singular.
    func solve(_ b: DenseMatrix, transposed: Bool = false, using lapack: LAPACK) throws -> DenseMatrix {
        let factorization = try luFactorization(using: lapack)
        if factorization.singular { throw OpError("the matrix is singular") }
        return try factorization.lu.luSolve(pivots: factorization.pivots, b, transposed: transposed, using: lapack)
    }

    /// `A⁻¹·b` (or `A⁻ᵀ·b`) for this triangular matrix, reading only its `lower` (or upper)
    /// triangle, with ones on the diagonal when `unitDiagonal`.
    func solveTriangular(_ b: DenseMatrix, lower: Bool, transposed: Bool, unitDiagonal: Bool,
                         using lapack: LAPACK) throws -> DenseMatrix {
        var x = b
        var n = Integer(rows), k = Integer(b.columns), lda = Integer(Swift.max(1, rows)), ldb = lda, info: Integer = 0
        withReadOnlyPointer { a in
            lapack.trtrs(lower ? "L" : "U", transposed ? "T" : "N", unitDiagonal ? "U" : "N", &n, &k, a, &lda, &x.elements, &ldb, &info, 1, 1, 1)
        }
        try Self.check(info, "dtrtrs") { "the triangular matrix is singular (diagonal element \($0 - 1) is zero)" }
        return x
    }

    /// `A⁻¹·b` where this matrix is the Cholesky factor of `A` (lower: `A = L·Lᵀ`; upper:
    /// `A = Uᵀ·U`).
    func choleskySolve(_ b: DenseMatrix, lower: Bool, using lapack: LAPACK) throws -> DenseMatrix {
        var x = b
        var n = Integer(rows), k = Integer(b.columns), lda = Integer(Swift.max(1, rows)), ldb = lda, info: Integer = 0
        withReadOnlyPointer { factor in lapack.potrs(lower ? "L" : "U", &n, &k, factor, &lda, &x.elements, &ldb, &info, 1) }
        try Self.check(info, "dpotrs") { _ in "" }
        return x
    }

    /// The eigenvalues (ascending) and, if asked, the orthonormal eigenvectors (columns) of
    /// this symmetric matrix, read from its `lower` (or upper) triangle.
    func symmetricEigendecomposition(lower: Bool, vectors: Bool, using lapack: LAPACK) throws -> (values: [Double], vectors: DenseMatrix) {
        var a = self
        var n = Integer(rows), lda = Integer(Swift.max(1, rows)), info: Integer = 0
        var values = [Double](repeating: 0, count: rows)
        var workSize = [0.0], iworkSize: Integer = 0, query: Integer = -1, integerQuery: Integer = -1
        let job = vectors ? "V" : "N", triangle = lower ? "L" : "U"
        lapack.syevd(job, triangle, &n, &a.elements, &lda, &values, &workSize, &query, &iworkSize, &integerQuery, &info, 1, 1)
        var lwork = Integer(workSize[0]), liwork = Swift.max(1, iworkSize)
        var work = [Double](repeating: 0, count: Int(lwork)), iwork = [Integer](repeating: 0, count: Int(liwork))
        lapack.syevd(job, triangle, &n, &a.elements, &lda, &values, &work, &lwork, &iwork, &liwork, &info, 1, 1)
        try Self.check(info, "dsyevd") { _ in "the eigenvalue iteration did not converge" }
        return (values, a)
    }

    /// The eigenvalues of this general square matrix, as real and imaginary parts, in the
    /// order LAPACK finds them (complex pairs adjacent, the positive imaginary part first).
    func eigenvalues(using lapack: LAPACK) throws -> (real: [Double], imaginary: [Double]) {
        var a = self
        var n = Integer(rows), lda = Integer(Swift.max(1, rows)), ldvl: Integer = 1, ldvr: Integer = 1, info: Integer = 0
        var real = [Double](repeating: 0, count: rows), imaginary = real
        var unusedLeft = [0.0], unusedRight = [0.0], workSize = [0.0], query: Integer = -1
        lapack.geev("N", "N", &n, &a.elements, &lda, &real, &imaginary, &unusedLeft, &ldvl, &unusedRight, &ldvr, &workSize, &query,
                    &info, 1, 1)
        var lwork = Integer(workSize[0])
        var work = [Double](repeating: 0, count: Int(lwork))
        lapack.geev("N", "N", &n, &a.elements, &lda, &real, &imaginary, &unusedLeft, &ldvl, &unusedRight, &ldvr, &work, &lwork,
                    &info, 1, 1)
        try Self.check(info, "dgeev") { _ in "the QR iteration did not converge" }
        return (real, imaginary)
    }

    /// `A = U·diag(s)·Vᵀ` with the singular values `s` descending; `U` and `Vᵀ` are empty
    /// when `vectors` is `.none`, have `min(m, n)` columns (rows) when `.reduced`, and are
    /// square when `.complete`.
    func singularValueDecomposition(_ vectors: SVD.Vectors, using lapack: LAPACK) throws -> (u: DenseMatrix, s: [Double], vt: DenseMatrix) {
        var a = self
        let k = Swift.min(rows, columns)
        let (uColumns, vtRows) = switch vectors {
        case .none: (0, 0)
        case .reduced: (k, k)
        case .complete: (rows, columns)
        }
        var u = DenseMatrix(zeros: rows, uColumns), vt = DenseMatrix(zeros: vtRows, columns)
        if u.elements.isEmpty { u.elements = [0] }
        if vt.elements.isEmpty { vt.elements = [0] }
        var m = Integer(rows), n = Integer(columns), lda = Integer(Swift.max(1, rows)), info: Integer = 0
        var ldu = Integer(Swift.max(1, rows)), ldvt = Integer(Swift.max(1, vtRows))
        var s = [Double](repeating: 0, count: Swift.max(1, k)), iwork = [Integer](repeating: 0, count: Swift.max(1, 8 * k))
        var workSize = [0.0], query: Integer = -1
        let job = switch vectors { case .none: "N"; case .reduced: "S"; case .complete: "A" }
        lapack.gesdd(job, &m, &n, &a.elements, &lda, &s, &u.elements, &ldu, &vt.elements, &ldvt, &workSize, &query, &iwork, &info, 1)
        var lwork = Integer(workSize[0])
        var work = [Double](repeating: 0, count: Swift.max(1, Int(lwork)))
        lapack.gesdd(job, &m, &n, &a.elements, &lda, &s, &u.elements, &ldu, &vt.elements, &ldvt, &work, &lwork, &iwork, &info, 1)
        try Self.check(info, "dgesdd") { _ in "the singular value iteration did not converge" }
        u.columns = uColumns
        vt.rows = vtRows
        if uColumns == 0 { u.elements = [] }
        if vtRows == 0 { vt.elements = [] }
        return (u, Array(s.prefix(k)), vt)
    }

    /// `A = Q·R` with orthonormal columns in `Q`: `min(m, n)` of them when reduced, `m`
    /// when complete; `R` upper triangular (trapezoidal) with the matching number of rows.
    func qrDecomposition(complete: Bool, using lapack: LAPACK) throws -> (q: DenseMatrix, r: DenseMatrix) {
        let k = Swift.min(rows, columns), qColumns = complete ? rows : k
        var packed = self
        var m = Integer(rows), n = Integer(columns), lda = Integer(Swift.max(1, rows)), info: Integer = 0
        var tau = [Double](repeating: 0, count: Swift.max(1, k)), workSize = [0.0], query: Integer = -1
        lapack.geqrf(&m, &n, &packed.elements, &lda, &tau, &workSize, &query, &info)
        var lwork = Integer(workSize[0])
        var work = [Double](repeating: 0, count: Swift.max(1, Int(lwork)))
        lapack.geqrf(&m, &n, &packed.elements, &lda, &tau, &work, &lwork, &info)
        try Self.check(info, "dgeqrf") { _ in "" }
        let r = packed.leadingRows(qColumns).triangle(lower: false)
        // The reflectors below R's diagonal, extended to the columns Q needs.
        var q = DenseMatrix(zeros: rows, qColumns)
        for j in 0..<Swift.min(columns, qColumns) { for i in 0..<rows { q[i, j] = packed[i, j] } }
        guard rows > 0, qColumns > 0 else { return (q, r) }
        var qn = Integer(qColumns), reflectors = Integer(k)
        lapack.orgqr(&m, &qn, &reflectors, &q.elements, &lda, &tau, &workSize, &query, &info)
        lwork = Integer(workSize[0])
        work = [Double](repeating: 0, count: Swift.max(1, Int(lwork)))
        lapack.orgqr(&m, &qn, &reflectors, &q.elements, &lda, &tau, &work, &lwork, &info)
        try Self.check(info, "dorgqr") { _ in "" }
        return (q, r)
    }

    /// The least-squares solution `x` minimizing `‖A·x − b‖₂` (the minimum-norm one when `A`
    /// is rank-deficient), by the SVD: singular values below `relativeCondition` times the
    /// largest count as zero.
    func leastSquares(_ b: DenseMatrix, relativeCondition: Double, using lapack: LAPACK) throws -> DenseMatrix {
        let size = Swift.max(rows, columns)
        var a = self, x = DenseMatrix(zeros: size, b.columns)
        for j in 0..<b.columns { for i in 0..<rows { x[i, j] = b[i, j] } }
        var m = Integer(rows), n = Integer(columns), k = Integer(b.columns), lda = Integer(Swift.max(1, rows))
        var ldb = Integer(Swift.max(1, size)), rank: Integer = 0, info: Integer = 0, rcond = relativeCondition
        var s = [Double](repeating: 0, count: Swift.max(1, Swift.min(rows, columns)))
        var workSize = [0.0], iworkSize: Integer = 0, query: Integer = -1
        lapack.gelsd(&m, &n, &k, &a.elements, &lda, &x.elements, &ldb, &s, &rcond, &rank, &workSize, &query, &iworkSize, &info)
        var lwork = Integer(workSize[0])
        var work = [Double](repeating: 0, count: Swift.max(1, Int(lwork))), iwork = [Integer](repeating: 0, count: Swift.max(1, Int(iworkSize)))
        lapack.gelsd(&m, &n, &k, &a.elements, &lda, &x.elements, &ldb, &s, &rcond, &rank, &work, &lwork, &iwork, &info)
        try Self.check(info, "dgelsd") { _ in "the singular value iteration did not converge" }
        return x.leadingRows(columns)
    }
}
