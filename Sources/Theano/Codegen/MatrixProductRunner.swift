/// The matrix-product routine (CBLAS `?gemm` convention) for each float dtype: a BLAS
/// library's, or the C fallback compiled into the kernel module.
struct GemmRoutines {
    let single: BLAS.SGemm
    let double: BLAS.DGemm
    /// What provides them (kept loaded while they may be called).
    let provider: AnyObject

    init(blas: BLAS) {
        single = blas.sgemm
        double = blas.dgemm
        provider = blas
    }

    init?(fallbackIn library: DynamicLibrary) {
        guard let s = library.symbol("theano_sgemm"), let d = library.symbol("theano_dgemm") else { return nil }
        single = unsafeBitCast(s, to: BLAS.SGemm.self)
        double = unsafeBitCast(d, to: BLAS.DGemm.self)
        provider = library
    }
}

/// Runs `dot`, `gemm`, `gemv` and `ger` nodes of float dtypes through a gemm routine.
/// Transposed operands are passed as such (a transpose flag, no copy).
struct MatrixProductRunner: NodeRunner {
    let node: Apply
    let routines: GemmRoutines
    let recycler = OutputRecycler()

    static func handles(_ node: Apply) -> Bool {
        node.outputTypes[0].dtype.isFloat && (node.op is Dot || node.op is Gemm || node.op is Gemv || node.op is Ger)
    }

    func run(_ inputs: [NDArray]) throws -> [NDArray] {
        try node.op.validate(inputs, node: node)
        switch node.op {
        case is Dot:
            let (a, b) = (inputs[0], inputs[1])
            guard a.shape.last! == b.shape[0] else { throw OpError("inner dimensions \(a.shape.last!) and \(b.shape[0]) differ") }
            let product = try multiply(asMatrix(a, column: false), asMatrix(b, column: true), alpha: 1, beta: 0, accumulator: nil)
            return [product.reshaped(Array(a.shape.dropLast()) + Array(b.shape.dropFirst()))]
        case let op as Gemm:
            let offset = op.accumulates ? 1 : 0
            let accumulator = op.accumulates ? inputs[0] : nil
            return [try multiply(inputs[offset + 1], inputs[offset + 2], alpha: inputs[offset], beta: op.accumulates ? inputs[4] : nil,
                                 accumulator: accumulator)]
        case let op as Gemv:
            let offset = op.accumulates ? 1 : 0
            let accumulator = op.accumulates ? inputs[0].expanded([0, nil]) : nil
            let product = try multiply(inputs[offset + 1], asMatrix(inputs[offset + 2], column: true), alpha: inputs[offset],
                                       beta: op.accumulates ? inputs[4] : nil, accumulator: accumulator)
            return [product.reshaped([product.shape[0]])]
        default:  // Ger: A + α·x·yᵀ as a product of a column and a row.
            let (a, alpha, x, y) = (inputs[0], inputs[1], inputs[2], inputs[3])
            return [try multiply(x.expanded([0, nil]), y.expanded([nil, 0]), alpha: alpha,
                                 beta: NDArray(scalar: 1, dtype: a.dtype), accumulator: a)]
        }
    }

    /// A vector as a row (or, for the right operand, a column) matrix; a matrix as it is.
    private func asMatrix(_ x: NDArray, column: Bool) -> NDArray {
        x.ndim == 2 ? x : (column ? x.expanded([0, nil]) : x.expanded([nil, 0]))
    }

    private func multiply(_ a: NDArray, _ b: NDArray, alpha: NDArray, beta: NDArray?, accumulator: NDArray?) throws -> NDArray {
        try multiply(a, b, alpha: alpha.scalar(as: Double.self), beta: beta?.scalar(as: Double.self) ?? 0, accumulator: accumulator)
    }

    /// `α·a·b + β·accumulator` as a new contiguous matrix.
    private func multiply(_ a: NDArray, _ b: NDArray, alpha: Double, beta: Double, accumulator: NDArray?) throws -> NDArray {
        let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
        guard b.shape[0] == k else { throw OpError("inner dimensions \(k) and \(b.shape[0]) differ") }
        var out: NDArray
        if let accumulator, beta != 0 {
            guard accumulator.shape == [m, n] else { throw OpError("accumulator of shape \(shapeText(accumulator.shape)) does not fit \(m)×\(n)") }
            out = accumulator.contiguousCopy()
        } else {
            out = recycler.array([m, n], dtype: a.dtype)
        }
        guard m > 0, n > 0 else { return out }
        let left = BlasOperand(a), right = BlasOperand(b)
        let c = out.storage.data + out.offset * out.dtype.byteSize
        switch a.dtype {
        case .float32:
            routines.single(BLAS.rowMajor, left.transpose, right.transpose, Int32(m), Int32(n), Int32(k), Float(alpha),
                            left.pointer(Float.self), left.leading, right.pointer(Float.self), right.leading, Float(beta),
                            c.assumingMemoryBound(to: Float.self), Int32(n))
        default:
            routines.double(BLAS.rowMajor, left.transpose, right.transpose, Int32(m), Int32(n), Int32(k), alpha,
                            left.pointer(Double.self), left.leading, right.pointer(Double.self), right.leading, beta,
                            c.assumingMemoryBound(to: Double.self), Int32(n))
        }
        return out
    }
}

/// A matrix as BLAS reads it: row-major, possibly transposed, with a leading dimension.
/// Views with unit stride along one dimension are used in place; others are copied.
private struct BlasOperand {
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

    func pointer<T>(_: T.Type) -> UnsafePointer<T> {
        UnsafePointer((matrix.storage.data + matrix.offset * matrix.dtype.byteSize).assumingMemoryBound(to: T.self))
    }
}
