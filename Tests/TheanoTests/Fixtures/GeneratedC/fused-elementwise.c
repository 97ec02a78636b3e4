void kernel_0_flat(int64_t begin, int64_t end, const void *const *in, void *out_) {
    const float s0 = *(const float *)in[0];
    const float *restrict in1 = (const float *)in[1];
    const float *restrict in2 = (const float *)in[2];
    float *restrict out = (float *)out_;
    for (int64_t i = begin; i < end; ++i) {
        const float x0 = s0;
        const float x1 = in1[i];
        const float x2 = in2[i];
        const float v0 = (-x1);
        const float v1 = expf(v0);
        const float v2 = (x1 * x2);
        const float v3 = (v2 + x0);
        const float v4 = tanhf(v3);
        const float v5 = (v4 - v1);
        out[i] = v5;
    }
}

THEANO_SCALAR_LOOPS void kernel_0_strided(int ndim, const int64_t *shape, const int64_t *strides, int64_t begin, int64_t end, const void *const *in, void *out_) {
    const int64_t inner = ndim > 0 ? shape[ndim - 1] : 1;
    float *restrict out = (float *)out_;
    for (int64_t row = begin; row < end; ++row) {
        const float *p0 = (const float *)in[0];
        const int64_t step0 = ndim > 0 ? strides[0 * ndim + ndim - 1] : 0;
        const float *p1 = (const float *)in[1];
        const int64_t step1 = ndim > 0 ? strides[1 * ndim + ndim - 1] : 0;
        const float *p2 = (const float *)in[2];
        const int64_t step2 = ndim > 0 ? strides[2 * ndim + ndim - 1] : 0;
        int64_t rest = row;
        for (int d = ndim - 2; d >= 0; --d) {
            const int64_t index = rest % shape[d];
            rest /= shape[d];
            p0 += index * strides[0 * ndim + d];
            p1 += index * strides[1 * ndim + d];
            p2 += index * strides[2 * ndim + d];
        }
        float *o = out + row * inner;
        for (int64_t j = 0; j < inner; ++j) {
            const float x0 = p0[j * step0];
            const float x1 = p1[j * step1];
            const float x2 = p2[j * step2];
            const float v0 = (-x1);
            const float v1 = expf(v0);
            const float v2 = (x1 * x2);
            const float v3 = (v2 + x0);
            const float v4 = tanhf(v3);
            const float v5 = (v4 - v1);
            o[j] = v5;
        }
    }
}
