import RealModule
import TheanoCore

extension DenseMatrix {
    /// The sign (±1, or 0 for a singular matrix) and the logarithm of the absolute value of
    /// the determinant, from the diagonal of an LU factorization and its row swaps.
    func signAndLogAbsoluteDeterminant(using lapack: LAPACK) throws -> (sign: Double, logAbsolute: Double) {
        let (lu, pivots, _) = try luFactorization(using: lapack)
        var sign = pivots.enumerated().reduce(1.0) { $1.offset == Int($1.element) ? $0 : -$0 }
        var logAbsolute = 0.0
        for value in lu.diagonal {
            if value == 0 { return (0, -.infinity) }
            if value < 0 { sign = -sign }
            logAbsolute += Double.log(Swift.abs(value))
        }
        return (sign, logAbsolute)
    }
}

/// The determinant of each square matrix of a stack (from an LU factorization: the
/// product of `U`'s diagonal, its sign flipped at each row swap).
public struct Determinant: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    package init() {}

    public var description: String { "det" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (batch, _, _) = try inputs[0].matrixStack(square: true)
        return [TensorType(matrixAlgebraDType(inputs[0].dtype), shape: batch)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let lapack = try LAPACK.required(by: "a determinant")
        try checkSquare(inputs[0])
        let stack = MatrixStack(inputs[0])
        let values = try stack.matrices.map { matrix -> Double in
            let (lu, pivots, _) = try matrix.luFactorization(using: lapack)
            let sign = pivots.enumerated().reduce(1.0) { $1.offset == Int($1.element) ? $0 : -$0 }
            return lu.diagonal.reduce(sign, *)
        }
        return [NDArray(scalars: values, batchShape: stack.batchShape, dtype: matrixAlgebraDType(inputs[0].dtype))]
    }

    /// `Ā = ḡ·det(A)·A⁻ᵀ`.
    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return [nil] }
        let scale = try expandedOverMatrices(g * node.output(0))
        return [try scale * MatrixInverse()(node.inputs[0], at: node.location).matrixTranspose]
    }

    /// `d det(A) = det(A)·tr(A⁻¹·dA)`.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        guard let tangent = inputTangents[0] else { return [nil] }
        return [try node.output(0) * traceOfInverseTimes(node.inputs[0], tangent, at: node.location)]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { [Array(inputShapes[0].dropLast(2))] }
}

/// The sign and the logarithm of the absolute value of the determinant of each square
/// matrix of a stack (NumPy's `slogdet`): accurate where the determinant itself would
/// overflow or underflow. A singular matrix gives sign 0 and logarithm −∞.
public struct SignAndLogDeterminant: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    package init() {}

    public var description: String { "slogdet" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (batch, _, _) = try inputs[0].matrixStack(square: true)
        let type = TensorType(matrixAlgebraDType(inputs[0].dtype), shape: batch)
        return [type, type]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let lapack = try LAPACK.required(by: "a determinant")
        try checkSquare(inputs[0])
        let stack = MatrixStack(inputs[0])
        let values = try stack.matrices.map { try $0.signAndLogAbsoluteDeterminant(using: lapack) }
        let dtype = matrixAlgebraDType(inputs[0].dtype)
        return [NDArray(scalars: values.map(\.sign), batchShape: stack.batchShape, dtype: dtype),
                NDArray(scalars: values.map(\.logAbsolute), batchShape: stack.batchShape, dtype: dtype)]
    }

    /// The sign is piecewise constant; `Ā = ḡ·A⁻ᵀ` for the logarithm.
    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[1] else { return [nil] }
        return [try expandedOverMatrices(g) * MatrixInverse()(node.inputs[0], at: node.location).matrixTranspose]
    }

    /// `d log|det(A)| = tr(A⁻¹·dA)`; the sign does not change.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        guard let tangent = inputTangents[0] else { return [nil, nil] }
        return [nil, try traceOfInverseTimes(node.inputs[0], tangent, at: node.location)]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        let batch = Array(inputShapes[0].dropLast(2))
        return [batch, batch]
    }
}

/// `x` with two size-1 axes appended, to scale each matrix of a stack by one number.
private func expandedOverMatrices(_ x: Variable) throws -> Variable {
    try expandDims(expandDims(x, axis: x.ndim), axis: x.ndim + 1)
}

/// `tr(A⁻¹·dA)` for each matrix of the stacks: the sum of the elementwise product of
/// `A⁻ᵀ` and `dA`.
private func traceOfInverseTimes(_ a: Variable, _ change: Variable, at location: SourceLocation) throws -> Variable {
    try sum(MatrixInverse()(a, at: location).matrixTranspose * change, axis: [-2, -1])
}

/// The determinant of each square matrix of `a` (NumPy's `linalg.det`).
public func det(_ a: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try Determinant()(a, at: SourceLocation.resolve(fileID: fileID, line: line))
}

/// The sign and the natural logarithm of the absolute value of the determinant of each
/// square matrix of `a` (NumPy's `linalg.slogdet`): `det(a) = sign·exp(logAbsDet)`.
public func slogdet(_ a: Variable, fileID: String = #fileID, line: Int = #line) throws -> (sign: Variable, logAbsDet: Variable) {
    let outputs = try SignAndLogDeterminant().apply([a], at: SourceLocation.resolve(fileID: fileID, line: line)).outputs
    return (outputs[0], outputs[1])
}
