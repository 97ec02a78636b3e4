import RealModule
import TheanoCore

extension DenseMatrix {
    static func * (a: DenseMatrix, b: DenseMatrix) -> DenseMatrix {
        var product = DenseMatrix(zeros: a.rows, b.columns)
        for j in 0..<b.columns {
            for p in 0..<a.columns {
                let scale = b[p, j]
                if scale == 0 { continue }
                for i in 0..<a.rows { product[i, j] += a[i, p] * scale }
            }
        }
        return product
    }

    /// `Σ coefficients[i]·terms[i]` over matrices of one shape.
    static func combination(_ coefficients: [Double], _ terms: [DenseMatrix]) -> DenseMatrix {
        var sum = DenseMatrix(zeros: terms[0].rows, terms[0].columns)
        for (c, term) in zip(coefficients, terms) { for index in sum.elements.indices { sum.elements[index] += c * term.elements[index] } }
        return sum
    }

    /// The largest column sum of absolute values.
    var oneNorm: Double {
        (0..<columns).map { j in (0..<rows).reduce(0) { $0 + Swift.abs(self[$1, j]) } }.max() ?? 0
    }

    /// `exp(A)` by scaling and squaring with the degree-13 Padé approximant (Higham, 2005):
    /// `A` is scaled by `2⁻ˢ` until its 1-norm is at most θ₁₃ ≈ 5.37, the approximant
    /// `(V − U)⁻¹·(V + U)` evaluated, and the result squared `s` times.
    func exponential(using lapack: LAPACK) throws -> DenseMatrix {
        let b: [Double] = [64764752532480000, 32382376266240000, 7771770303897600, 1187353796428800, 129060195264000,
                           10559470521600, 670442572800, 33522128640, 1323241920, 40840800, 960960, 16380, 182, 1]
        let theta = 5.371920351148152
        let norm = oneNorm
        let squarings = norm > theta ? Int(Double.log2(norm / theta).rounded(.up)) : 0
        let scaled = DenseMatrix.combination([Double.pow(2, Double(-squarings))], [self])
        let identity = DenseMatrix.identity(rows)
        let a2 = scaled * scaled, a4 = a2 * a2, a6 = a4 * a2
        let u = scaled * (a6 * .combination([b[13], b[11], b[9]], [a6, a4, a2])
            + .combination([b[7], b[5], b[3], b[1]], [a6, a4, a2, identity]))
        let v = a6 * .combination([b[12], b[10], b[8]], [a6, a4, a2]) + .combination([b[6], b[4], b[2], b[0]], [a6, a4, a2, identity])
        var result = try DenseMatrix.combination([1, -1], [v, u]).solve(.combination([1, 1], [v, u]), using: lapack)
        for _ in 0..<squarings { result = result * result }
        return result
    }

    static func + (a: DenseMatrix, b: DenseMatrix) -> DenseMatrix { combination([1, 1], [a, b]) }
}

/// The matrix exponential of each square matrix of a stack (SciPy's `expm`; see
/// `DenseMatrix.exponential` for the method).
///
/// Its derivative comes from the block identity
/// `exp([[X, E], [0, X]]) = [[exp(X), L(X, E)], [0, exp(X)]]`, where `L(X, E)` is the
/// Fréchet derivative of `exp` at `X` in direction `E`: the tangent is `L(A, dA)` and the
/// gradient `L(Aᵀ, Ḡ)`.
public struct MatrixExponential: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    package init() {}

    public var description: String { "expm" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        _ = try inputs[0].matrixStack(square: true)
        return [TensorType(matrixAlgebraDType(inputs[0].dtype), shape: inputs[0].shape)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let lapack = try LAPACK.required(by: "a matrix exponential")
        try checkSquare(inputs[0])
        let stack = MatrixStack(inputs[0])
        return [try stack.map(rows: stack.rows, columns: stack.rows, dtype: matrixAlgebraDType(inputs[0].dtype)) {
            try $0.exponential(using: lapack)
        }]
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        [try outputGradients[0].map { try frechetDerivative(at: node.inputs[0].matrixTranspose, direction: $0, location: node.location) }]
    }

    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        [try inputTangents[0].map { try frechetDerivative(at: node.inputs[0], direction: $0, location: node.location) }]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { inputShapes }

    /// `L(x, e)`: the upper right block of `exp([[x, e], [0, x]])`.
    private func frechetDerivative(at x: Variable, direction e: Variable, location: SourceLocation) throws -> Variable {
        let zero = try zerosLike(x)
        let block = try concatenate([concatenate([x, e], axis: -1), concatenate([zero, x], axis: -1)], axis: -2)
        let exponential = try self(block, at: location)
        // [I 0]·exp(block)·[0; I] picks the upper right block.
        let identity = try identity(like: x, at: location)
        let top = try concatenate([identity, zerosLike(identity)], axis: -1)
        let right = try concatenate([zerosLike(identity), identity], axis: -2)
        return try matmul(matmul(top, exponential), right)
    }
}

/// The matrix exponential of each square matrix of `a` (SciPy's `linalg.expm`).
public func expm(_ a: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try MatrixExponential()(a, at: SourceLocation.resolve(fileID: fileID, line: line))
}
