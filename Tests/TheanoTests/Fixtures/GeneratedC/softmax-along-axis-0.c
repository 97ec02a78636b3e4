void kernel_0(int64_t A, int64_t R, int64_t B, int64_t a0, int64_t a1, int64_t b0, int64_t b1, const void *const *in, void *out_) {
    const void *in_ = in[0];
    for (int64_t a = a0; a < a1; ++a) {
        const double *restrict x = (const double *)in_ + a * R;
        double *restrict y = (double *)out_ + a * R;
        double peak = theano_max_double(x, R);
        if (isinf(peak) && peak < 0) {
            peak = 0;
        }
        for (int64_t j = 0; j < R; ++j) {
            y[j] = exp(x[j] - peak);
        }
        const double shift = peak + log(theano_sum_double(y, R));
        for (int64_t j = 0; j < R; ++j) {
            y[j] = x[j] - shift;
        }
    }
}

void kernel_1(int64_t A, int64_t R, int64_t B, int64_t a0, int64_t a1, int64_t b0, int64_t b1, const void *const *in, void *out_) {
    const void *in_ = in[0];
    if (B == 1) {
        for (int64_t a = a0; a < a1; ++a) {
            const double *restrict x = (const double *)in_ + a * R;
            double *restrict y = (double *)out_ + a * R;
            double peak = theano_max_double(x, R);
            if (isinf(peak) && peak < 0) {
                peak = 0;
            }
            for (int64_t j = 0; j < R; ++j) {
                y[j] = exp(x[j] - peak);
            }
            const double scale = 1 / theano_sum_double(y, R);
            for (int64_t j = 0; j < R; ++j) {
                y[j] *= scale;
            }
        }
        return;
    }
    double peak[256];
    double total[256];
    for (int64_t a = a0; a < a1; ++a) {
        for (int64_t first = b0; first < b1; first += 256) {
            const int64_t n = b1 - first < 256 ? b1 - first : 256;
            const double *restrict x = (const double *)in_ + a * R * B + first;
            double *restrict y = (double *)out_ + a * R * B + first;
            for (int64_t b = 0; b < n; ++b) {
                peak[b] = x[b];
            }
            for (int64_t r = 1; r < R; ++r) {
                for (int64_t b = 0; b < n; ++b) {
                    const double v = x[r * B + b];
                    peak[b] = (v > peak[b] || v != v) ? v : peak[b];
                }
            }
            for (int64_t b = 0; b < n; ++b) {
                if (isinf(peak[b]) && peak[b] < 0) {
                    peak[b] = 0;
                }
                total[b] = 0;
            }
            for (int64_t r = 0; r < R; ++r) {
                for (int64_t b = 0; b < n; ++b) {
                    const double e = exp(x[r * B + b] - peak[b]);
                    y[r * B + b] = e;
                    total[b] += e;
                }
            }
            for (int64_t b = 0; b < n; ++b) {
                total[b] = 1 / total[b];
            }
            for (int64_t r = 0; r < R; ++r) {
                for (int64_t b = 0; b < n; ++b) {
                    y[r * B + b] *= total[b];
                }
            }
        }
    }
}
