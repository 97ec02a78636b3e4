import TheanoCore

/// Softmax and log-softmax in C along any axis. The input is read as `[A, R, B]`, `R` the
/// axis: per distribution the maximum, the exponentials and their sum (vectorized through
/// libmvec under GCC), then the normalization. Along the last axis (`B = 1`) each
/// distribution is a contiguous row; along another, the kernel walks blocks of up to 256
/// neighbouring distributions together, so every pass reads contiguous memory.
package enum SoftmaxKernel {
    /// How many distributions along `B` one pass handles (their running maxima and sums
    /// live on the stack).
    package static let block = 256

    package static func source(name: String, dtype: DType, logarithm: Bool) -> String? {
        guard dtype.isFloat else { return nil }
        let t = dtype.cType.rawValue, suffix = dtype == .float32 ? "f" : ""
        // Sums and maxima of rows run in 8 interleaved lanes so the loops vectorize without
        // reassociating anything the compiler could not prove safe.
        let rowBody = logarithm
            ? """
                        for (int64_t j = 0; j < R; ++j) y[j] = exp\(suffix)(x[j] - peak);
                        const \(t) shift = peak + log\(suffix)(theano_sum_\(t)(y, R));
                        for (int64_t j = 0; j < R; ++j) y[j] = x[j] - shift;
              """
            : """
                        for (int64_t j = 0; j < R; ++j) y[j] = exp\(suffix)(x[j] - peak);
                        const \(t) scale = 1 / theano_sum_\(t)(y, R);
                        for (int64_t j = 0; j < R; ++j) y[j] *= scale;
              """
        let columnNormalization = logarithm
            ? """
                            for (int64_t b = 0; b < n; ++b) total[b] = peak[b] + log\(suffix)(total[b]);
                            for (int64_t r = 0; r < R; ++r)
                                for (int64_t b = 0; b < n; ++b) y[r * B + b] = x[r * B + b] - total[b];
              """
            : """
                            for (int64_t b = 0; b < n; ++b) total[b] = 1 / total[b];
                            for (int64_t r = 0; r < R; ++r)
                                for (int64_t b = 0; b < n; ++b) y[r * B + b] *= total[b];
              """
        return """
            void \(name)(int64_t A, int64_t R, int64_t B, int64_t a0, int64_t a1, int64_t b0, int64_t b1, const void *const *in, void *out_) {
                const void *in_ = in[0];
                if (B == 1) {
                    for (int64_t a = a0; a < a1; ++a) {
                        const \(t) *restrict x = (const \(t) *)in_ + a * R;
                        \(t) *restrict y = (\(t) *)out_ + a * R;
                        \(t) peak = theano_max_\(t)(x, R);
                        if (isinf(peak) && peak < 0) peak = 0;
            \(rowBody)
                    }
                    return;
                }
                \(t) peak[\(block)], total[\(block)];
                for (int64_t a = a0; a < a1; ++a) {
                    for (int64_t first = b0; first < b1; first += \(block)) {
                        const int64_t n = b1 - first < \(block) ? b1 - first : \(block);
                        const \(t) *restrict x = (const \(t) *)in_ + a * R * B + first;
                        \(t) *restrict y = (\(t) *)out_ + a * R * B + first;
                        for (int64_t b = 0; b < n; ++b) peak[b] = x[b];
                        for (int64_t r = 1; r < R; ++r)
                            for (int64_t b = 0; b < n; ++b) {
                                const \(t) v = x[r * B + b];
                                peak[b] = (v > peak[b] || v != v) ? v : peak[b];
                            }
                        for (int64_t b = 0; b < n; ++b) {
                            if (isinf(peak[b]) && peak[b] < 0) peak[b] = 0;
                            total[b] = 0;
                        }
                        for (int64_t r = 0; r < R; ++r)
                            for (int64_t b = 0; b < n; ++b) {
                                const \(t) e = exp\(suffix)(x[r * B + b] - peak[b]);
                                \(logarithm ? "" : "y[r * B + b] = e;")
                                total[b] += e;
                            }
            \(columnNormalization)
                    }
                }
            }
            """
    }
}

/// Softmax and log-softmax share their kernel; it differs only in what it writes.
package protocol SoftmaxKernelOp: NormalizingExponentialOp, CAxisKernelOp {}

extension SoftmaxKernelOp {
    package func kernelAxes(_ node: Apply) -> Range<Int>? { axis..<(axis + 1) }

    package func cAxisKernel(name: String, node: Apply) -> String? {
        SoftmaxKernel.source(name: name, dtype: node.outputTypes[0].dtype, logarithm: writesLogarithm)
    }

    package func kernelOutputShape(_ shape: [Int]) throws -> [Int] { shape }

    /// An exponential per element.
    package var workPerElement: Int { 4 }
}

extension Softmax: SoftmaxKernelOp {}
extension LogSoftmax: SoftmaxKernelOp {}
