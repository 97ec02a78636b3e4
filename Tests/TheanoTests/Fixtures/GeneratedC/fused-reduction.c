void kernel_0(int64_t A, int64_t R, int64_t B, int64_t a0, int64_t a1, int64_t b0, int64_t b1, const void *const *in, void *out_) {
    const float *restrict in0 = (const float *)in[0];
    const float *restrict in1 = (const float *)in[1];
    float *restrict out = (float *)out_;
    if (B == 1) {
        for (int64_t a = a0; a < a1; ++a) {
            double acc = 0;
            for (int64_t r = 0; r < R; ++r) {
                const int64_t i = a * R + r;
                const float x0 = in0[i];
                const float x1 = in1[i];
                const float v0 = (x0 - x1);
                const float v1 = (v0 * v0);
                const double v = v1;
                acc = acc + v;
            }
            out[a] = (float)acc;
        }
        return;
    }
    double *partial = malloc(sizeof(double) * (size_t)(b1 - b0 > 0 ? b1 - b0 : 1));
    for (int64_t a = a0; a < a1; ++a) {
        for (int64_t b = b0; b < b1; ++b) {
            partial[b - b0] = 0;
        }
        for (int64_t r = 0; r < R; ++r) {
            for (int64_t b = b0; b < b1; ++b) {
                const int64_t i = (a * R + r) * B + b;
                const float x0 = in0[i];
                const float x1 = in1[i];
                const float v0 = (x0 - x1);
                const float v1 = (v0 * v0);
                const double v = v1;
                const double acc = partial[b - b0];
                partial[b - b0] = acc + v;
            }
        }
        for (int64_t b = b0; b < b1; ++b) {
            out[a * B + b] = (float)partial[b - b0];
        }
    }
    free(partial);
}
void kernel_0_parts(int64_t A, int64_t R, int64_t B, int64_t a0, int64_t a1, int64_t b0, int64_t b1, const void *const *in, void *out_) {
    const float *restrict in0 = (const float *)in[0];
    const float *restrict in1 = (const float *)in[1];
    double *restrict out = (double *)out_;
    if (B == 1) {
        for (int64_t a = a0; a < a1; ++a) {
            double acc = 0;
            for (int64_t r = 0; r < R; ++r) {
                const int64_t i = a * R + r;
                const float x0 = in0[i];
                const float x1 = in1[i];
                const float v0 = (x0 - x1);
                const float v1 = (v0 * v0);
                const double v = v1;
                acc = acc + v;
            }
            out[a] = (double)acc;
        }
        return;
    }
    double *partial = malloc(sizeof(double) * (size_t)(b1 - b0 > 0 ? b1 - b0 : 1));
    for (int64_t a = a0; a < a1; ++a) {
        for (int64_t b = b0; b < b1; ++b) {
            partial[b - b0] = 0;
        }
        for (int64_t r = 0; r < R; ++r) {
            for (int64_t b = b0; b < b1; ++b) {
                const int64_t i = (a * R + r) * B + b;
                const float x0 = in0[i];
                const float x1 = in1[i];
                const float v0 = (x0 - x1);
                const float v1 = (v0 * v0);
                const double v = v1;
                const double acc = partial[b - b0];
                partial[b - b0] = acc + v;
            }
        }
        for (int64_t b = b0; b < b1; ++b) {
            out[a * B + b] = (double)partial[b - b0];
        }
    }
    free(partial);
}
