import TheanoCore
import TheanoOps

/// C matrix products for results of few columns (`n ≤ ``maximumColumns```), compiled into
/// the kernel module of every graph with products: a logistic regression's `x·W` and
/// `xᵀ·δ` with ten classes. BLAS libraries pack both operands into panels shaped for large
/// products; with ten columns the packing and the edge handling dominate (OpenBLAS 0.3.21 ran
/// the W1 step's 256×784·784×10 at 22 GFLOP/s on one core of a 2-core AMD EPYC whose peak is
/// 38; these kernels at 29–35).
///
/// Two register-blocked kernels, written with the compiler's vector extensions (no
/// intrinsics: the same text builds for any target), cover the operand layouts:
/// - **rows**, when the left operand's rows are contiguous: each block of two rows times
///   five columns keeps ten vector accumulators and walks the shared dimension `k` a vector
///   at a time, reading the right operand transposed (packed once per product when it is not
///   already stored so);
/// - **columns**, when the left operand is stored transposed (`xᵀ·δ`): each block of two
///   vectors of rows times five columns walks `k`, broadcasting one element of the right
///   operand per column.
/// Edge rows and columns repeat the last one in the block (computed, not stored), so there is
/// one code path per kernel. Both compute the rows `m0 ..< m1` only, so a product can be split
/// across cores.
enum SkinnyGemm {
    /// Products with more result columns go to BLAS (or the fallback).
    static let maximumColumns = 16
    /// Columns per register block.
    static let blockColumns = 5

    /// The kernels for float32 and float64.
    package static let source = [kernels(type: "float", suffix: "f32"), kernels(type: "double", suffix: "f64")].joined(separator: "\n")

    /// The number of rows the rows kernel and the columns kernel handle per block.
    static func blockRows(_ dtype: DType, transposedLeft: Bool) -> Int {
        transposedLeft ? 2 * lanes(dtype) : 2
    }

    private static func lanes(_ dtype: DType) -> Int { dtype == .float32 ? 8 : 4 }

    /// Fused multiply-adds in the kernels only: the module is compiled as ISO C (`-std=c11`),
    /// where GCC contracts nothing, and a separate multiply and add halve the kernels' speed.
    /// Elementwise kernels keep exact IEEE rounding.
    private static let contraction = """
        #if defined(__clang__)
        #define THEANO_CONTRACT
        #define THEANO_CONTRACT_BODY _Pragma("clang fp contract(fast)")
        #else
        #define THEANO_CONTRACT __attribute__((optimize("fp-contract=fast")))
        #define THEANO_CONTRACT_BODY
        #endif
        """

