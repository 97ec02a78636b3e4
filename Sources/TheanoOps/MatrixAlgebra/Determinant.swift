import RealModule
import TheanoCore

/// What a determinant needs of an LU factorization `P·A = L·U`: the diagonal of `U` and
/// the row swaps.
struct FactoredDiagonal {
    let diagonal: [Double]
    let pivots: [Int32]

    /// −1 for an odd number of row swaps, 1 for an even one.
    private var pivotSign: Double { pivots.enumerated().reduce(1.0) { $1.offset == Int($1.element) ? $0 : -$0 } }

    /// The product of `U`'s diagonal, its sign flipped at each row swap.
    var determinant: Double { diagonal.reduce(pivotSign, *) }

    /// The sign (±1, or 0 for a singular matrix) and the logarithm of the absolute value of
    /// the determinant.
    var signAndLogAbsoluteDeterminant: (sign: Double, logAbsolute: Double) {
        var sign = pivotSign, logAbsolute = 0.0
        for value in diagonal {
            if value == 0 { return (0, -.infinity) }
            if value < 0 { sign = -sign }
            logAbsolute += Double.log(Swift.abs(value))
        }
        return (sign, logAbsolute)
    }

    /// The factorization of each matrix of `a`.
    static func factoring(_ a: NDArray, using lapack: LAPACK) throws -> (stack: MatrixStack, factors: [FactoredDiagonal]) {
        try checkSquare(a)
        let stack = MatrixStack(a)
        let factors = try stack.matrices.map { matrix in
            let (lu, pivots, _) = try matrix.luFactorization(using: lapack)
            return FactoredDiagonal(diagonal: lu.diagonal, pivots: pivots)
        }
        return (stack, factors)
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
        let (stack, factors) = try FactoredDiagonal.factoring(inputs[0], using: LAPACK.required(by: "a determinant"))
        return [NDArray(scalars: factors.map(\.determinant), batchShape: stack.batchShape, dtype: matrixAlgebraDType(inputs[0].dtype))]
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
        let (stack, factors) = try FactoredDiagonal.factoring(inputs[0], using: LAPACK.required(by: "a determinant"))
        let values = factors.map(\.signAndLogAbsoluteDeterminant)
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

/// The determinant, or its sign and the logarithm of its absolute value
/// (`logarithmic`), of each matrix of a stack given by its packed LU factorization and
/// pivots (``LUFactor``). Made by the specialize phase from ``Determinant`` and
/// ``SignAndLogDeterminant``, so that they share the factorization that solves and
/// inverses of the same matrix use.
public struct FactoredDeterminant: Op, ShapeInferringOp {
    public let logarithmic: Bool

    package init(logarithmic: Bool) { self.logarithmic = logarithmic }

    public var description: String { logarithmic ? "slogdet_of_lu" : "det_of_lu" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (batch, _, _) = try inputs[0].matrixStack(square: true)
        guard inputs[1].dtype == .int32, inputs[1].ndim == inputs[0].ndim - 1 else { throw OpError("expects the int32 pivots of the factorization") }
        let type = TensorType(inputs[0].dtype, shape: batch)
        return logarithmic ? [type, type] : [type]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let (lu, size) = (inputs[0], inputs[0].shape.last!)
        guard inputs[1].shape == Array(lu.shape.dropLast()) else {
            throw OpError("pivots of shape \(shapeText(inputs[1].shape)) do not belong to factors of shape \(shapeText(lu.shape))")
        }
        // Only U's diagonal is read: no copy of the factors.
        let diagonals = try ExtractDiagonal(offset: 0).perform([lu])[0].cast(to: .float64).elements(as: Double.self)
        let pivots = inputs[1].contiguous().elements(as: Int32.self), batchShape = Array(lu.shape.dropLast(2))
        let factors = (0..<batchShape.reduce(1, *)).map { index in
            let range = (index * size)..<((index + 1) * size)
            return FactoredDiagonal(diagonal: Array(diagonals[range]), pivots: Array(pivots[range]))
        }
        guard logarithmic else { return [NDArray(scalars: factors.map(\.determinant), batchShape: batchShape, dtype: lu.dtype)] }
        let values = factors.map(\.signAndLogAbsoluteDeterminant)
        return [NDArray(scalars: values.map(\.sign), batchShape: batchShape, dtype: lu.dtype),
                NDArray(scalars: values.map(\.logAbsolute), batchShape: batchShape, dtype: lu.dtype)]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        let batch = Array(inputShapes[0].dropLast(2))
        return logarithmic ? [batch, batch] : [batch]
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
