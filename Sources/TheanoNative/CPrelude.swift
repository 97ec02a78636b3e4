import TheanoCore
import TheanoOps

/// The C text every generated module starts with: headers, vector-math declarations, and
/// the helpers whose semantics need more than an expression (NumPy's integer division and
/// remainder, stable sigmoid and softplus).
enum CPrelude {
    /// Math functions glibc's vector library (libmvec) provides in SIMD form. Declaring
    /// them `simd` lets GCC vectorize loops that call them; `-fno-math-errno` is enough,
    /// no `-ffast-math` (whose flush-to-zero and NaN folding would change results).
    static let vectorMath = [
        "exp", "expm1", "log", "log1p", "log2", "log10", "sin", "cos", "tan", "asin", "acos", "atan", "atan2",
        "sinh", "cosh", "tanh", "erf", "erfc", "pow",
    ]

    /// The prelude of a module of `kernels`. The random-draw helpers come only with kernels
    /// that call them: Philox's AVX2 form includes `<immintrin.h>`, whose parsing alone took
    /// GCC 12 0.6 s per translation unit.
    package static func text(vectorizeMath: Bool, kernels: [String]) -> String {
        var lines = ["#include <math.h>", "#include <stdint.h>", "#include <stddef.h>", "#include <stdlib.h>", ""]
        if vectorizeMath {
            for name in vectorMath {
                let binary = name == "atan2" || name == "pow"
                lines.append("double \(name)(double\(binary ? ", double" : "")) __attribute__((simd(\"notinbranch\")));")
                lines.append("float \(name)f(float\(binary ? ", float" : "")) __attribute__((simd(\"notinbranch\")));")
            }
            lines.append("")
        }
        lines.append(helpers)
        lines.append(erfinvCSource)
        if kernels.contains(where: { kernel in randomHelperPrefixes.contains { ByteSearch.contains($0, in: kernel) } }) { lines.append(randomHelpers) }
        return lines.joined(separator: "\n")
    }

    /// The names the random-draw helpers start with.
    private static let randomHelperPrefixes = ["theano_philox", "theano_portable_", "theano_exact_"]

    /// Philox and its key (``Philox``), the portable logarithm and cosine of float32 normal
    /// draws, and the C library's float64 ones called through functions the compiler may not
    /// inline, so that no loop calls a vector-library variant, whose last bits differ from the
    /// scalar functions the reference implementation calls.
    private static let randomHelpers = philoxCSource + "\n" + portableMathCSource + #"""

    static inline void theano_philox_key(uint64_t seed, uint64_t draw, uint32_t *k0, uint32_t *k1) {
        uint64_t z = seed ^ (draw * UINT64_C(0x9E3779B97F4A7C15));
        z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
        z ^= z >> 31;
        *k0 = (uint32_t)z;
        *k1 = (uint32_t)(z >> 32);
    }
    __attribute__((noinline, unused)) static double theano_exact_log(double x) { return log(x); }
    __attribute__((noinline, unused)) static double theano_exact_cos(double x) { return cos(x); }
    """#

    private static let helpers = #"""
    /* Loop annotations: iterations that are independent although their pointers may alias
       (an element read and written at the same index), and functions whose loops stay scalar. */
    #if defined(__clang__)
    #define THEANO_INDEPENDENT_ITERATIONS _Pragma("clang loop vectorize(assume_safety)")
    #define THEANO_SCALAR_LOOPS
    #elif defined(__GNUC__)
    #define THEANO_INDEPENDENT_ITERATIONS _Pragma("GCC ivdep")
    #define THEANO_SCALAR_LOOPS __attribute__((optimize("no-tree-vectorize")))
    #else
    #define THEANO_INDEPENDENT_ITERATIONS
    #define THEANO_SCALAR_LOOPS
    #endif

