import TheanoCore

/// The QR decomposition `A = Q·R` of each matrix of a stack (LAPACK `geqrf`/`orgqr`): `Q`
/// with orthonormal columns (`min(m, n)` of them when reduced, `m` when complete) and `R`
/// upper triangular, with the signs LAPACK gives (those of NumPy).
///
/// The gradient (Walter and Lehmann, 2018) holds for reduced decompositions of matrices with
/// at least as many rows as columns and full column rank (fewer rows throw, when the
/// function runs if the sizes are not known before):
/// `Ā = (Q̄ + Q·copyltu(M))·R⁻ᵀ` with `M = R·R̄ᵀ − Q̄ᵀ·Q` and `copyltu` mirroring the lower
/// triangle onto the upper one.
public struct QR: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    public let complete: Bool

    package init(complete: Bool) { self.complete = complete }

    public var description: String { complete ? "qr(complete)" : "qr" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (batch, rows, columns) = try inputs[0].matrixStack()
        let dtype = matrixAlgebraDType(inputs[0].dtype)
        let k = complete ? rows : rows.flatMap { rows in columns.map { Swift.min(rows, $0) } }
        return [TensorType(dtype, shape: batch + [rows, k]), TensorType(dtype, shape: batch + [k, columns])]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let lapack = try LAPACK.required(by: "a QR decomposition")
        let stack = MatrixStack(inputs[0]), dtype = matrixAlgebraDType(inputs[0].dtype)
        let k = complete ? stack.rows : Swift.min(stack.rows, stack.columns)
        let results = try stack.matrices.map { try $0.qrDecomposition(complete: complete, using: lapack) }
        return [NDArray(matrices: results.map(\.q), batchShape: stack.batchShape, rows: stack.rows, columns: k, dtype: dtype),
                NDArray(matrices: results.map(\.r), batchShape: stack.batchShape, rows: k, columns: stack.columns, dtype: dtype)]
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard outputGradients.contains(where: { $0 != nil }) else { return [nil] }
        try checkDifferentiable(node)
        let (q, r) = (node.output(0), node.output(1))
        let qBar = try outputGradients[0] ?? zerosLike(q), rBar = try outputGradients[1] ?? zerosLike(r)
        let m = try matmul(r, rBar.matrixTranspose) - matmul(qBar.matrixTranspose, q)
        let mirrored = try tril(m) + tril(m, k: -1).matrixTranspose
        let left = try qBar + matmul(q, mirrored)
        // left·R⁻ᵀ = (R⁻¹·leftᵀ)ᵀ
        let solve = SolveTriangular(lower: false, transposed: false, unitDiagonal: false)
        return [try solve([r, left.matrixTranspose], at: node.location).matrixTranspose]
    }

    /// With `C = Qᵀ·dA·R⁻¹` and `Ω = tril(C, −1) − tril(C, −1)ᵀ`: `dQ = Q·(Ω − C) + dA·R⁻¹`
    /// and `dR = (C − Ω)·R` (same conditions as the gradient).
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        guard let da = inputTangents[0] else { return [nil, nil] }
        try checkDifferentiable(node)
        let (q, r) = (node.output(0), node.output(1))
        // dA·R⁻¹ = (R⁻ᵀ·dAᵀ)ᵀ
        let solve = SolveTriangular(lower: false, transposed: true, unitDiagonal: false)
        let daTimesInverse = try solve([r, da.matrixTranspose], at: node.location).matrixTranspose
        let c = try matmul(q.matrixTranspose, daTimesInverse)
        let skew = try tril(c, k: -1) - tril(c, k: -1).matrixTranspose
        return [try matmul(q, skew - c) + daTimesInverse, try matmul(c - skew, r)]
    }

    /// Throws when the decomposition is known to be one the derivatives do not hold for.
    private func checkDifferentiable(_ node: Apply) throws {
        // R must be square: with fewer rows than columns the triangular solves fail when the
        // function runs, if the sizes are not known before.
        let shape = node.inputs[0].staticShape.suffix(2)
        if complete || shape.first! != nil && shape.last! != nil && shape.first!! < shape.last!! {
            throw OpError("the derivatives of a QR decomposition are defined for reduced decompositions of matrices with at least as many rows as columns")
        }
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        let sizes = inputShapes[0], batch = Array(inputShapes[0].dropLast(2))
        let (rows, columns) = (sizes[sizes.count - 2], sizes[sizes.count - 1])
        let k = complete ? rows : try minimum(rows, columns)
        return [batch + [rows, k], batch + [k, columns]]
    }
}

/// How much of a QR decomposition ``qr(_:mode:fileID:line:)`` returns (NumPy's `mode`).
public enum QRMode: Sendable {
    /// `Q` with `min(m, n)` columns, `R` with as many rows.
    case reduced
    /// `Q` square (`m`×`m`), `R` with `m` rows.
    case complete
}

/// The QR decomposition `a = q·r` of each matrix of `a` (NumPy's `linalg.qr`).
public func qr(_ a: Variable, mode: QRMode = .reduced, fileID: String = #fileID, line: Int = #line) throws -> (q: Variable, r: Variable) {
    let outputs = try QR(complete: mode == .complete).apply([a], at: SourceLocation.resolve(fileID: fileID, line: line)).outputs
    return (outputs[0], outputs[1])
}
