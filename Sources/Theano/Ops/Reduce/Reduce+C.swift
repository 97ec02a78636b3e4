/// Sums, products, maxima and minima of float tensors in C, for reductions over one run of
/// consecutive axes: the input is read as `[A, R, B]` (`R` reduced) and each output element
/// combines `R` elements. Float sums accumulate in double, as the reference does; maxima and
/// minima propagate NaN. Work is split across cores along `A`, or along `B` when `A` is small.
extension Reduce: CKernelOp {
    typealias Function = @convention(c) (Int64, Int64, Int64, Int64, Int64, Int64, Int64, UnsafeRawPointer, UnsafeMutableRawPointer) -> Void

    /// The reduced axes as one run `first ..< first + count`, or `nil`.
    private var run: (first: Int, count: Int)? {
        guard let first = axes.first, axes == Array(first..<(first + axes.count)) else { return nil }
        return (first, axes.count)
    }

    func cKernel(name: String, node: Apply) -> String? {
        let dtype = node.inputs[0].dtype
        guard dtype.isFloat, [.sum, .prod, .max, .min].contains(kind), run != nil else { return nil }
        let t = dtype.cType.rawValue
        let accumulator = kind == .sum || kind == .prod ? "double" : t
        let identity = switch kind {
        case .sum: "0"
        case .prod: "1"
        case .max: "-INFINITY"
        default: "INFINITY"
        }
        let combine = switch kind {
        case .sum: "acc + v"
        case .prod: "acc * v"
        case .max: "(v > acc || v != v || acc != acc) ? (acc != acc ? acc : v) : acc"
        default: "(v < acc || v != v || acc != acc) ? (acc != acc ? acc : v) : acc"
        }
        return """
            void \(name)(int64_t A, int64_t R, int64_t B, int64_t a0, int64_t a1, int64_t b0, int64_t b1, const void *in_, void *out_) {
                const \(t) *restrict x = (const \(t) *)in_;
                \(t) *restrict out = (\(t) *)out_;
                if (B == 1) {
                    for (int64_t a = a0; a < a1; ++a) {
                        \(accumulator) acc = \(identity);
                        for (int64_t r = 0; r < R; ++r) { const \(accumulator) v = x[a * R + r]; acc = \(combine); }
                        out[a] = (\(t))acc;
                    }
                    return;
                }
                \(accumulator) *partial = malloc(sizeof(\(accumulator)) * (size_t)(b1 - b0 > 0 ? b1 - b0 : 1));
                for (int64_t a = a0; a < a1; ++a) {
                    for (int64_t b = b0; b < b1; ++b) partial[b - b0] = \(identity);
                    for (int64_t r = 0; r < R; ++r) {
                        const \(t) *restrict row = x + (a * R + r) * B;
                        for (int64_t b = b0; b < b1; ++b) { const \(accumulator) acc = partial[b - b0], v = row[b]; partial[b - b0] = \(combine); }
                    }
                    for (int64_t b = b0; b < b1; ++b) out[a * B + b] = (\(t))partial[b - b0];
                }
                free(partial);
            }
            """
    }

    func runKernel(_ inputs: [NDArray], node: Apply, library: DynamicLibrary, name: String, recycler: OutputRecycler) throws -> [NDArray] {
        let x = inputs[0].contiguous()
        if (kind == .max || kind == .min), axes.contains(where: { x.shape[$0] == 0 }) {
            throw OpError("\(kind) of an empty axis has no identity")
        }
        let kernel = try library.function(name, as: Function.self)
        let (first, count) = run!
        let a = x.shape[..<first].reduce(1, *), r = x.shape[first..<(first + count)].reduce(1, *)
        let b = x.shape[(first + count)...].reduce(1, *)
        let out = recycler.array(outputShape(x.shape, one: 1), dtype: x.dtype)
        guard out.count > 0 else { return [out] }
        let input = UnsafeRawPointer(x.storage.data + x.offset * x.dtype.byteSize), output = out.storage.data
        if a >= cores || b == 1 {
            parallelFor(a, workPerItem: r * b) { begin, end in kernel(Int64(a), Int64(r), Int64(b), Int64(begin), Int64(end), 0, Int64(b), input, output) }
        } else {
            parallelFor(b, workPerItem: a * r) { begin, end in kernel(Int64(a), Int64(r), Int64(b), 0, Int64(a), Int64(begin), Int64(end), input, output) }
        }
        return [out]
    }
}