    /* `take ? a : b` without a branch, for selections on unpredictable data (pooling's argmax). */
    #define THEANO_SELECT(T, BITS) \
    static inline T theano_select_##T(int take, T a, T b) { \
        BITS x, y, mask = -(BITS)(take != 0); \
        __builtin_memcpy(&x, &a, sizeof x); __builtin_memcpy(&y, &b, sizeof y); \
        x = (x & mask) | (y & ~mask); \
        __builtin_memcpy(&a, &x, sizeof a); \
        return a; \
    }
    THEANO_SELECT(float, uint32_t)
    THEANO_SELECT(double, uint64_t)
    static inline int64_t theano_select_index(int take, int64_t a, int64_t b) { return (a & -(int64_t)(take != 0)) | (b & ~-(int64_t)(take != 0)); }

    static inline float theano_sigmoidf(float x) { return x >= 0 ? 1.0f / (1.0f + expf(-x)) : expf(x) / (1.0f + expf(x)); }
    static inline double theano_sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x)); }
    static inline float theano_softplusf(float x) { return x > 0 ? x + log1pf(expf(-x)) : log1pf(expf(x)); }
    static inline double theano_softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

    /* NumPy's divmod for floats: fmod's remainder moved to the divisor's sign, the quotient snapped. */
    #define THEANO_FLOAT_DIVMOD(T, S, FMOD, FLOOR, COPYSIGN) \
    static inline T theano_floordiv_##S(T a, T b) { \
        if (b == 0) return a / b; \
        T mod = FMOD(a, b), div = (a - mod) / b; \
        if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1; \
        if (div == 0) return COPYSIGN((T)0, a / b); \
        T floored = FLOOR(div); \
        return div - floored > (T)0.5 ? floored + 1 : floored; \
    } \
    static inline T theano_mod_##S(T a, T b) { \
        T mod = FMOD(a, b); \
        if (b == 0) return mod; \
        if (mod != 0) { if ((b < 0) != (mod < 0)) mod += b; } else mod = COPYSIGN((T)0, b); \
        return mod; \
    }
    THEANO_FLOAT_DIVMOD(float, f32, fmodf, floorf, copysignf)
    THEANO_FLOAT_DIVMOD(double, f64, fmod, floor, copysign)

    /* Integers: floor division and remainder with the divisor's sign; by zero gives 0. */
    #define THEANO_INT_DIVMOD(T, S, SIGNED) \
    static inline T theano_floordiv_##S(T a, T b) { \
        if (b == 0) return 0; \
        if (SIGNED && b == (T)-1) return (T)(0 - a); \
        T q = a / b, r = a % b; \
        return (r != 0 && ((r < 0) != (b < 0))) ? q - 1 : q; \
    } \
    static inline T theano_mod_##S(T a, T b) { \
        if (b == 0 || (SIGNED && b == (T)-1)) return 0; \
        T r = a % b; \
        return (r != 0 && ((r < 0) != (b < 0))) ? (T)(r + b) : r; \
    } \
    static inline T theano_pow_##S(T a, T b) { \
        if (b < 0) return a == 1 ? 1 : (SIGNED && a == (T)-1) ? ((b & 1) == 0 ? 1 : a) : 0; \
        T result = 1; \
        while (b > 0) { if (b & 1) result = (T)(result * a); a = (T)(a * a); b >>= 1; } \
        return result; \
    }
    THEANO_INT_DIVMOD(int8_t, i8, 1)
    THEANO_INT_DIVMOD(int16_t, i16, 1)
    THEANO_INT_DIVMOD(int32_t, i32, 1)
    THEANO_INT_DIVMOD(int64_t, i64, 1)
    THEANO_INT_DIVMOD(uint8_t, u8, 0)

    /* The sum and the maximum (NaN if any element is NaN) of a contiguous run, in 8 lanes. */
    #define THEANO_LANE_REDUCTIONS(T) \
    static inline T theano_sum_##T(const T *x, int64_t n) { \
        T lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0}; \
        int64_t j = 0; \
        for (; j + 8 <= n; j += 8) for (int l = 0; l < 8; ++l) lanes[l] += x[j + l]; \
        T total = 0; \
        for (int l = 0; l < 8; ++l) total += lanes[l]; \
        for (; j < n; ++j) total += x[j]; \
        return total; \
    } \
    static inline T theano_max_##T(const T *x, int64_t n) { \
        T lanes[8]; \
        for (int l = 0; l < 8; ++l) lanes[l] = x[0]; \
        int nan = 0; \
        int64_t j = 0; \
        for (; j + 8 <= n; j += 8) for (int l = 0; l < 8; ++l) { T v = x[j + l]; nan |= v != v; lanes[l] = v > lanes[l] ? v : lanes[l]; } \
        T peak = lanes[0]; \
        for (int l = 1; l < 8; ++l) peak = lanes[l] > peak ? lanes[l] : peak; \
        for (; j < n; ++j) { T v = x[j]; nan |= v != v; peak = v > peak ? v : peak; } \
        return nan ? (T)NAN : peak; \
    }
    THEANO_LANE_REDUCTIONS(float)
    THEANO_LANE_REDUCTIONS(double)
    """#
}