    private static func kernels(type t: String, suffix: String) -> String {
        let lanes = t == "float" ? 8 : 4, columns = blockColumns
        let vector = "theano_v\(suffix)", unaligned = "theano_u\(suffix)"
        let indices = (0..<2).flatMap { r in (0..<columns).map { c in (r, c) } }
        let zeros = indices.map { "s\($0)\($1) = {0}" }.joined(separator: ", ")
        // The rows kernel: two rows times five columns of the result, `k` a vector at a time.
        let rowsBody = (0..<columns).map { c in
            "b = theano_load_\(suffix)(b\(c) + k); s0\(c) += x0 * b; s1\(c) += x1 * b;"
        }.joined(separator: "\n                ")
        let rowsSums = indices.map { r, c in "sum[\(r)][\(c)] = theano_hsum_\(suffix)(s\(r)\(c));" }.joined(separator: " ")
        // The columns kernel: two vectors of rows times five columns, one `k` at a time.
        let columnsBody = (0..<columns).map { c in
            "v = B[k * sbk + (j + (\(c) < cols ? \(c) : 0)) * sbn]; e = (\(vector)){\(repeatElement("v", count: lanes).joined(separator: ", "))}; "
                + "s0\(c) += x0 * e; s1\(c) += x1 * e;"
        }.joined(separator: "\n                ")
        let columnsStore = indices.map { r, c in "if (\(c) < cols) for (int l = 0; l < \(lanes); ++l) theano_store_\(suffix)(C + (i + \(r * lanes) + l) * ldc + j + \(c), alpha * s\(r)\(c)[l], beta);" }
            .joined(separator: "\n            ")
        return """
        \(t == "float" ? contraction : "")
        typedef \(t) \(vector) __attribute__((vector_size(32)));
        typedef \(t) \(unaligned) __attribute__((vector_size(32), aligned(sizeof(\(t))), may_alias));
        static inline \(vector) theano_load_\(suffix)(const \(t) *p) { return *(const \(unaligned) *)p; }
        static inline \(t) theano_hsum_\(suffix)(\(vector) v) {
            \(t) s = 0;
            for (int l = 0; l < \(lanes); ++l) s += v[l];
            return s;
        }
        static inline void theano_store_\(suffix)(\(t) *c, \(t) value, \(t) beta) { *c = beta == 0 ? value : value + beta * *c; }

        /// out[j * K + k] = B[k * sbk + j * sbn]: the right operand transposed, for the rows kernel.
        void theano_skinny_pack_\(suffix)(int64_t N, int64_t K, const void *B_, int64_t sbk, int64_t sbn, void *out_) {
            const \(t) *B = B_;
            \(t) *out = out_;
            for (int64_t j = 0; j < N; ++j)
                for (int64_t k = 0; k < K; ++k) out[j * K + k] = B[k * sbk + j * sbn];
        }

        /// Rows m0 ..< m1 of C = alpha * A * Bt' + beta * C, A's rows and Bt's rows (N of them) contiguous.
        THEANO_CONTRACT void theano_skinny_rows_\(suffix)(int64_t m0, int64_t m1, int64_t N, int64_t K, double alpha_, const void *A_, int64_t lda,
                                        const void *Bt_, int64_t ldbt, double beta_, void *C_, int64_t ldc) {
            THEANO_CONTRACT_BODY
            const \(t) alpha = (\(t))alpha_, beta = (\(t))beta_, *A = A_, *Bt = Bt_;
            \(t) *C = C_;
            const int64_t vectorK = K - K % \(lanes);
            for (int64_t i = m0; i < m1; i += 2) {
                const int rows = m1 - i < 2 ? (int)(m1 - i) : 2;
                const \(t) *a0 = A + i * lda, *a1 = rows == 2 ? a0 + lda : a0;
                for (int64_t j = 0; j < N; j += \(columns)) {
                    const int cols = N - j < \(columns) ? (int)(N - j) : \(columns);
                    \((0..<columns).map { c in "const \(t) *b\(c) = Bt + (j + (\(c) < cols ? \(c) : 0)) * ldbt;" }.joined(separator: " "))
                    \(vector) \(zeros), x0, x1, b;
                    for (int64_t k = 0; k < vectorK; k += \(lanes)) {
                        x0 = theano_load_\(suffix)(a0 + k); x1 = theano_load_\(suffix)(a1 + k);
                        \(rowsBody)
                    }
                    \(t) sum[2][\(columns)];
                    \(rowsSums)
                    const \(t) *const bs[\(columns)] = {\((0..<columns).map { "b\($0)" }.joined(separator: ", "))};
                    for (int r = 0; r < rows; ++r)
                        for (int c = 0; c < cols; ++c) {
                            const \(t) *a = r == 0 ? a0 : a1;
                            \(t) s = sum[r][c];
                            for (int64_t k = vectorK; k < K; ++k) s += a[k] * bs[c][k];
                            theano_store_\(suffix)(C + (i + r) * ldc + j + c, alpha * s, beta);
                        }
                }
            }
        }

        /// Rows m0 ..< m1 of C = alpha * At' * B + beta * C, At stored K × M (rows of C contiguous in it),
        /// B(k, j) = B[k * sbk + j * sbn].
        THEANO_CONTRACT void theano_skinny_columns_\(suffix)(int64_t m0, int64_t m1, int64_t N, int64_t K, double alpha_, const void *At_, int64_t ldat,
                                           const void *B_, int64_t sbk, int64_t sbn, double beta_, void *C_, int64_t ldc) {
            THEANO_CONTRACT_BODY
            const \(t) alpha = (\(t))alpha_, beta = (\(t))beta_, *At = At_, *B = B_;
            \(t) *C = C_;
            int64_t i = m0;
            for (; i + \(2 * lanes) <= m1; i += \(2 * lanes)) {
                for (int64_t j = 0; j < N; j += \(columns)) {
                    const int cols = N - j < \(columns) ? (int)(N - j) : \(columns);
                    \(vector) \(zeros), x0, x1, e;
                    \(t) v;
                    for (int64_t k = 0; k < K; ++k) {
                        const \(t) *a = At + k * ldat + i;
                        x0 = theano_load_\(suffix)(a); x1 = theano_load_\(suffix)(a + \(lanes));
                        \(columnsBody)
                    }
                    \(columnsStore)
                }
            }
            for (; i < m1; ++i)
                for (int64_t j = 0; j < N; ++j) {
                    \(t) s = 0;
                    for (int64_t k = 0; k < K; ++k) s += At[k * ldat + i] * B[k * sbk + j * sbn];
                    theano_store_\(suffix)(C + i * ldc + j, alpha * s, beta);
                }
        }
        """
    }
}

