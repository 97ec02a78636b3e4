import TheanoCore
import TheanoOps

/// C matrix products with the CBLAS calling convention, compiled into the kernel module
/// when no BLAS library can be loaded: blocked so a panel of the right operand stays in
/// cache, and vectorized by the compiler along rows.
enum CFallbackGemm {
    package static let source = #"""
    #include <stdlib.h>
    #include <string.h>
    #define THEANO_GEMM(T, NAME) \
    void NAME(int order, int transA, int transB, int M, int N, int K, T alpha, const T *A, int lda, \
              const T *B, int ldb, T beta, T *C, int ldc) { \
        (void)order; \
        for (int i = 0; i < M; ++i) \
            for (int j = 0; j < N; ++j) C[(int64_t)i * ldc + j] = beta == 0 ? (T)0 : beta * C[(int64_t)i * ldc + j]; \
        const int panel = 256; \
        T *packed = malloc(sizeof(T) * (size_t)panel * (size_t)(N > 0 ? N : 1)); \
        for (int p0 = 0; p0 < K; p0 += panel) { \
            const int p1 = p0 + panel < K ? p0 + panel : K; \
            for (int p = p0; p < p1; ++p) \
                for (int j = 0; j < N; ++j) \
                    packed[(int64_t)(p - p0) * N + j] = transB == 111 ? B[(int64_t)p * ldb + j] : B[(int64_t)j * ldb + p]; \
            for (int i = 0; i < M; ++i) { \
                T *restrict row = C + (int64_t)i * ldc; \
                for (int p = p0; p < p1; ++p) { \
                    const T a = alpha * (transA == 111 ? A[(int64_t)i * lda + p] : A[(int64_t)p * lda + i]); \
                    const T *restrict source = packed + (int64_t)(p - p0) * N; \
                    for (int j = 0; j < N; ++j) row[j] += a * source[j]; \
                } \
            } \
        } \
        free(packed); \
    }
    THEANO_GEMM(float, theano_sgemm)
    THEANO_GEMM(double, theano_dgemm)
    """#
}
