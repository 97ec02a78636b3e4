import TheanoCore
import TheanoOps

/// The matrix-product routine (CBLAS `?gemm` convention) for each float dtype: a BLAS
/// library's, or the C fallback compiled into the kernel module.
package struct GemmRoutines {
    /// `cblas_?gemm`'s signature for element type `T`.
    typealias Routine<T> = (Int32, Int32, Int32, Int32, Int32, Int32, T, UnsafePointer<T>, Int32, UnsafePointer<T>, Int32, T,
                            UnsafeMutablePointer<T>, Int32) -> Void

    package let single: BLAS.SGemm
    package let double: BLAS.DGemm
    /// Sets the number of threads the routines use (OpenBLAS's, unless the user chose a
    /// count with `OPENBLAS_NUM_THREADS`); `nil` when it cannot be set.
    let setThreads: ((Int) -> Void)?
    /// What provides them (kept loaded while they may be called).
    let provider: AnyObject
    /// The kernels for products of few columns, when the graph's kernel module is compiled.
    private(set) var skinny: SkinnyKernels?

    package init(blas: BLAS) {
        single = blas.sgemm
        double = blas.dgemm
        setThreads = Environment.openBLASThreads == nil ? blas.threadCountSetter : nil
        provider = blas
    }

    package init?(fallbackIn library: DynamicLibrary) {
        guard let s = library.symbol("theano_sgemm"), let d = library.symbol("theano_dgemm") else { return nil }
        single = unsafeBitCast(s, to: BLAS.SGemm.self)
        double = unsafeBitCast(d, to: BLAS.DGemm.self)
        setThreads = nil
        provider = library
    }

    /// These routines, with the products of few columns of `dtypes` on the kernels of `library`.
    func withSkinnyKernels(in library: DynamicLibrary, dtypes: [DType]) throws -> GemmRoutines {
        var routines = self
        routines.skinny = try SkinnyKernels(in: library, dtypes: dtypes)
        return routines
    }
}

/// Runs nodes whose op computes a ``MatrixProduct`` (`dot`, `gemm`, `gemv`, `ger`) of float
/// dtypes through a gemm routine.
/// Transposed operands are passed as such (a transpose flag, no copy). Accumulating products
/// can write their result over the accumulated input (Theano's `Gemm{inplace}`).
struct MatrixProductRunner: OverwritingRunner, TargetWritingRunner {
    package let node: Apply
    package let op: any MatrixProductOp
    package let routines: GemmRoutines
    let recycler = OutputRecycler()
    /// Shared with the other products of the linked graph.
    let threading: ProductThreading

    /// `node`'s op must be a ``MatrixProductOp``.
    init(node: Apply, routines: GemmRoutines, threading: ProductThreading) {
        (self.node, self.op, self.routines, self.threading) = (node, node.op as! any MatrixProductOp, routines, threading)
    }

    private func product(_ inputs: [NDArray]) throws -> MatrixProduct {
        try node.op.validate(inputs, node: node)
        return try op.matrixProduct(inputs)
    }

    package func run(_ inputs: [NDArray]) throws -> [NDArray] {
        let product = try product(inputs)
        let out = try recycler.array([product.a.shape[0], product.b.shape[1]], dtype: product.a.dtype)
        compute(product, into: out)
        return [out.reshaped(product.resultShape)]
    }

    package func run(_ inputs: [NDArray], into target: NDArray) throws -> Bool {
        let product = try product(inputs)
        guard target.dtype == product.a.dtype, target.isFlat(as: product.resultShape) else { return false }
        compute(product, into: target.reshaped([product.a.shape[0], product.b.shape[1]]))
        return true
    }

    package func overwriting(_ inputs: [NDArray], position: Int) throws -> Overwrite? {
        let product = try product(inputs)
        guard let accumulator = product.accumulator, inputs[position].isContiguous else { return nil }
        return Overwrite(results: [inputs[position]]) { compute(product, into: accumulator) }
    }

    private func compute(_ product: MatrixProduct, into out: NDArray) {
        product.compute(into: out, routines: routines, threading: threading, node: ObjectIdentifier(node))
    }
}

extension MatrixProduct {
    /// Computes the product into `out`, a contiguous row-major matrix of the result's size
    /// (the accumulator itself, or memory the accumulator is first copied into when β ≠ 0),
    /// on as many threads as `threading` chooses for `node`.
    func compute(into out: NDArray, routines: GemmRoutines, threading: ProductThreading, node: ObjectIdentifier) {
        let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
        guard m > 0, n > 0 else { return }
        if let accumulator, beta != 0, !accumulator.startsAtSameAddress(as: out) { out.assign(from: accumulator) }
        let left = BlasOperand(a), right = BlasOperand(b), operations = 2 * Double(m) * Double(k) * Double(n)
        if let skinny = routines.skinny?.routines(for: a.dtype), SkinnyKernels.handles(columns: n) {
            var threads = 1
            threading.run(operations: operations, node: node, small: SkinnyKernels.smallProduct, setThreads: {
                threads = operations >= SkinnyKernels.smallProduct ? Swift.min($0, SkinnyKernels.threadLimit) : 1
            }) {
                skinny.multiply(left, right, m: m, n: n, k: k, alpha: alpha, beta: beta, into: out, threads: threads)
            }
            return
        }
        func multiply() {
            switch a.dtype {
            case .float32: self.multiply(Float.self, left, right, into: out, alpha: Float(alpha), beta: Float(beta), routine: routines.single)
            default: self.multiply(Double.self, left, right, into: out, alpha: alpha, beta: beta, routine: routines.double)
            }
        }
        guard let setThreads = routines.setThreads else { return multiply() }
        threading.run(operations: operations, node: node, setThreads: setThreads, multiply)
    }

    /// `out = α·left·right + β·out` by `routine`, every operand's memory alive throughout.
    private func multiply<T>(_: T.Type, _ left: BlasOperand, _ right: BlasOperand, into out: NDArray, alpha: T, beta: T,
                             routine: GemmRoutines.Routine<T>) {
        let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
        left.matrix.withUnsafePointer(to: T.self) { l in
            right.matrix.withUnsafePointer(to: T.self) { r in
                out.withUnsafeMutablePointer(to: T.self) { c in
                    routine(BLAS.rowMajor, left.transpose, right.transpose, Int32(m), Int32(n), Int32(k), alpha,
                            l, left.leading, r, right.leading, beta, c, Int32(n))
                }
            }
        }
    }
}

/// A matrix as BLAS reads it: row-major, possibly transposed, with a leading dimension.
/// Views with unit stride along one dimension are used in place; others are copied.
struct BlasOperand {
    let matrix: NDArray
    let transpose: Int32
    let leading: Int32

    init(_ x: NDArray) {
        let (rows, columns) = (x.shape[0], x.shape[1])
        let (s0, s1) = (x.strides[0], x.strides[1])
        if (s1 == 1 || columns == 1) && s0 >= Swift.max(columns, 1) {
            (matrix, transpose, leading) = (x, BLAS.noTranspose, Int32(s0))
        } else if (s0 == 1 || rows == 1) && s1 >= Swift.max(rows, 1) {
            (matrix, transpose, leading) = (x, BLAS.transpose, Int32(s1))
        } else {
            (matrix, transpose, leading) = (x.contiguousCopy(), BLAS.noTranspose, Int32(Swift.max(columns, 1)))
        }
    }
}
