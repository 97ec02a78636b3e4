import TheanoCore

/// The eigenvalues (ascending) and, when `computesVectors`, the orthonormal eigenvectors
/// (columns) of each symmetric matrix of a stack, read from one triangle (LAPACK `syevd`).
///
/// Gradient, for distinct eigenvalues: `G = V·(diag(w̄) + F∘(Vᵀ·V̄))·Vᵀ` with
/// `F_ij = 1/(w_j − w_i)` off the diagonal, folded onto the triangle read.
public struct Eigh: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    public let lower: Bool
    public let computesVectors: Bool

    package init(lower: Bool, computesVectors: Bool) {
        (self.lower, self.computesVectors) = (lower, computesVectors)
    }

    public var description: String { "\(computesVectors ? "eigh" : "eigvalsh")(\(lower ? "L" : "U"))" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (batch, rows, _) = try inputs[0].matrixStack(square: true)
        let dtype = matrixAlgebraDType(inputs[0].dtype)
        let values = TensorType(dtype, shape: batch + [rows])
        return computesVectors ? [values, TensorType(dtype, shape: inputs[0].shape)] : [values]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let lapack = try LAPACK.required(by: "a symmetric eigendecomposition")
        try checkSquare(inputs[0])
        let stack = MatrixStack(inputs[0]), dtype = matrixAlgebraDType(inputs[0].dtype)
        let results = try stack.matrices.map { try $0.symmetricEigendecomposition(lower: lower, vectors: computesVectors, using: lapack) }
        let values = NDArray(vectors: results.map(\.values), batchShape: stack.batchShape, length: stack.rows, dtype: dtype)
        guard computesVectors else { return [values] }
        return [values, NDArray(matrices: results.map(\.vectors), batchShape: stack.batchShape, rows: stack.rows, columns: stack.rows, dtype: dtype)]
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard outputGradients.contains(where: { $0 != nil }) else { return [nil] }
        let location = node.location
        let decomposition = computesVectors ? node.outputs : try Eigh(lower: lower, computesVectors: true).apply(node.inputs, at: location).outputs
        let (w, v) = (decomposition[0], decomposition[1])
        var inner: Variable?
        if let wBar = outputGradients[0] { inner = try diagonalMatrices(wBar, at: location) }
        if outputGradients.count > 1, let vBar = outputGradients[1] {
            inner = try inner.adding(inverseGaps(w, at: location) * matmul(v.matrixTranspose, vBar))
        }
        let g = try matmul(matmul(v, inner!), v.matrixTranspose)
        return [try gradientOfSymmetricRead(g, lower: lower)]
    }

    /// `dw = diag(Vᵀ·dA·V)` and `dV = V·(F∘(Vᵀ·dA·V))`, with `dA` the symmetric change of the
    /// triangle read.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        guard let tangent = inputTangents[0] else { return node.outputs.map { _ in nil } }
        let location = node.location
        let decomposition = computesVectors ? node.outputs : try Eigh(lower: lower, computesVectors: true).apply(node.inputs, at: location).outputs
        let (w, v) = (decomposition[0], decomposition[1])
        let rotated = try matmul(matmul(v.matrixTranspose, symmetricRead(tangent, lower: lower)), v)
        let dw = try ExtractDiagonal(offset: 0)(rotated, at: location)
        guard computesVectors else { return [dw] }
        return [dw, try matmul(v, inverseGaps(w, at: location) * rotated)]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        let values = Array(inputShapes[0].dropLast())
        return computesVectors ? [values, inputShapes[0]] : [values]
    }
}

/// The eigenvalues (ascending) and eigenvectors (the columns of `vectors`) of each
/// symmetric matrix of `a`, read from its lower triangle (or the upper one, `lower: false`),
/// as NumPy's `linalg.eigh`.
public func eigh(_ a: Variable, lower: Bool = true, fileID: String = #fileID, line: Int = #line) throws -> (values: Variable, vectors: Variable) {
    let outputs = try Eigh(lower: lower, computesVectors: true).apply([a], at: SourceLocation.resolve(fileID: fileID, line: line)).outputs
    return (outputs[0], outputs[1])
}

/// The eigenvalues (ascending) of each symmetric matrix of `a`, read from its lower
/// triangle (or the upper one), as NumPy's `linalg.eigvalsh`.
public func eigvalsh(_ a: Variable, lower: Bool = true, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try Eigh(lower: lower, computesVectors: false)(a, at: SourceLocation.resolve(fileID: fileID, line: line))
}

/// The eigenvalues of each general square matrix of a stack, as real and imaginary parts
/// (the library has no complex dtype), in LAPACK's order (`geev`): complex conjugate pairs
/// adjacent, the one with the positive imaginary part first. Not differentiable.
public struct Eigenvalues: Op, ShapeInferringOp {
    package init() {}

    public var description: String { "eigvals" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (batch, rows, _) = try inputs[0].matrixStack(square: true)
        let type = TensorType(matrixAlgebraDType(inputs[0].dtype), shape: batch + [rows])
        return [type, type]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let lapack = try LAPACK.required(by: "eigenvalues")
        try checkSquare(inputs[0])
        let stack = MatrixStack(inputs[0]), dtype = matrixAlgebraDType(inputs[0].dtype)
        let results = try stack.matrices.map { try $0.eigenvalues(using: lapack) }
        return [NDArray(vectors: results.map(\.real), batchShape: stack.batchShape, length: stack.rows, dtype: dtype),
                NDArray(vectors: results.map(\.imaginary), batchShape: stack.batchShape, length: stack.rows, dtype: dtype)]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        let values = Array(inputShapes[0].dropLast())
        return [values, values]
    }
}

/// The eigenvalues of each square matrix of `a` (NumPy's `linalg.eigvals`), as their real
/// and imaginary parts. For symmetric matrices ``eigvalsh(_:lower:fileID:line:)`` is faster,
/// sorted and differentiable.
public func eigvals(_ a: Variable, fileID: String = #fileID, line: Int = #line) throws -> (real: Variable, imaginary: Variable) {
    let outputs = try Eigenvalues().apply([a], at: SourceLocation.resolve(fileID: fileID, line: line)).outputs
    return (outputs[0], outputs[1])
}
