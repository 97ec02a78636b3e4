import TheanoCore
import TheanoOps

// Rules that exploit what is known of a matrix: factors, triangles, positive definiteness,
// and factorizations several ops can share.

/// Stabilize-phase rules (so gradients are those of the cheaper, more accurate forms).
package let matrixStabilizeRules: [Rewrite] = [
    choleskySolveChain, choleskySolveOfFactor, inverseTimesMatrix, matrixTimesInverse, logOfDeterminant, logOfAbsoluteDeterminant,
    determinantOfTriangular, choleskyOfFactorProduct, solveWithPositiveDefinite,
]

/// Specialize-phase rules: each solve and inverse becomes a factorization and a solve with
/// it, so that the merge pass leaves one factorization of each matrix however many solves,
/// gradients and inverses use it.
package let matrixSpecializeRules: [Rewrite] = [
    positiveDefiniteSolveByFactor, generalSolveByFactor, inverseByFactor, determinantByFactor, logDeterminantByFactor,
]

// MARK: - What a matrix is known to be

/// `x` without a transposition of its last two axes: the matrix and whether it was
/// transposed.
private func untransposed(_ x: Variable) -> (matrix: Variable, transposed: Bool) {
    guard let node = x.owner, let shuffle = node.op as? DimShuffle else { return (x, false) }
    let n = x.ndim
    let swap = (0..<(n - 2)).map(DimPattern.input) + [.input(n - 1), .input(n - 2)]
    return n >= 2 && shuffle.pattern == swap && node.inputs[0].ndim == n ? (node.inputs[0], true) : (x, false)
}

/// `xᵀ` for a matrix `x`: the matrix `x` transposes, if it is a transposition.
private func transposed(_ x: Variable) throws -> Variable {
    let (matrix, wasTransposed) = untransposed(x)
    return wasTransposed ? matrix : try x.T
}

/// What a triangular solve applies the inverse of: `op(F)⁻¹`, with `F` the factor the solve
/// reads (its transposition seen through) and `op` a transposition when `transposed`.
private func triangularInverse(_ node: Apply) -> (factor: Variable, transposed: Bool, lower: Bool)? {
    guard let op = node.op as? SolveTriangular, !op.unitDiagonal else { return nil }
    let (factor, flipped) = untransposed(node.inputs[0])
    return (factor, op.transposed != flipped, op.lower != flipped)
}

/// The node computing the Cholesky factor `x`, if it is one.
private func choleskyNode(of x: Variable) -> (node: Apply, op: Cholesky)? {
    guard let node = x.owner, let op = node.op as? Cholesky else { return nil }
    return (node, op)
}

/// Whether `x` is a constant diagonal matrix with a positive diagonal, or a positive scalar
/// constant times one.
private func isPositiveDiagonalConstant(_ x: Variable) -> Bool {
    if let constant = x as? Constant {
        let value = constant.value
        guard value.ndim == 2, value.shape[0] == value.shape[1] else { return false }
        let n = value.shape[0], elements = value.contiguous().elements(as: Double.self)
        return (0..<n).allSatisfy { i in (0..<n).allSatisfy { j in i == j ? elements[i * n + j] > 0 : elements[i * n + j] == 0 } }
    }
    guard let node = x.owner, node.op is Multiply else { return false }
    let (a, b) = (node.inputs[0], node.inputs[1])
    return (a.constantScalar ?? 0) > 0 && isPositiveDiagonalConstant(b) || (b.constantScalar ?? 0) > 0 && isPositiveDiagonalConstant(a)
}

/// Whether the matrix `x` is known to be symmetric positive definite: `M·Mᵀ` plus a positive
/// diagonal constant, or `L·Lᵀ` for a lower Cholesky factor `L` (`Uᵀ·U` for an upper one).
private func isKnownPositiveDefinite(_ x: Variable) -> Bool {
    guard let node = x.owner, x.ndim == 2 else { return false }
    if node.op is Add {
        let (a, b) = (node.inputs[0], node.inputs[1])
        return gramFactor(a) != nil && isPositiveDiagonalConstant(b) || gramFactor(b) != nil && isPositiveDiagonalConstant(a)
    }
    guard let gram = gramFactor(x), let factor = choleskyNode(of: gram.matrix) else { return false }
    return factor.op.lower == gram.transposedOnRight
}

