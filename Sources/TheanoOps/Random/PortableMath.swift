/// The logarithm and the cosine that float32 normal draws use, written once here in Swift and
/// once below in C with the same operations in the same order (IEEE float arithmetic, no
/// library call, no fused multiply-add), so that the reference and generated C give the same
/// bits — and the C loop vectorizes, which calls into the C library would not allow without
/// changing the last bits. Within 2 ulp of the exact values on every input a draw makes.
/// Every value is computed before it is selected (no float operation under a condition), so
/// the C loop needs no branch.

/// The natural logarithm of `x` in `(0, 1]`: `x = 2ᵉ·f` with `f` in `[√½, √2)`, and
/// `log f = 2·atanh(s)`, `s = (f − 1)/(f + 1)`, by its series to `s⁹`.
func portableLog(_ x: Float) -> Float {
    var e = Int32(x.bitPattern >> 23) - 127
    var f = Float(bitPattern: (x.bitPattern & 0x7f_ffff) | 0x3f80_0000)
    let big = f > 0x1.6a09e6p+0
    f = f * (big ? 0.5 : 1)
    e += big ? 1 : 0
    let s = (f - 1) / (f + 1), z = s * s
    let p = s * (2 + z * (0x1.555556p-1 + z * (0x1.99999ap-2 + z * (0x1.24924ap-2 + z * 0x1.c71c72p-3))))
    return Float(e) * 0x1.62e4p-1 + (Float(e) * 0x1.7f7d1cp-20 + p)
}

/// `cos(2πv)` for `v` in `[0, 1)`: folded to a quarter turn, then the Taylor series of the
/// cosine to `θ¹²`.
func portableCos2Pi(_ v: Float) -> Float {
    let a = abs(v - 0.5)
    let far = a > 0.25
    let folded = 0.5 - a, r = far ? folded : a
    let theta = r * 0x1.921fb6p+2, q = theta * theta
    let c = 1 + q * (-0.5 + q * (0x1.555556p-5 + q * (-0x1.6c16c2p-10 + q * (0x1.a01a02p-16 + q * (-0x1.27e4fcp-22 + q * 0x1.1ee9f8p-29)))))
    let negated = -c
    return far ? c : negated
}

/// ``portableLog(_:)`` and ``portableCos2Pi(_:)`` in C, for the prelude of generated modules.
package let portableMathCSource = """
    static inline float theano_portable_logf(float x) {
        union { float f; uint32_t u; } bits = {.f = x}, mantissa;
        int32_t e = (int32_t)(bits.u >> 23) - 127;
        mantissa.u = (bits.u & 0x7fffffu) | 0x3f800000u;
        float f = mantissa.f;
        const int big = f > 0x1.6a09e6p+0f;
        f = f * (big ? 0.5f : 1.0f);
        e += big ? 1 : 0;
        const float s = (f - 1.0f) / (f + 1.0f), z = s * s;
        const float p = s * (2.0f + z * (0x1.555556p-1f + z * (0x1.99999ap-2f + z * (0x1.24924ap-2f + z * 0x1.c71c72p-3f))));
        return (float)e * 0x1.62e4p-1f + ((float)e * 0x1.7f7d1cp-20f + p);
    }
    static inline float theano_portable_cos2pif(float v) {
        const float a = fabsf(v - 0.5f);
        const int far = a > 0.25f;
        const float folded = 0.5f - a, r = far ? folded : a;
        const float theta = r * 0x1.921fb6p+2f, q = theta * theta;
        const float c = 1.0f + q * (-0.5f + q * (0x1.555556p-5f + q * (-0x1.6c16c2p-10f + q * (0x1.a01a02p-16f
            + q * (-0x1.27e4fcp-22f + q * 0x1.1ee9f8p-29f)))));
        const float negated = -c;
        return far ? c : negated;
    }
    """
