/// Philox4x32-10, the counter-based generator of Salmon, Moraes, Dror and Shaw ("Parallel
/// random numbers: as easy as 1, 2, 3", SC 2011), as JAX, cuRAND and NumPy's `Philox` use
/// it: 128 random bits are a function of a 128-bit counter and a 64-bit key, with no state
/// in between. A draw's element `k` is therefore computed from `(key, counter, k)` alone, in
/// any order, on any thread, by the reference backend or by generated C — bit for bit alike
/// (the prelude of generated C has the same function).
public enum Philox {
    /// The 128 bits for `counter` under `key`.
    @inlinable
    public static func block(counter: (UInt32, UInt32, UInt32, UInt32), key: (UInt32, UInt32)) -> (UInt32, UInt32, UInt32, UInt32) {
        var (c0, c1, c2, c3) = counter
        var (k0, k1) = key
        for round in 0..<10 {
            if round > 0 { (k0, k1) = (k0 &+ 0x9E37_79B9, k1 &+ 0xBB67_AE85) }
            let p0 = UInt64(0xD251_1F53) &* UInt64(c0), p1 = UInt64(0xCD9E_8D57) &* UInt64(c2)
            (c0, c1, c2, c3) = (UInt32(truncatingIfNeeded: p1 >> 32) ^ c1 ^ k0, UInt32(truncatingIfNeeded: p1),
                                UInt32(truncatingIfNeeded: p0 >> 32) ^ c3 ^ k1, UInt32(truncatingIfNeeded: p0))
        }
        return (c0, c1, c2, c3)
    }

    /// The key of draw `draw` of a stream seeded with `seed` (SplitMix64 of both, so nearby
    /// seeds and draws give unrelated keys).
    @inlinable
    public static func key(seed: UInt64, draw: UInt64) -> (UInt32, UInt32) {
        var z = seed ^ (draw &* 0x9E37_79B9_7F4A_7C15)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return (UInt32(truncatingIfNeeded: z), UInt32(truncatingIfNeeded: z >> 32))
    }
}

/// `Philox.block(counter:key:)` in C for the prelude of generated modules: `theano_philox`
/// for one block, and `theano_philox8` for eight blocks at once, their words stored word by
/// word (`c[word][block]`) — with AVX2 four 32×32→64-bit products per instruction, the same
/// bits as eight calls of `theano_philox`.
package let philoxCSource = """
    static inline void theano_philox(uint32_t c[4], uint32_t k0, uint32_t k1) {
        for (int round = 0; round < 10; ++round) {
            if (round > 0) { k0 += 0x9E3779B9u; k1 += 0xBB67AE85u; }
            const uint64_t p0 = (uint64_t)0xD2511F53u * c[0], p1 = (uint64_t)0xCD9E8D57u * c[2];
            const uint32_t n0 = (uint32_t)(p1 >> 32) ^ c[1] ^ k0, n1 = (uint32_t)p1;
            const uint32_t n2 = (uint32_t)(p0 >> 32) ^ c[3] ^ k1, n3 = (uint32_t)p0;
            c[0] = n0; c[1] = n1; c[2] = n2; c[3] = n3;
        }
    }
    #if defined(__AVX2__)
    #include <immintrin.h>
    static inline void theano_philox8(uint32_t c[4][8], uint32_t k0, uint32_t k1) {
        __m256i x0 = _mm256_loadu_si256((const __m256i *)c[0]), x1 = _mm256_loadu_si256((const __m256i *)c[1]);
        __m256i x2 = _mm256_loadu_si256((const __m256i *)c[2]), x3 = _mm256_loadu_si256((const __m256i *)c[3]);
        const __m256i m0 = _mm256_set1_epi32((int)0xD2511F53u), m1 = _mm256_set1_epi32((int)0xCD9E8D57u);
        for (int round = 0; round < 10; ++round) {
            if (round > 0) { k0 += 0x9E3779B9u; k1 += 0xBB67AE85u; }
            /* Products of the even lanes, and of the odd ones moved down; then each half back in place. */
            const __m256i p0e = _mm256_mul_epu32(x0, m0), p0o = _mm256_mul_epu32(_mm256_srli_epi64(x0, 32), m0);
            const __m256i p1e = _mm256_mul_epu32(x2, m1), p1o = _mm256_mul_epu32(_mm256_srli_epi64(x2, 32), m1);
            const __m256i hi0 = _mm256_blend_epi32(_mm256_srli_epi64(p0e, 32), p0o, 0xAA);
            const __m256i lo0 = _mm256_blend_epi32(p0e, _mm256_slli_epi64(p0o, 32), 0xAA);
            const __m256i hi1 = _mm256_blend_epi32(_mm256_srli_epi64(p1e, 32), p1o, 0xAA);
            const __m256i lo1 = _mm256_blend_epi32(p1e, _mm256_slli_epi64(p1o, 32), 0xAA);
            x0 = _mm256_xor_si256(_mm256_xor_si256(hi1, x1), _mm256_set1_epi32((int)k0));
            x1 = lo1;
            x2 = _mm256_xor_si256(_mm256_xor_si256(hi0, x3), _mm256_set1_epi32((int)k1));
            x3 = lo0;
        }
        _mm256_storeu_si256((__m256i *)c[0], x0);
        _mm256_storeu_si256((__m256i *)c[1], x1);
        _mm256_storeu_si256((__m256i *)c[2], x2);
        _mm256_storeu_si256((__m256i *)c[3], x3);
    }
    #else
    static inline void theano_philox8(uint32_t c[4][8], uint32_t k0, uint32_t k1) {
        for (int j = 0; j < 8; ++j) {
            uint32_t w[4] = {c[0][j], c[1][j], c[2][j], c[3][j]};
            theano_philox(w, k0, k1);
            c[0][j] = w[0]; c[1][j] = w[1]; c[2][j] = w[2]; c[3][j] = w[3];
        }
    }
    #endif
    """
