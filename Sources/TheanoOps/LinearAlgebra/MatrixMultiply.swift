import TheanoCore

/// The reference matrix product `C = A · B` for contiguous or strided `A` and `B`.
///
/// Loops are ordered i-k-j so the innermost loop runs along contiguous rows of `B` and `C`
/// (the compiler vectorizes it), and `k` is blocked so a panel of `B` stays in cache.
struct MatrixMultiply: NumericVisitor {
    package let a: NDArray, b: NDArray

    package init(a: NDArray, b: NDArray) {
        self.a = a
        self.b = b
    }

    package func visit<T: NumericElement>(_: T.Type) -> NDArray {
        let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
        let out = NDArray(zeros: [m, n], dtype: T.dtype)
        let rowsB = b.strides[1] == 1 ? b : b.contiguousCopy()
        let (sa0, sa1, sb0) = (a.strides[0], a.strides[1], rowsB.strides[0])
        let panel = 256
        a.withUnsafePointer(to: T.self) { pa in
            rowsB.withUnsafePointer(to: T.self) { pb in
                out.withUnsafeMutablePointer(to: T.self) { pc in
                    for k0 in stride(from: 0, to: k, by: panel) {
                        let k1 = Swift.min(k0 + panel, k)
                        for i in 0..<m {
                            let row = pc + i * n
                            for p in k0..<k1 {
                                let scale = pa[i * sa0 + p * sa1]
                                let source = pb + p * sb0
                                for j in 0..<n { row[j] = T.add(row[j], T.multiply(scale, source[j])) }
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}

extension NDArray {
    /// The matrix product of two 2-d arrays of the same numeric dtype.
    package func matrixProduct(_ other: NDArray) -> NDArray {
        dtype.visitNumeric(MatrixMultiply(a: self, b: other))!
    }
}