/// `M` when `x` is `M·Mᵀ` (`transposedOnRight`) or `Mᵀ·M`: symmetric positive semidefinite.
private func gramFactor(_ x: Variable) -> (matrix: Variable, transposedOnRight: Bool)? {
    guard let node = x.owner, node.op is Dot, x.ndim == 2 else { return nil }
    let (left, right) = (untransposed(node.inputs[0]), untransposed(node.inputs[1]))
    guard left.matrix === right.matrix, left.transposed != right.transposed else { return nil }
    return (left.matrix, right.transposed)
}

// MARK: - Stabilize

/// `solve(Lᵀ, solve(L, b))` through the Cholesky factor `L` of `A` (or `U⁻¹·U⁻ᵀ·b` for an
/// upper factor) → `solve(A, b, assume: .positiveDefinite)`: one node, whose gradient costs
/// two solves with the factor instead of two triangular solves of `n` right-hand sides.
let choleskySolveChain = Rewrite.node("cholesky_solve_chain", on: [SolveTriangular.self]) { node, _ in
    guard let outer = triangularInverse(node), let innerNode = node.inputs[1].owner, let inner = triangularInverse(innerNode),
          outer.factor === inner.factor, let (factorNode, cholesky) = choleskyNode(of: outer.factor),
          outer.lower == cholesky.lower, inner.lower == cholesky.lower,
          inner.transposed != cholesky.lower, outer.transposed == cholesky.lower
    else { return nil }
    return [try Solve(structure: .positiveDefinite, lower: cholesky.lower)([factorNode.inputs[0], innerNode.inputs[1]], at: node.location)]
}

/// `choSolve(cholesky(A), b) → solve(A, b, assume: .positiveDefinite)`.
let choleskySolveOfFactor = Rewrite.node("cho_solve_of_cholesky", on: [CholeskySolve.self]) { node, _ in
    guard let op = node.op as? CholeskySolve, let (factorNode, cholesky) = choleskyNode(of: node.inputs[0]), cholesky.lower == op.lower
    else { return nil }
    return [try Solve(structure: .positiveDefinite, lower: op.lower)([factorNode.inputs[0], node.inputs[1]], at: node.location)]
}

/// `dot(inv(A), b) → solve(A, b)`: no inverse formed, and the gradient solves too.
let inverseTimesMatrix = Rewrite.node("inv_dot_to_solve", on: [Dot.self]) { node, _ in
    guard let inverse = node.inputs[0].owner, inverse.op is MatrixInverse, inverse.inputs[0].ndim == 2, (1...2).contains(node.inputs[1].ndim)
    else { return nil }
    return [try solve(inverse.inputs[0], node.inputs[1])]
}

/// `dot(b, inv(A)) → solve(Aᵀ, bᵀ)ᵀ`.
let matrixTimesInverse = Rewrite.node("dot_inv_to_solve", on: [Dot.self]) { node, _ in
    guard let inverse = node.inputs[1].owner, inverse.op is MatrixInverse, inverse.inputs[0].ndim == 2, (1...2).contains(node.inputs[0].ndim)
    else { return nil }
    let b = node.inputs[0], a = inverse.inputs[0]
    return [b.ndim == 1 ? try solve(transposed(a), b) : try solve(transposed(a), transposed(b)).T]
}

/// `log(abs(det(A))) → slogdet(A).logAbsDet`: finite where the determinant overflows or
/// underflows.
let logOfAbsoluteDeterminant = Rewrite.pattern("log_abs_det", .op(Log.self, .op(Absolute.self, .op(Determinant.self, "A")))) { match in
    try slogdet(match["A"]).logAbsDet
}

/// `log(det(A)) → logAbsDet` where the sign is not negative, NaN where it is.
let logOfDeterminant = Rewrite.pattern("log_det", .op(Log.self, .op(Determinant.self, "A"))) { match in
    let (sign, logAbsDet) = try slogdet(match["A"])
    return try `switch`(ge(sign, 0), logAbsDet, constant(.nan, dtype: logAbsDet.dtype))
}

