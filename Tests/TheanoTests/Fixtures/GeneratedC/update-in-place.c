void kernel_0_flat(int64_t begin, int64_t end, const void *const *in, void *out_) {
    const double *in0 = (const double *)in[0];
    const float s1 = *(const float *)in[1];
    const float *restrict in2 = (const float *)in[2];
    double *out = (double *)out_;
    THEANO_INDEPENDENT_ITERATIONS
    for (int64_t i = begin; i < end; ++i) {
        const double x0 = in0[i];
        const float x1 = s1;
        const float x2 = in2[i];
        const float v0 = (x2 * x2);
        const float v1 = (x1 * v0);
        const double v2 = ((double)v1);
        const double v3 = (x0 - v2);
        out[i] = v3;
    }
}

THEANO_SCALAR_LOOPS void kernel_0_strided(int ndim, const int64_t *shape, const int64_t *strides, int64_t begin, int64_t end, const void *const *in, void *out_) {
    const int64_t inner = ndim > 0 ? shape[ndim - 1] : 1;
    double *out = (double *)out_;
    for (int64_t row = begin; row < end; ++row) {
        const double *p0 = (const double *)in[0];
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
        double *o = out + row * inner;
        for (int64_t j = 0; j < inner; ++j) {
            const double x0 = p0[j * step0];
            const float x1 = p1[j * step1];
            const float x2 = p2[j * step2];
            const float v0 = (x2 * x2);
            const float v1 = (x1 * v0);
            const double v2 = ((double)v1);
            const double v3 = (x0 - v2);
            o[j] = v3;
        }
    }
}
