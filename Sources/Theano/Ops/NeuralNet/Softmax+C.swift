/// Row-wise softmax and log-softmax in C: per row, the maximum, the exponentials and their
/// sum (vectorized through libmvec under GCC), then the normalization. Rows are split
/// across cores.
enum RowSoftmaxKernel {
    typealias Function = @convention(c) (Int64, Int64, Int64, UnsafeRawPointer, UnsafeMutableRawPointer) -> Void

    static func source(name: String, dtype: DType, logarithm: Bool) -> String? {
        guard dtype.isFloat else { return nil }
        let t = dtype.cType.rawValue, suffix = dtype == .float32 ? "f" : ""
        // Sums and maxima run in 8 interleaved lanes so the loops vectorize without
        // reassociating anything the compiler could not prove safe.
        let body = logarithm
            ? """
                    for (int64_t j = 0; j < cols; ++j) y[j] = exp\(suffix)(x[j] - peak);
                    const \(t) shift = peak + log\(suffix)(theano_sum_\(t)(y, cols));
                    for (int64_t j = 0; j < cols; ++j) y[j] = x[j] - shift;
              """
            : """
                    for (int64_t j = 0; j < cols; ++j) y[j] = exp\(suffix)(x[j] - peak);
                    const \(t) scale = 1 / theano_sum_\(t)(y, cols);
                    for (int64_t j = 0; j < cols; ++j) y[j] *= scale;
              """
        return """
            void \(name)(int64_t cols, int64_t begin, int64_t end, const void *in_, void *out_) {
                for (int64_t row = begin; row < end; ++row) {
                    const \(t) *restrict x = (const \(t) *)in_ + row * cols;
                    \(t) *restrict y = (\(t) *)out_ + row * cols;
                    \(t) peak = theano_max_\(t)(x, cols);
                    if (isinf(peak) && peak < 0) peak = 0;
            \(body)
                }
            }
            """
    }

    static func run(_ x: NDArray, library: DynamicLibrary, name: String, recycler: OutputRecycler) throws -> NDArray {
        let kernel = try library.function(name, as: Function.self)
        let out = recycler.array(x.shape, dtype: x.dtype)
        let cols = x.shape.last!
        guard cols > 0, x.count > 0 else { return out }
        out.withUnsafeMutableRawPointer { output in
            x.contiguous().withUnsafeRawPointer { input in
                parallelFor(x.count / cols, workPerItem: cols * 4) { begin, end in kernel(Int64(cols), Int64(begin), Int64(end), input, output) }
            }
        }
        return out
    }
}

/// Softmax and log-softmax share their kernel; it differs only in what it writes.
protocol RowSoftmaxOp: CKernelOp {
    var writesLogarithm: Bool { get }
}

extension RowSoftmaxOp {
    func cKernel(name: String, node: Apply) -> String? {
        RowSoftmaxKernel.source(name: name, dtype: node.outputTypes[0].dtype, logarithm: writesLogarithm)
    }
    func runKernel(_ inputs: [NDArray], node: Apply, library: DynamicLibrary, name: String, recycler: OutputRecycler) throws -> [NDArray] {
        [try RowSoftmaxKernel.run(inputs[0], library: library, name: name, recycler: recycler)]
    }
}

extension Softmax: RowSoftmaxOp { var writesLogarithm: Bool { false } }
extension LogSoftmax: RowSoftmaxOp { var writesLogarithm: Bool { true } }
