import TheanoCore

/// The singular value decomposition `A = U·diag(s)·Vᵀ` of each matrix of a stack (LAPACK
/// `gesdd`), the singular values descending. `vectors` says whether `U` and `Vᵀ` are
/// computed too, reduced (`min(m, n)` columns of `U`, rows of `Vᵀ`) or complete (square).
///
/// Gradients (Townsend, 2016) hold for distinct nonzero singular values; those of the
/// vectors are defined for the reduced decomposition (or square matrices).
public struct SVD: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    /// What the decomposition computes besides the values.
    public enum Vectors: String, Hashable, Sendable { case none, reduced, complete }

    public let vectors: Vectors

    package init(vectors: Vectors) { self.vectors = vectors }

    public var description: String { "svd(\(vectors.rawValue))" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (batch, rows, columns) = try inputs[0].matrixStack()
        let dtype = matrixAlgebraDType(inputs[0].dtype)
        let k = rows.flatMap { rows in columns.map { Swift.min(rows, $0) } }
        let values = TensorType(dtype, shape: batch + [k])
        switch vectors {
        case .none: return [values]
        case .reduced: return [TensorType(dtype, shape: batch + [rows, k]), values, TensorType(dtype, shape: batch + [k, columns])]
        case .complete: return [TensorType(dtype, shape: batch + [rows, rows]), values, TensorType(dtype, shape: batch + [columns, columns])]
        }
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let lapack = try LAPACK.required(by: "a singular value decomposition")
        let stack = MatrixStack(inputs[0]), dtype = matrixAlgebraDType(inputs[0].dtype)
        let k = Swift.min(stack.rows, stack.columns)
        let results = try stack.matrices.map { try $0.singularValueDecomposition(vectors, using: lapack) }
        let values = NDArray(vectors: results.map(\.s), batchShape: stack.batchShape, length: k, dtype: dtype)
        guard vectors != .none else { return [values] }
        let (uColumns, vtRows) = vectors == .reduced ? (k, k) : (stack.rows, stack.columns)
        return [NDArray(matrices: results.map(\.u), batchShape: stack.batchShape, rows: stack.rows, columns: uColumns, dtype: dtype), values,
                NDArray(matrices: results.map(\.vt), batchShape: stack.batchShape, rows: vtRows, columns: stack.columns, dtype: dtype)]
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        let location = node.location
        let (uBar, sBar, vtBar) = vectors == .none ? (nil, outputGradients[0], nil) : (outputGradients[0], outputGradients[1], outputGradients[2])
        guard uBar != nil || sBar != nil || vtBar != nil else { return [nil] }
        if uBar != nil || vtBar != nil { try checkDifferentiable(node) }
        let reduced = vectors == .reduced ? node.outputs : try SVD(vectors: .reduced).apply(node.inputs, at: location).outputs
        let (u, s, vt) = (reduced[0], reduced[1], reduced[2])
        let v = try vt.matrixTranspose
        // U·(inner)·Vᵀ, plus the parts of Ū and V̄ outside the spans of U and V.
        var inner: Variable?
        if let sBar { inner = try diagonalMatrices(sBar, at: location) }
        var outside: Variable?
        let gaps = try inverseGaps(s * s, at: location)
        let rowScale = try expandDims(s, axis: s.ndim), columnScale = try expandDims(s, axis: s.ndim - 1)
        if let uBar {
            let projected = try matmul(u.matrixTranspose, uBar)
            inner = try inner.adding(gaps * (projected - projected.matrixTranspose) * columnScale)
            let residual = try uBar - matmul(u, projected)
            outside = try outside.adding(matmul(residual / columnScale, vt))
        }
        if let vtBar {
            let vBar = try vtBar.matrixTranspose
            let projected = try matmul(v.matrixTranspose, vBar)
            inner = try inner.adding(rowScale * (gaps * (projected - projected.matrixTranspose)))
            let residual = try vBar - matmul(v, projected)
            outside = try outside.adding(matmul(u / columnScale, residual.matrixTranspose))
        }
        let aBar = try matmul(matmul(u, inner!), vt)
        return [try outside.map { try aBar + $0 } ?? aBar]
    }

    /// With `dP = Uᵀ·dA·V`: `ds = diag(dP)`, `dU = U·(F∘(dP·S + S·dPᵀ)) + (I − U·Uᵀ)·dA·V·S⁻¹`,
    /// `dV = V·(F∘(S·dP + dPᵀ·S)) + (I − V·Vᵀ)·dAᵀ·U·S⁻¹`, `F_ij = 1/(s_j² − s_i²)`.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        guard let da = inputTangents[0] else { return node.outputs.map { _ in nil } }
        let location = node.location
        let reduced = vectors == .reduced ? node.outputs : try SVD(vectors: .reduced).apply(node.inputs, at: location).outputs
        let (u, s, vt) = (reduced[0], reduced[1], reduced[2])
        let v = try vt.matrixTranspose
        let rotated = try matmul(matmul(u.matrixTranspose, da), v)
        let ds = try ExtractDiagonal(offset: 0)(rotated, at: location)
        guard vectors != .none else { return [ds] }
        try checkDifferentiable(node)
        let gaps = try inverseGaps(s * s, at: location)
        let rowScale = try expandDims(s, axis: s.ndim), columnScale = try expandDims(s, axis: s.ndim - 1)
        let scaledRight = try rotated * columnScale, scaledLeft = try rowScale * rotated
        let daV = try matmul(da, v), daTU = try matmul(da.matrixTranspose, u)
        let du = try matmul(u, gaps * (scaledRight + scaledRight.matrixTranspose)) + (daV - matmul(u, matmul(u.matrixTranspose, daV))) / columnScale
        let dv = try matmul(v, gaps * (scaledLeft + scaledLeft.matrixTranspose)) + (daTU - matmul(v, matmul(vt, daTU))) / columnScale
        return [du, ds, try dv.matrixTranspose]
    }

    /// Complete vectors of a non-square matrix carry arbitrary bases of the complements:
    /// throws when the matrix is known not to be square (with sizes unknown until the
    /// function runs, the products of the derivatives fail there instead).
    private func checkDifferentiable(_ node: Apply) throws {
        guard vectors == .complete else { return }
        let shape = node.inputs[0].staticShape.suffix(2)
        if let rows = shape.first!, let columns = shape.last!, rows != columns {
            throw OpError("the derivatives of the complete singular vectors of a \(rows)×\(columns) matrix are not defined; use svd(fullMatrices: false)")
        }
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        let sizes = inputShapes[0], batch = Array(inputShapes[0].dropLast(2))
        let (rows, columns) = (sizes[sizes.count - 2], sizes[sizes.count - 1])
        let k = try minimum(rows, columns)
        switch vectors {
        case .none: return [batch + [k]]
        case .reduced: return [batch + [rows, k], batch + [k], batch + [k, columns]]
        case .complete: return [batch + [rows, rows], batch + [k], batch + [columns, columns]]
        }
    }
}

/// The singular value decomposition `a = u·diag(s)·vt` of each matrix of `a` (NumPy's
/// `linalg.svd`): `u` and `vt` square when `fullMatrices`, else with `min(m, n)` columns
/// (rows); `s` descending.
public func svd(_ a: Variable, fullMatrices: Bool = true, fileID: String = #fileID, line: Int = #line) throws -> (u: Variable, s: Variable, vt: Variable) {
    let outputs = try SVD(vectors: fullMatrices ? .complete : .reduced).apply([a], at: SourceLocation.resolve(fileID: fileID, line: line)).outputs
    return (outputs[0], outputs[1], outputs[2])
}

/// The singular values of each matrix of `a`, descending (NumPy's `linalg.svd` with
/// `compute_uv=False`; `svdvals`).
public func svdvals(_ a: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try SVD(vectors: .none)(a, at: SourceLocation.resolve(fileID: fileID, line: line))
}