/// `det(A)` of a triangular or diagonal `A` (a triangle, a Cholesky factor, a diagonal
/// matrix) → the product of its diagonal.
let determinantOfTriangular = Rewrite.node("det_of_triangular", on: [Determinant.self]) { node, _ in
    let a = node.inputs[0]
    guard let source = a.owner else { return nil }
    let triangular = switch source.op {
    case let triangle as Triangle: triangle.lower ? triangle.offset <= 0 : triangle.offset >= 0
    case is Cholesky: true
    case let embedded as EmbedDiagonal: embedded.offset == 0
    default: false
    }
    guard triangular else { return nil }
    return [try cast(prod(ExtractDiagonal(offset: 0)(a, at: node.location), axis: -1), to: node.outputTypes[0].dtype, at: node.location)]
}

/// `cholesky(L·Lᵀ) → L` for a lower Cholesky factor `L` (`cholesky(Uᵀ·U) → U` for an upper
/// one): the factor is unique.
let choleskyOfFactorProduct = Rewrite.node("cholesky_of_factor_product", on: [Cholesky.self]) { node, _ in
    guard let op = node.op as? Cholesky, let gram = gramFactor(node.inputs[0]), let (_, factor) = choleskyNode(of: gram.matrix),
          factor.lower == op.lower, gram.transposedOnRight == op.lower
    else { return nil }
    return [gram.matrix]
}

/// `solve(A, b)` with `A` known positive definite (`M·Mᵀ + c·I`, a Cholesky factor's
/// product) → a Cholesky solve, reading its lower triangle.
let solveWithPositiveDefinite = Rewrite.node("solve_positive_definite", on: [Solve.self]) { node, _ in
    guard let op = node.op as? Solve, op.structure == .general, isKnownPositiveDefinite(node.inputs[0]) else { return nil }
    return [try Solve(structure: .positiveDefinite, lower: true)(node.inputs, at: node.location)]
}

// MARK: - Specialize

/// `solve(A, b, assume: .positiveDefinite) → choSolve(cholesky(A), b)`.
let positiveDefiniteSolveByFactor = Rewrite.node("positive_definite_solve_by_factor", on: [Solve.self]) { node, _ in
    guard let op = node.op as? Solve, op.structure == .positiveDefinite else { return nil }
    let factor = try Cholesky(lower: op.lower)(node.inputs[0], at: node.location)
    return [try CholeskySolve(lower: op.lower)([factor, node.inputs[1]], at: node.location)]
}

/// `solve(A, b) → luSolve(luFactor(A), b)`, and `solve(Aᵀ, b)` → the transposed solve with
/// the factorization of `A`.
let generalSolveByFactor = Rewrite.node("general_solve_by_factor", on: [Solve.self]) { node, _ in
    guard let op = node.op as? Solve, op.structure == .general else { return nil }
    let (matrix, transposed) = untransposed(node.inputs[0])
    let factorization = try LUFactor().apply([matrix], at: node.location).outputs
    return [try LUSolve(transposed: transposed)(factorization + [node.inputs[1]], at: node.location)]
}

/// `inv(A) → luSolve(luFactor(A), I)`, sharing the factorization with solves.
let inverseByFactor = Rewrite.node("inverse_by_factor", on: [MatrixInverse.self]) { node, _ in
    let a = node.inputs[0]
    let factorization = try LUFactor().apply([a], at: node.location).outputs
    let identity = try identity(like: factorization[0], at: node.location) + zerosLike(factorization[0])
    return [try LUSolve(transposed: false)(factorization + [identity], at: node.location)]
}

/// `det(A)` → the determinant of `luFactor(A)`, sharing the factorization.
let determinantByFactor = Rewrite.node("determinant_by_factor", on: [Determinant.self]) { node, _ in
    let factorization = try LUFactor().apply(node.inputs, at: node.location).outputs
    return [try FactoredDeterminant(logarithmic: false)(factorization, at: node.location)]
}

/// `slogdet(A)` → the sign and logarithm of the determinant of `luFactor(A)`.
let logDeterminantByFactor = Rewrite.node("log_determinant_by_factor", on: [SignAndLogDeterminant.self]) { node, _ in
    let factorization = try LUFactor().apply(node.inputs, at: node.location).outputs
    return try FactoredDeterminant(logarithmic: true).apply(factorization, at: node.location).outputs
}