/// The ``SkinnyGemm`` kernels of a kernel module, for float32 and float64.
struct SkinnyKernels {
    /// The kernels of one dtype.
    struct Routines {
        typealias Pack = @convention(c) (Int64, Int64, UnsafeRawPointer, Int64, Int64, UnsafeMutableRawPointer) -> Void
        typealias Rows = @convention(c) (Int64, Int64, Int64, Int64, Double, UnsafeRawPointer, Int64, UnsafeRawPointer, Int64, Double,
                                         UnsafeMutableRawPointer, Int64) -> Void
        typealias Columns = @convention(c) (Int64, Int64, Int64, Int64, Double, UnsafeRawPointer, Int64, UnsafeRawPointer, Int64,
                                            Int64, Double, UnsafeMutableRawPointer, Int64) -> Void
        let pack: Pack
        let rows: Rows
        let columns: Columns

        fileprivate init(suffix: String, in library: DynamicLibrary) throws {
            pack = try library.function("theano_skinny_pack_\(suffix)", as: Pack.self)
            rows = try library.function("theano_skinny_rows_\(suffix)", as: Rows.self)
            columns = try library.function("theano_skinny_columns_\(suffix)", as: Columns.self)
        }
    }

    let single: Routines, double: Routines
    /// Kept so the module stays loaded while the kernels may be called.
    let library: DynamicLibrary

    /// The kernels in `library`; throws when it lacks one.
    init(in library: DynamicLibrary) throws {
        single = try Routines(suffix: "f32", in: library)
        double = try Routines(suffix: "f64", in: library)
        self.library = library
    }

    /// Products of fewer operations run on one thread; larger ones on the count the graph's
    /// ``ProductThreading`` has lately found faster for them. Lower than BLAS's threshold: the
    /// rows are split by ``parallelFor``, with no BLAS worker left spinning.
    static let smallProduct = 1e6

    /// Whether a product with `columns` result columns goes to these kernels.
    static func handles(columns: Int) -> Bool { (2...SkinnyGemm.maximumColumns).contains(columns) }

    /// `out = α·left·right + β·out` (`out` a contiguous m × n matrix), split into `threads`
    /// ranges of rows.
    func multiply(_ left: BlasOperand, _ right: BlasOperand, m: Int, n: Int, k: Int, alpha: Double, beta: Double,
                  into out: NDArray, threads: Int) {
        let routines = out.dtype == .float32 ? single : double
        let transposedLeft = left.transpose == BLAS.transpose
        let block = SkinnyGemm.blockRows(out.dtype, transposedLeft: transposedLeft)
        let (sbk, sbn) = right.transpose == BLAS.noTranspose ? (Int64(right.leading), Int64(1)) : (Int64(1), Int64(right.leading))
        let (lda, m64, n64, k64) = (Int64(left.leading), Int64(m), Int64(n), Int64(k))
        /// Runs `rows` over ranges of whole blocks.
        func split(_ rows: (Int64, Int64) -> Void) {
            let blocks = (m + block - 1) / block
            guard threads > 1 else { return rows(0, m64) }
            parallelFor(blocks, workPerItem: block * n * k) { first, end in rows(Int64(first * block), Int64(Swift.min(end * block, m))) }
        }
        left.matrix.withUnsafeRawPointer { a in
            right.matrix.withUnsafeRawPointer { b in
                out.withUnsafeMutableRawPointer { c in
                    if transposedLeft {
                        split { routines.columns($0, $1, n64, k64, alpha, a, lda, b, sbk, sbn, beta, c, n64) }
                    } else if sbk == 1 {
                        split { routines.rows($0, $1, n64, k64, alpha, a, lda, b, sbn, beta, c, n64) }
                    } else {
                        let packed = UnsafeMutableRawPointer.allocate(byteCount: n * k * out.dtype.byteSize, alignment: 64)
                        defer { packed.deallocate() }
                        routines.pack(n64, k64, b, sbk, sbn, packed)
                        split { routines.rows($0, $1, n64, k64, alpha, a, lda, UnsafeRawPointer(packed), k64, beta, c, n64) }
                    }
                }
            }
        }
    }
}
