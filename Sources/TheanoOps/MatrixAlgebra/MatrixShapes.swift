import TheanoCore

// What the matrix-algebra ops share: the check that an operand is a stack of matrices, the
// dtype they compute in, and the graph helpers their gradients are written with.

/// The dtype a matrix-algebra op returns for an operand of `dtype`: floats keep theirs,
/// integers and booleans become float64 (as NumPy's `linalg` converts them). Every op
/// computes in float64 and rounds its results to this dtype.
package func matrixAlgebraDType(_ dtype: DType) -> DType { dtype.isFloat ? dtype : .float64 }

extension TensorType {
    /// Throws unless this is a stack of matrices (at least 2 dimensions), square when
    /// `square`; returns its static batch shape, rows and columns.
    package func matrixStack(square: Bool = false) throws -> (batch: [Int?], rows: Int?, columns: Int?) {
        guard ndim >= 2 else { throw OpError("expects a matrix or a stack of matrices, not a \(ndim)-d tensor") }
        let (rows, columns) = (shape[ndim - 2], shape[ndim - 1])
        if square, let rows, let columns, rows != columns {
            throw OpError("expects square matrices, not \(rows)×\(columns)")
        }
        return (Array(shape.dropLast(2)), rows, columns)
    }
}

/// Throws unless the runtime matrices of `array` are square.
package func checkSquare(_ array: NDArray) throws {
    guard array.shape[array.ndim - 1] == array.shape[array.ndim - 2] else {
        throw OpError("expects square matrices, not \(shapeText(array.shape))")
    }
}

extension Variable {
    /// The tensor with its last two axes swapped: each matrix of a stack transposed.
    package var matrixTranspose: Variable {
        get throws { try transpose(Array(0..<(ndim - 2)) + [ndim - 1, ndim - 2]) }
    }
}

/// An identity matrix as large as the last axis of `x`, in `x`'s dtype.
package func identity(like x: Variable, at location: SourceLocation) throws -> Variable {
    let size = try x.dimensionSizes().last!
    return try cast(eq(expandDims(arange(size), axis: 1), arange(size)), to: x.dtype, at: location)
}

// MARK: - Matrix calculus

/// `Φ(x)`: the lower triangle of each matrix with its diagonal halved, the map in the
/// derivative of a Cholesky factor.
package func lowerTriangleHalvingDiagonal(_ x: Variable) throws -> Variable {
    try Triangle(lower: true, offset: 0, diagonalScale: 0.5)(x, at: .resolve(fileID: #fileID, line: #line))
}

/// The gradient with respect to a matrix an op reads as symmetric from one triangle, given
/// `g`, the gradient with respect to the symmetric matrix: each element of the triangle read
/// stands for itself and its mirror image, so it collects both (`g + gᵀ`), the diagonal once.
package func gradientOfSymmetricRead(_ g: Variable, lower: Bool) throws -> Variable {
    let folded = try lowerTriangleHalvingDiagonal(g + g.matrixTranspose)
    return lower ? folded : try folded.matrixTranspose
}

/// ``gradientOfSymmetricRead(_:lower:)`` of `−u·vᵀ` (the gradient of a solve), from one
/// product: `g + gᵀ = −[u v]·[v u]ᵀ`, with no transposed matrix to add.
package func gradientOfSymmetricRead(negatedOuterProductOf u: Variable, _ v: Variable, lower: Bool) throws -> Variable {
    let sum = try -matmul(concatenate([u, v], axis: -1), concatenate([v, u], axis: -1).matrixTranspose)
    let folded = try lowerTriangleHalvingDiagonal(sum)
    return lower ? folded : try folded.matrixTranspose
}

/// The symmetric matrix an op reads from the `lower` (or upper) triangle of `x`.
package func symmetricRead(_ x: Variable, lower: Bool) throws -> Variable {
    lower ? try tril(x) + tril(x, k: -1).matrixTranspose : try triu(x) + triu(x, k: 1).matrixTranspose
}

/// `1 / (w_j − w_i)` at (i, j) off the diagonal and 0 on it, for each vector `w` of a
/// stack: the coefficients of the derivatives of eigenvectors and singular vectors.
package func inverseGaps(_ w: Variable, at location: SourceLocation) throws -> Variable {
    let gaps = try expandDims(w, axis: w.ndim - 1) - expandDims(w, axis: w.ndim)
    let identity = try identity(like: gaps, at: location)
    return try (1 - identity) / (gaps + identity)
}

/// The matrices of a stack of vectors' diagonals: `diag(v)` for each vector `v`.
package func diagonalMatrices(_ v: Variable, at location: SourceLocation) throws -> Variable {
    let size = try v.dimensionSizes().last!, staticSize = v.staticShape.last!
    return try EmbedDiagonal(offset: 0, staticSizes: [staticSize, staticSize])([v, size, size], at: location)
}
