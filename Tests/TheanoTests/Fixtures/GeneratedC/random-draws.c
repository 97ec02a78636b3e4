void kernel_0(int64_t begin, int64_t end, const void *const *in, void *out_) {
    const uint64_t draw = (uint64_t)((const int64_t *)in[0])[0];
    const int64_t *state = (const int64_t *)in[1];
    uint32_t k0;
    uint32_t k1;
    theano_philox_key((uint64_t)state[0], draw, &k0, &k1);
    const uint64_t call = (uint64_t)state[1];
    double *restrict out = (double *)out_;
    int64_t first = (begin + 7) / 8;
    int64_t last = end / 8;
    if (first > last) {
        first = begin / 8;
        last = first;
    }
    for (int64_t k = begin; k < (first * 8 < end ? first * 8 : end); ++k) {
        const int64_t slot = k % 8 / 8;
        const uint64_t block = (uint64_t)(k / 8 * 8 + k % 8);
        uint32_t w[4] = {(uint32_t)block, (uint32_t)(block >> 32), (uint32_t)call, (uint32_t)(call >> 32)};
        theano_philox(w, k0, k1);
        out[k] = sqrt(-2.0 * theano_exact_log(((double)(((uint64_t)w[4 * slot + 0] << 21) | (w[4 * slot + 1] >> 11)) + 1) * 0x1p-53)) * theano_exact_cos(0x1.921fb54442d18p+2 * ((double)(((uint64_t)w[4 * slot + 2] << 21) | (w[4 * slot + 3] >> 11)) * 0x1p-53));
    }
    for (int64_t g = first; g < last; ++g) {
        uint32_t c[4][8];
        for (int j = 0; j < 8; ++j) {
            const uint64_t block = (uint64_t)g * 8 + (uint64_t)j;
            c[0][j] = (uint32_t)block;
            c[1][j] = (uint32_t)(block >> 32);
            c[2][j] = (uint32_t)call;
            c[3][j] = (uint32_t)(call >> 32);
        }
        theano_philox8(c, k0, k1);
        for (int j = 0; j < 8; ++j) {
            out[g * 8 + 0 + j] = sqrt(-2.0 * theano_exact_log(((double)(((uint64_t)c[0][j] << 21) | (c[1][j] >> 11)) + 1) * 0x1p-53)) * theano_exact_cos(0x1.921fb54442d18p+2 * ((double)(((uint64_t)c[2][j] << 21) | (c[3][j] >> 11)) * 0x1p-53));
        }
    }
    for (int64_t k = (last * 8 > begin ? last * 8 : begin); k < end; ++k) {
        const int64_t slot = k % 8 / 8;
        const uint64_t block = (uint64_t)(k / 8 * 8 + k % 8);
        uint32_t w[4] = {(uint32_t)block, (uint32_t)(block >> 32), (uint32_t)call, (uint32_t)(call >> 32)};
        theano_philox(w, k0, k1);
        out[k] = sqrt(-2.0 * theano_exact_log(((double)(((uint64_t)w[4 * slot + 0] << 21) | (w[4 * slot + 1] >> 11)) + 1) * 0x1p-53)) * theano_exact_cos(0x1.921fb54442d18p+2 * ((double)(((uint64_t)w[4 * slot + 2] << 21) | (w[4 * slot + 3] >> 11)) * 0x1p-53));
    }
}

