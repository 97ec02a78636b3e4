import TheanoCore
import TheanoOps

/// C matrix products for results of few columns (`n ≤ ``maximumColumns```), compiled into
/// the kernel module of every graph with products, for the dtypes it multiplies: a logistic
/// regression's `x·W` and `xᵀ·δ` with ten classes. BLAS libraries pack both operands into
/// panels shaped for large products; with ten columns the packing and the edge handling
/// dominate (OpenBLAS 0.3.21 ran the W1 step's 256×784·784×10 at 22 GFLOP/s on one core of a
/// 2-core AMD EPYC whose peak is 38; these kernels at 29–35).
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

    /// The kernels for products of `dtype` (float32 or float64), as two module kernels (the
    /// rows and the columns kernel, so they compile on two cores at once), each with the
    /// helpers it needs.
    package static func sources(for dtype: DType) -> [String] {
        let kernel = Kernel(dtype)
        return [kernel.helpers + kernel.pack + kernel.rows, kernel.helpers + kernel.columns]
    }

    /// The number of rows the rows kernel and the columns kernel handle per block.
    static func blockRows(_ dtype: DType, transposedLeft: Bool) -> Int {
        transposedLeft ? 2 * Kernel(dtype).lanes : 2
    }

    /// The C text of one dtype's kernels.
    private struct Kernel {
        /// The C element type, the symbols' suffix, and the elements per vector of 32 bytes.
        let t: String, suffix: String, lanes: Int
        /// Result columns per block.
        let width = blockColumns
        var vector: String { "theano_v\(suffix)" }
        /// The ten accumulators `s<row><column>`.
        var accumulators: [(Int, Int)] { (0..<2).flatMap { r in (0..<width).map { c in (r, c) } } }
        var zeros: String { accumulators.map { "s\($0)\($1) = {0}" }.joined(separator: ", ") }

        init(_ dtype: DType) {
            (t, suffix, lanes) = dtype == .float32 ? ("float", "f32", 8) : ("double", "f64", 4)
        }

        /// Vector types, loads, sums and stores, defined once per unit. The kernels contract
        /// multiply-adds into fused ones: the module is compiled as ISO C (`-std=c11`), where
        /// GCC contracts nothing, and a separate multiply and add halve the kernels' speed
        /// (elementwise kernels keep exact IEEE rounding).
        var helpers: String {
            """
            #ifndef THEANO_CONTRACT
            #if defined(__clang__)
            #define THEANO_CONTRACT
            #define THEANO_CONTRACT_BODY _Pragma("clang fp contract(fast)")
            #else
            #define THEANO_CONTRACT __attribute__((optimize("fp-contract=fast")))
            #define THEANO_CONTRACT_BODY
            #endif
            #endif
            #ifndef THEANO_SKINNY_\(suffix)
            #define THEANO_SKINNY_\(suffix)
            typedef \(t) \(vector) __attribute__((vector_size(32)));
            typedef \(t) theano_u\(suffix) __attribute__((vector_size(32), aligned(sizeof(\(t))), may_alias));
            static inline \(vector) theano_load_\(suffix)(const \(t) *p) { return *(const theano_u\(suffix) *)p; }
            static inline \(t) theano_hsum_\(suffix)(\(vector) v) {
                \(t) s = 0;
                for (int l = 0; l < \(lanes); ++l) s += v[l];
                return s;
            }
            static inline void theano_store_\(suffix)(\(t) *c, \(t) value, \(t) beta) { *c = beta == 0 ? value : value + beta * *c; }
            #endif

            """
        }

        var pack: String {
            """
            /// out[j * K + k] = B[k * sbk + j * sbn]: the right operand transposed, for the rows kernel.
            void theano_skinny_pack_\(suffix)(int64_t N, int64_t K, const void *B_, int64_t sbk, int64_t sbn, void *out_) {
                const \(t) *B = B_;
                \(t) *out = out_;
                for (int64_t j = 0; j < N; ++j)
                    for (int64_t k = 0; k < K; ++k) out[j * K + k] = B[k * sbk + j * sbn];
            }

            """
        }

        /// Two rows times five columns of the result, `k` a vector at a time.
        var rows: String {
            let body = (0..<width).map { c in "b = theano_load_\(suffix)(b\(c) + k); s0\(c) += x0 * b; s1\(c) += x1 * b;" }
            let sums = accumulators.map { r, c in "sum[\(r)][\(c)] = theano_hsum_\(suffix)(s\(r)\(c));" }
            return """
            /// Rows m0 ..< m1 of C = alpha * A * Bt' + beta * C, A's rows and Bt's rows (N of them) contiguous.
            THEANO_CONTRACT void theano_skinny_rows_\(suffix)(int64_t m0, int64_t m1, int64_t N, int64_t K, double alpha_, const void *A_,
                                                            int64_t lda, const void *Bt_, int64_t ldbt, double beta_, void *C_, int64_t ldc) {
                THEANO_CONTRACT_BODY
                const \(t) alpha = (\(t))alpha_, beta = (\(t))beta_, *A = A_, *Bt = Bt_;
                \(t) *C = C_;
                const int64_t vectorK = K - K % \(lanes);
                for (int64_t i = m0; i < m1; i += 2) {
                    const int rows = m1 - i < 2 ? (int)(m1 - i) : 2;
                    const \(t) *a0 = A + i * lda, *a1 = rows == 2 ? a0 + lda : a0;
                    for (int64_t j = 0; j < N; j += \(width)) {
                        const int cols = N - j < \(width) ? (int)(N - j) : \(width);
                        const \(t) *bs[\(width)];
                        for (int c = 0; c < \(width); ++c) bs[c] = Bt + (j + (c < cols ? c : 0)) * ldbt;
                        const \(t) \((0..<width).map { "*b\($0) = bs[\($0)]" }.joined(separator: ", "));
                        \(vector) \(zeros), x0, x1, b;
                        for (int64_t k = 0; k < vectorK; k += \(lanes)) {
                            x0 = theano_load_\(suffix)(a0 + k); x1 = theano_load_\(suffix)(a1 + k);
                            \(body.joined(separator: "\n                "))
                        }
                        \(t) sum[2][\(width)];
                        \(sums.joined(separator: " "))
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

            """
        }

        /// Two vectors of rows times five columns, one `k` at a time, broadcasting an element
        /// of the right operand per column.
        var columns: String {
            let broadcast = repeatElement("v", count: lanes).joined(separator: ", ")
            let body = (0..<width).map { c in
                "v = B[k * sbk + (j + (\(c) < cols ? \(c) : 0)) * sbn]; e = (\(vector)){\(broadcast)}; s0\(c) += x0 * e; s1\(c) += x1 * e;"
            }
            let grid = (0..<2).map { r in "{" + (0..<width).map { "s\(r)\($0)" }.joined(separator: ", ") + "}" }.joined(separator: ", ")
            return """
            /// Rows m0 ..< m1 of C = alpha * At' * B + beta * C, At stored K × M (rows of C contiguous in it),
            /// B(k, j) = B[k * sbk + j * sbn].
            THEANO_CONTRACT void theano_skinny_columns_\(suffix)(int64_t m0, int64_t m1, int64_t N, int64_t K, double alpha_, const void *At_,
                                                               int64_t ldat, const void *B_, int64_t sbk, int64_t sbn, double beta_, void *C_,
                                                               int64_t ldc) {
                THEANO_CONTRACT_BODY
                const \(t) alpha = (\(t))alpha_, beta = (\(t))beta_, *At = At_, *B = B_;
                \(t) *C = C_;
                int64_t i = m0;
                for (; i + \(2 * lanes) <= m1; i += \(2 * lanes)) {
                    for (int64_t j = 0; j < N; j += \(width)) {
                        const int cols = N - j < \(width) ? (int)(N - j) : \(width);
                        \(vector) \(zeros), x0, x1, e;
                        \(t) v;
                        for (int64_t k = 0; k < K; ++k) {
                            const \(t) *a = At + k * ldat + i;
                            x0 = theano_load_\(suffix)(a); x1 = theano_load_\(suffix)(a + \(lanes));
                            \(body.joined(separator: "\n                "))
                        }
                        const \(vector) sums[2][\(width)] = {\(grid)};
                        for (int r = 0; r < 2; ++r)
                            for (int c = 0; c < cols; ++c)
                                for (int l = 0; l < \(lanes); ++l)
                                    theano_store_\(suffix)(C + (i + r * \(lanes) + l) * ldc + j + c, alpha * sums[r][c][l], beta);
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
}

/// The ``SkinnyGemm`` kernels of a kernel module, for the dtypes of its graph's products.
struct SkinnyKernels {
    /// The kernels of one dtype, and the module they are in (kept loaded while they may be called).
    struct Routines {
        typealias Pack = @convention(c) (Int64, Int64, UnsafeRawPointer, Int64, Int64, UnsafeMutableRawPointer) -> Void
        typealias Rows = @convention(c) (Int64, Int64, Int64, Int64, Double, UnsafeRawPointer, Int64, UnsafeRawPointer, Int64, Double,
                                         UnsafeMutableRawPointer, Int64) -> Void
        typealias Columns = @convention(c) (Int64, Int64, Int64, Int64, Double, UnsafeRawPointer, Int64, UnsafeRawPointer, Int64,
                                            Int64, Double, UnsafeMutableRawPointer, Int64) -> Void
        let dtype: DType
        let pack: Pack
        let rows: Rows
        let columns: Columns
        let library: DynamicLibrary

        fileprivate init(dtype: DType, in library: DynamicLibrary) throws {
            let suffix = dtype == .float32 ? "f32" : "f64"
            self.dtype = dtype
            pack = try library.function("theano_skinny_pack_\(suffix)", as: Pack.self)
            rows = try library.function("theano_skinny_rows_\(suffix)", as: Rows.self)
            columns = try library.function("theano_skinny_columns_\(suffix)", as: Columns.self)
            self.library = library
        }
    }

    private let routines: [Routines]

    /// The kernels of `dtypes` in `library`; throws when it lacks one.
    init(in library: DynamicLibrary, dtypes: [DType]) throws {
        routines = try dtypes.map { try Routines(dtype: $0, in: library) }
    }

    /// The kernels for products of `dtype`, if the module has them.
    func routines(for dtype: DType) -> Routines? { routines.first { $0.dtype == dtype } }

    /// Products of fewer operations run on one thread; larger ones on the count the graph's
    /// ``ProductThreading`` has lately found faster for them. Lower than BLAS's threshold: the
    /// rows are split by ``parallelFor``, with no BLAS worker left spinning.
    static let smallProduct = 1e6
    /// The most threads a product is split over: the count the user gave BLAS
    /// (`OPENBLAS_NUM_THREADS`), if they did, else every core. Read once.
    static let threadLimit = Environment.openBLASThreads.flatMap { Int($0) } ?? cores

    /// Whether a product with `columns` result columns goes to these kernels.
    static func handles(columns: Int) -> Bool { (2...SkinnyGemm.maximumColumns).contains(columns) }
}

extension SkinnyKernels.Routines {
    /// `out = α·left·right + β·out` (`out` a contiguous m × n matrix), split into `threads`
    /// ranges of rows.
    func multiply(_ left: BlasOperand, _ right: BlasOperand, m: Int, n: Int, k: Int, alpha: Double, beta: Double,
                  into out: NDArray, threads: Int) {
        let transposedLeft = left.transpose == BLAS.transpose
        let block = SkinnyGemm.blockRows(dtype, transposedLeft: transposedLeft)
        let (sbk, sbn) = right.transpose == BLAS.noTranspose ? (Int64(right.leading), Int64(1)) : (Int64(1), Int64(right.leading))
        let (lda, m64, n64, k64) = (Int64(left.leading), Int64(m), Int64(n), Int64(k))
        /// Runs `range` over ranges of whole blocks.
        func split(_ range: (Int64, Int64) -> Void) {
            let blocks = (m + block - 1) / block
            guard threads > 1 else { return range(0, m64) }
            parallelFor(blocks, workPerItem: block * n * k) { first, end in range(Int64(first * block), Int64(Swift.min(end * block, m))) }
        }
        left.matrix.withUnsafeRawPointer { a in
            right.matrix.withUnsafeRawPointer { b in
                out.withUnsafeMutableRawPointer { c in
                    if transposedLeft {
                        split { columns($0, $1, n64, k64, alpha, a, lda, b, sbk, sbn, beta, c, n64) }
                    } else if sbk == 1 {
                        split { rows($0, $1, n64, k64, alpha, a, lda, b, sbn, beta, c, n64) }
                    } else {
                        let packed = UnsafeMutableRawPointer.allocate(byteCount: n * k * out.dtype.byteSize, alignment: 64)
                        defer { packed.deallocate() }
                        pack(n64, k64, b, sbk, sbn, packed)
                        split { rows($0, $1, n64, k64, alpha, a, lda, UnsafeRawPointer(packed), k64, beta, c, n64) }
                    }
                }
            }
        }
    }
}
