import TheanoCore
import TheanoOps

// Conversions of sparse matrices that undo each other, removed exactly. The other order,
// `toSparse(toDense(s))`, is not `s`: it drops the explicitly stored zeros, so it stays.

/// Canonicalize-phase rules for sparse matrices.
package let sparseCanonicalizeRules: [Rewrite] = [denseOfSparseOfDense, transposeOfTranspose, formatRoundTrip]

/// `toDense(toSparse(x)) → x`.
let denseOfSparseOfDense = Rewrite.node("dense_of_sparse_of_dense", on: [SparseToDense.self]) { node, _ in
    guard let inner = node.inputs[0].owner, inner.op is DenseToSparse else { return nil }
    return [inner.inputs[0]]
}

/// `sᵀᵀ → s` for a sparse `s`.
let transposeOfTranspose = Rewrite.node("sparse_transpose_of_transpose", on: [SparseTranspose.self]) { node, _ in
    guard let inner = node.inputs[0].owner, inner.op is SparseTranspose else { return nil }
    return [inner.inputs[0]]
}

/// A sparse matrix converted to the other format and back → the matrix.
let formatRoundTrip = Rewrite.node("sparse_format_round_trip", on: [ChangeSparseFormat.self]) { node, _ in
    guard let inner = node.inputs[0].owner, inner.op is ChangeSparseFormat, inner.inputs[0].type.format == node.outputTypes[0].format
    else { return nil }
    return [inner.inputs[0]]
}
