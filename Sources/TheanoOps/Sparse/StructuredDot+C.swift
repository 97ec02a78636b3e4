import TheanoCore

/// The native form of a CSR matrix times a dense one: a fill kernel, each stretch of result
/// elements from the stored values of its row (a CSC operand scatters, and stays on the
/// reference implementation). The kernel reads the dense matrix's column count, then the
/// stored values, the column indices and the row pointers (64-bit), then the dense matrix.
extension StructuredDot: CFillKernelOp {
    package func cFillKernel(name: String, node: Apply) -> String? {
        guard node.inputs[0].type.format == .csr else { return nil }
        let t = node.outputTypes[0].dtype.cType.rawValue
        return """
            void \(name)(int64_t begin, int64_t end, const void *const *in, void *out_) {
                const int64_t columns = ((const int64_t *)in[0])[0];
                const \(t) *values = in[1];
                const int64_t *indices = in[2], *indptr = in[3];
                const \(t) *dense = in[4];
                \(t) *out = out_;
                for (int64_t row = begin / columns; row * columns < end; ++row) {
                    const int64_t from = row * columns > begin ? 0 : begin - row * columns;
                    const int64_t to = (row + 1) * columns < end ? columns : end - row * columns;
                    \(t) *restrict target = out + row * columns;
                    for (int64_t k = from; k < to; ++k) target[k] = 0;
                    int64_t e = indptr[row];
                    /* Four stored values at a time: four rows of the dense matrix in one pass. */
                    for (; e + 4 <= indptr[row + 1]; e += 4) {
                        /* The rows the next four values read, on their way into the cache. */
                        for (int64_t p = e + 4; p < e + 8 && p < indptr[row + 1]; ++p)
                            for (int64_t k = from; k < to; k += 64 / sizeof(\(t))) __builtin_prefetch(dense + indices[p] * columns + k);
                        const \(t) *restrict a = dense + indices[e] * columns, *restrict b = dense + indices[e + 1] * columns;
                        const \(t) *restrict c = dense + indices[e + 2] * columns, *restrict d = dense + indices[e + 3] * columns;
                        const \(t) va = values[e], vb = values[e + 1], vc = values[e + 2], vd = values[e + 3];
                        for (int64_t k = from; k < to; ++k) target[k] += va * a[k] + vb * b[k] + vc * c[k] + vd * d[k];
                    }
                    for (; e < indptr[row + 1]; ++e) {
                        const \(t) v = values[e], *restrict source = dense + indices[e] * columns;
                        for (int64_t k = from; k < to; ++k) target[k] += v * source[k];
                    }
                }
            }
            """
    }

    package func fillShape(_ inputs: [NDArray]) throws -> [Int] {
        let s = try sparseOperand(inputs[0]), d = inputs[1]
        guard s.shape[1] == d.shape[0] else {
            throw OpError("cannot multiply a sparse matrix of shape \(shapeText(s.shape)) by a matrix of shape \(shapeText(d.shape))")
        }
        return [s.shape[0], d.shape[1]]
    }

    package func fillKernelArguments(for inputs: [NDArray]) -> [Int64] { [Int64(inputs[1].shape[1])] }

    /// About as many stored values per row as a sparse row of a bag of words holds.
    package var workPerElement: Int { 16 }

    package func withFillKernelOperands<R>(_ inputs: [NDArray], _ body: ([UnsafeRawPointer?]) throws -> R) rethrows -> R {
        let s = inputs[0].sparse!, d = inputs[1].contiguous()
        return try s.indices.withUnsafeBufferPointer { indices in
            try s.indptr.withUnsafeBufferPointer { indptr in
                try withExtendedLifetime((s, d)) {
                    try body([s.data.withUnsafeRawPointer { $0 }, UnsafeRawPointer(indices.baseAddress), UnsafeRawPointer(indptr.baseAddress),
                              d.withUnsafeRawPointer { $0 }])
                }
            }
        }
    }
}