void kernel_1(int64_t begin, int64_t end, const void *const *in, void *out_) {
    const uint64_t draw = (uint64_t)((const int64_t *)in[0])[0];
    const int64_t *state = (const int64_t *)in[1];
    uint32_t k0;
    uint32_t k1;
    theano_philox_key((uint64_t)state[0], draw, &k0, &k1);
    const uint64_t call = (uint64_t)state[1];
    float *restrict out = (float *)out_;
    int64_t first = (begin + 31) / 32;
    int64_t last = end / 32;
    if (first > last) {
        first = begin / 32;
        last = first;
    }
    for (int64_t k = begin; k < (first * 32 < end ? first * 32 : end); ++k) {
        const int64_t slot = k % 32 / 8;
        const uint64_t block = (uint64_t)(k / 32 * 8 + k % 8);
        uint32_t w[4] = {(uint32_t)block, (uint32_t)(block >> 32), (uint32_t)call, (uint32_t)(call >> 32)};
        theano_philox(w, k0, k1);
        out[k] = (float)(w[1 * slot + 0] >> 8) * 0x1p-24f;
    }
    for (int64_t g = first; g < last; ++g) {
        uint32_t c[4][8];
        for (int j = 0; j < 8; ++j) {
            const uint64_t block = (uint64_t)g * 8 + (uint64_t)j;
            c[0][j] = (uint32_t)block;
            c[1][j] = (uint32_t)(block >> 32);
            c[2][j] = (uint32_t)call;
            c[3][j] = (uint32_t)(call >> 32);
        }
        theano_philox8(c, k0, k1);
        for (int j = 0; j < 8; ++j) {
            out[g * 32 + 0 + j] = (float)(c[0][j] >> 8) * 0x1p-24f;
        }
        for (int j = 0; j < 8; ++j) {
            out[g * 32 + 8 + j] = (float)(c[1][j] >> 8) * 0x1p-24f;
        }
        for (int j = 0; j < 8; ++j) {
            out[g * 32 + 16 + j] = (float)(c[2][j] >> 8) * 0x1p-24f;
        }
        for (int j = 0; j < 8; ++j) {
            out[g * 32 + 24 + j] = (float)(c[3][j] >> 8) * 0x1p-24f;
        }
    }
    for (int64_t k = (last * 32 > begin ? last * 32 : begin); k < end; ++k) {
        const int64_t slot = k % 32 / 8;
        const uint64_t block = (uint64_t)(k / 32 * 8 + k % 8);
        uint32_t w[4] = {(uint32_t)block, (uint32_t)(block >> 32), (uint32_t)call, (uint32_t)(call >> 32)};
        theano_philox(w, k0, k1);
        out[k] = (float)(w[1 * slot + 0] >> 8) * 0x1p-24f;
    }
}

void kernel_2_flat(int64_t begin, int64_t end, const void *const *in, void *out_) {
    const int64_t *in0 = (const int64_t *)in[0];
    const int64_t *restrict in1 = (const int64_t *)in[1];
    int64_t *out = (int64_t *)out_;
    THEANO_INDEPENDENT_ITERATIONS
    for (int64_t i = begin; i < end; ++i) {
        const int64_t x0 = in0[i];
        const int64_t x1 = in1[i];
        const int64_t v0 = (x0 + x1);
        out[i] = v0;
    }
}

THEANO_SCALAR_LOOPS void kernel_2_strided(int ndim, const int64_t *shape, const int64_t *strides, int64_t begin, int64_t end, const void *const *in, void *out_) {
    const int64_t inner = ndim > 0 ? shape[ndim - 1] : 1;
    int64_t *out = (int64_t *)out_;
    for (int64_t row = begin; row < end; ++row) {
        const int64_t *p0 = (const int64_t *)in[0];
        const int64_t step0 = ndim > 0 ? strides[0 * ndim + ndim - 1] : 0;
        const int64_t *p1 = (const int64_t *)in[1];
        const int64_t step1 = ndim > 0 ? strides[1 * ndim + ndim - 1] : 0;
        int64_t rest = row;
        for (int d = ndim - 2; d >= 0; --d) {
            const int64_t index = rest % shape[d];
            rest /= shape[d];
            p0 += index * strides[0 * ndim + d];
            p1 += index * strides[1 * ndim + d];
        }
        int64_t *o = out + row * inner;
        for (int64_t j = 0; j < inner; ++j) {
            const int64_t x0 = p0[j * step0];
            const int64_t x1 = p1[j * step1];
            const int64_t v0 = (x0 + x1);
            o[j] = v0;
        }
    }
}
