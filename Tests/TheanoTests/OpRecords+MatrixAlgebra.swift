@testable import Theano
@testable import TheanoCore
@testable import TheanoOps
import Testing

// Records of the matrix-algebra ops (Sources/TheanoOps/MatrixAlgebra). Their values are
// checked against NumPy and SciPy (Fixtures/matrix_algebra.json); their gradients on
// well-conditioned float64 matrices, each built inside the case (a diagonal shift keeps the
// matrices far from singular, `M·Mᵀ + 4I` positive definite). Noise in the triangle an op
// does not read checks that its gradient there is zero.

extension OpRecords {
    /// `M·Mᵀ + 4I`: symmetric positive definite for any `M`.
    static func positiveDefinite(_ m: Variable) throws -> Variable {
        try matmul(m, m.matrixTranspose) + 4 * shifted(m, by: 1)
    }

    /// `c·I` shaped like the matrices of `x`.
    static func shifted(_ x: Variable, by c: Double) throws -> Variable {
        try c * identity(like: x, at: location)
    }

    /// `x + c·I`.
    static func diagonallyDominant(_ x: Variable, _ c: Double = 4) throws -> Variable { try x + shifted(x, by: c) }

    /// The values and gradients of a case that returns several tensors, flattened into one.
    static func joined(_ parts: [Variable]) throws -> Variable { try concatenate(parts.map { try flatten($0) }) }

    /// Why the factorization ops have no gradient.
    private static let factorization: Reason = "packed factors and pivots: differentiate solve or det instead"
    /// Why some differentiable ops have no pushforward.
    private static let noSimpleTangent: Reason = "no pushforward: its tangent is not simple, and forward mode through it throws"
    /// Square matrices whose matrices are diagonally dominant for ShapeInput.floats values.
    private static func dominant(_ x: Variable) throws -> Variable { try diagonallyDominant(x, 20) }

    static let matrixAlgebra: [OpRecord] = [
        OpRecord(Triangle.self,
                 values: .checked([.builds(.withParameters("tril") { x, p in try tril(x[0], k: p.int("k")) }),
                                   .builds(.withParameters("triu") { x, p in try triu(x[0], k: p.int("k")) })]),
                 gradients: .checked([.unary("tril k=-1", .uniform([3, 4])) { try tril($0, k: -1) },
                                      .unary("triu k=1 of a stack", .uniform(tensor3)) { try triu($0, k: 1) }]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([.unary("tril of a [1, n] row") { try tril($0) }]),
                 shapes: .checked([ShapeCase("triu", [.floats([2, 3, 4])]) { try triu($0[0], k: -1) }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(ExtractDiagonal.self,
                 values: .checked([.builds(.withParameters("diagonal") { x, p in
                                       try diagonal(x[0], offset: p.int("offset"), axis1: p.int("axis1"), axis2: p.int("axis2"))
                                   }), .reaches("diag"), .reaches("trace")]),
                 gradients: .checked([.unary("diagonal offset 1", .uniform([3, 4])) { try diagonal($0, offset: 1) },
                                      .unary("diagonal of axes 2, 0", .uniform(tensor3)) { try diagonal($0, offset: -1, axis1: 2, axis2: 0) },
                                      .unary("trace", .uniform([4, 4])) { try trace($0) }]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([.unary("diagonal of a [1, n] row") { try diagonal($0) }]),
                 shapes: .checked([ShapeCase("diagonal offset 2", [.floats([3, 5])]) { try diagonal($0[0], offset: 2) },
                                   ShapeCase("diagonal offset -4: empty", [.floats([3, 5])]) { try diagonal($0[0], offset: -4) }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(EmbedDiagonal.self,
                 values: .checked([.builds(.withParameters("diag") { x, p in try diag(x[0], k: p.int("k")) })]),
                 gradients: .checked([.unary("diag of a vector, k=1", .uniform([3])) { try diag($0, k: 1) }]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([SizeOneOperands("diag of a [1] vector", [[1]]) { try diag($0[0]) }]),
                 shapes: .checked([ShapeCase("diag k=-2", [.floats([3])]) { try diag($0[0], k: -2) }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(Cholesky.self,
                 values: .checked([.builds(.withParameters("cholesky") { x, p in try cholesky(x[0], lower: p.bool("lower", default: true)) })]),
                 gradients: .checked([
                     .binary("cholesky, noise above the diagonal", .uniform([4, 4]), .uniform([4, 4])) { m, n in
                         try cholesky(positiveDefinite(m) + triu(n, k: 1))
                     },
                     .binary("upper cholesky, noise below the diagonal", .uniform([3, 3]), .uniform([3, 3])) { m, n in
                         try cholesky(positiveDefinite(m) + tril(n, k: -1), lower: false)
                     },
                     .unary("cholesky of a stack", .uniform([2, 3, 3])) { try cholesky(positiveDefinite($0)) },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([SizeOneOperands("cholesky of a 1×1 matrix", [[1, 1]]) { try cholesky(positiveDefinite($0[0])) }]),
                 shapes: .checked([ShapeCase("cholesky", [.floats([3, 3])]) { try cholesky(positiveDefinite($0[0])) }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(SolveTriangular.self,
                 values: .checked([.builds(.withParameters("solve_triangular") { x, p in
                                       try solveTriangular(x[0], x[1], lower: p.bool("lower", default: false), transposed: p.bool("transposed", default: false),
                                                           unitDiagonal: p.bool("unit", default: false))
                                   }), .reaches("solve/lower_triangular/float64")]),
                 gradients: .checked([false, true].flatMap { lower in [false, true].flatMap { transposed in [false, true].map { unit in
                     GradientCase.binary("solveTriangular \(lower ? "lower" : "upper")\(transposed ? " transposed" : "")\(unit ? " unit" : "")",
                                         .uniform([3, 3]), .uniform([3, 2])) { a, b in
                         try solveTriangular(diagonallyDominant(a), b, lower: lower, transposed: transposed, unitDiagonal: unit)
                     }
                 } } } + [.binary("solveTriangular of vectors in a stack", .uniform([2, 3, 3]), .uniform([2, 3])) { a, b in
                     try solveTriangular(diagonallyDominant(a), b, lower: true)
                 }]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([SizeOneOperands("1×1 by 1×n", [[1, 1], [1, 3]]) { try solveTriangular(diagonallyDominant($0[0]), $0[1]) }]),
                 shapes: .checked([ShapeCase("solveTriangular", [.floats([3, 3]), .floats([3, 2])]) { try solveTriangular(dominant($0[0]), $0[1]) }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(Solve.self,
                 values: .checked([.builds(.withParameters("solve") { x, p in
                                       try solve(x[0], x[1], assume: #require(MatrixStructure(rawValue: p.string("assume"))),
                                                 lower: p.bool("lower", default: false))
                                   })]),
                 gradients: .checked([
                     .binary("solve", .uniform([3, 3]), .uniform([3, 2])) { a, b in try solve(diagonallyDominant(a), b) },
                     .binary("solve for a vector", .uniform([3, 3]), .uniform([3])) { a, b in try solve(diagonallyDominant(a), b) },
                     .binary("solve a stack", .uniform([2, 3, 3]), .uniform([2, 3, 2])) { a, b in try solve(diagonallyDominant(a), b) },
                     .ternary("solve positive definite, lower, noise above", .uniform([3, 3]), .uniform([3, 3]), .uniform([3, 2])) { m, n, b in
                         try solve(positiveDefinite(m) + triu(n, k: 1), b, assume: .positiveDefinite, lower: true)
                     },
                     .ternary("solve symmetric, upper, noise below", .uniform([3, 3]), .uniform([3, 3]), .uniform([3, 2])) { m, n, b in
                         try solve(diagonallyDominant(m + m.T, 8) + tril(n, k: -1), b, assume: .symmetric)
                     },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([SizeOneOperands("1×1 by 1×n", [[1, 1], [1, 3]]) { try solve(diagonallyDominant($0[0]), $0[1]) }]),
                 shapes: .checked([ShapeCase("solve", [.floats([3, 3]), .floats([3, 2])]) { try solve(dominant($0[0]), $0[1]) }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(CholeskySolve.self,
                 values: .checked([.builds(.withParameters("cho_solve") { x, p in try choSolve(x[0], x[1], lower: p.bool("lower", default: true)) })]),
                 gradients: .checked([
                     .binary("choSolve lower", .uniform([3, 3]), .uniform([3, 2])) { l, b in try choSolve(diagonallyDominant(l), b) },
                     .binary("choSolve upper, of a vector", .uniform([3, 3]), .uniform([3])) { u, b in
                         try choSolve(diagonallyDominant(u), b, lower: false)
                     },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([SizeOneOperands("1×1 by 1×n", [[1, 1], [1, 3]]) { try choSolve(diagonallyDominant($0[0]), $0[1]) }]),
                 shapes: .checked([ShapeCase("choSolve", [.floats([3, 3]), .floats([3, 2])]) { try choSolve(dominant($0[0]), $0[1]) }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(LUFactor.self,
                 values: .checked([.builds(.withParameters("lu_factor") { x, p in
                                       let (lu, pivots) = try luFactor(x[0])
                                       return try p.int("output") == 0 ? lu : pivots
                                   })]),
                 gradients: .notApplicable(because: factorization),
                 forwardMode: .notApplicable(because: factorization),
                 gradientTypes: .notApplicable(because: factorization),
                 shapes: .checked([ShapeCase("luFactor", [.floats([3, 3])]) { try luFactor(dominant($0[0])).pivots }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(LUSolve.self,
                 values: .checked([.builds(.withParameters("lu_solve") { x, p in
                                       try luSolve(x[0], x[1], x[2], transposed: p.bool("transposed", default: false))
                                   })]),
                 gradients: .notApplicable(because: factorization),
                 forwardMode: .notApplicable(because: factorization),
                 gradientTypes: .notApplicable(because: factorization),
                 shapes: .checked([ShapeCase("luSolve", [.floats([3, 3]), .floats([3, 2])]) { x in
                     let (lu, pivots) = try luFactor(dominant(x[0]))
                     return try luSolve(lu, pivots, x[1])
                 }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(FactoredDeterminant.self,
                 values: .notApplicable(because: "made only by the specialize phase, from det and slogdet, whose values the fixtures check"),
                 gradients: .notApplicable(because: .noPullback),
                 forwardMode: .notApplicable(because: .noPullback),
                 gradientTypes: .notApplicable(because: .noPullback),
                 shapes: .checked([ShapeCase("slogdet of a factorization", [.floats([2, 3, 3])]) { x in
                     let (lu, pivots) = try luFactor(dominant(x[0]))
                     return try FactoredDeterminant(logarithmic: true).apply([lu, pivots], at: location).outputs[1]
                 }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(MatrixInverse.self,
                 values: .checked([.builds(.unary("inv") { try inv($0) })]),
                 gradients: .checked([.unary("inv", .uniform([3, 3])) { try inv(diagonallyDominant($0)) },
                                      .unary("inv of a stack", .uniform([2, 3, 3])) { try inv(diagonallyDominant($0)) }]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([SizeOneOperands("inv of a 1×1 matrix", [[1, 1]]) { try inv(diagonallyDominant($0[0])) }]),
                 shapes: .checked([ShapeCase("inv", [.floats([3, 3])]) { try inv(dominant($0[0])) }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(PseudoInverse.self,
                 values: .checked([.builds(.unary("pinv") { try pinv($0) })]),
                 gradients: .checked([.unary("pinv of a tall matrix", .uniform([4, 3])) { try pinv($0) },
                                      .unary("pinv of a wide matrix", .uniform([2, 4])) { try pinv($0) }]),
                 forwardMode: .notApplicable(because: noSimpleTangent),
                 gradientTypes: .checked([SizeOneOperands("pinv of a 1×n row", [[1, 3]]) { try pinv($0[0]) }]),
                 shapes: .checked([ShapeCase("pinv", [.floats([3, 5])]) { try pinv($0[0]) }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(Determinant.self,
                 values: .checked([.builds(.unary("det") { try det($0) })]),
                 gradients: .checked([.unary("det", .uniform([3, 3])) { try det(diagonallyDominant($0, 2)) },
                                      .unary("det of a stack", .uniform([2, 3, 3])) { try det(diagonallyDominant($0, 2)) }]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([SizeOneOperands("det of a 1×1 matrix", [[1, 1]]) { try det(diagonallyDominant($0[0])) }]),
                 shapes: .checked([ShapeCase("det of a stack", [.floats([2, 3, 3])]) { try det($0[0]) }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(SignAndLogDeterminant.self,
                 values: .checked([.builds(.withParameters("slogdet") { x, p in
                                       let (sign, logAbsDet) = try slogdet(x[0])
                                       return try p.int("output") == 0 ? sign : logAbsDet
                                   })]),
                 gradients: .checked([.unary("slogdet", .uniform([3, 3])) { try slogdet(diagonallyDominant($0, 2)).logAbsDet },
                                      .unary("sign·exp(logAbsDet) of a stack", .uniform([2, 3, 3])) { x in
                                          let (sign, logAbsDet) = try slogdet(diagonallyDominant(x, 2))
                                          return try sign * exp(logAbsDet)
                                      }]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([SizeOneOperands("slogdet of a 1×1 matrix", [[1, 1]]) { try slogdet(diagonallyDominant($0[0])).logAbsDet }]),
                 shapes: .checked([ShapeCase("slogdet", [.floats([3, 3])]) { try slogdet($0[0]).logAbsDet }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(Eigh.self,
                 values: .checked([.builds(.withParameters("eigh") { x, p in
                                       let (values, vectors) = try eigh(x[0], lower: p.bool("lower", default: true))
                                       guard try p.int("output") == 1 else { return values }
                                       // The sign of each eigenvector is arbitrary: make its first element positive.
                                       return try vectors * expandDims(sign(vectors[0]), axis: 0)
                                   }), .builds(.unary("eigvalsh") { try eigvalsh($0) })]),
                 gradients: .checked([
                     .binary("eigvalsh, noise above the diagonal", .uniform([4, 4]), .uniform([4, 4])) { a, n in
                         try eigvalsh(a + a.T + triu(n, k: 1))
                     },
                     // V·diag(sin w)·Vᵀ and V∘V do not depend on the eigenvectors' signs.
                     .binary("eigh, upper, through a matrix function", .uniform([3, 3]), .uniform([3, 3])) { a, n in
                         let (w, v) = try eigh(a + a.T + tril(n, k: -1), lower: false)
                         return try matmul(v * expandDims(sin(w), axis: 0), v.T) + v * v
                     },
                     .unary("eigh of a stack", .uniform([2, 3, 3])) { a in
                         let (w, v) = try eigh(a + a.matrixTranspose)
                         return try joined([w, v * v])
                     },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([SizeOneOperands("eigvalsh of a 1×1 matrix", [[1, 1]]) { try eigvalsh($0[0]) }]),
                 shapes: .checked([ShapeCase("eigh", [.floats([3, 3])]) { try eigh($0[0]).vectors }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(Eigenvalues.self,
                 values: .checked([.builds(.withParameters("eigvals") { x, p in
                                       let (real, imaginary) = try eigvals(x[0])
                                       return try p.int("output") == 0 ? real : imaginary
                                   })]),
                 gradients: .notApplicable(because: "not differentiable here: its eigenvalues may be complex"),
                 forwardMode: .notApplicable(because: "not differentiable here: its eigenvalues may be complex"),
                 gradientTypes: .notApplicable(because: "not differentiable here: its eigenvalues may be complex"),
                 shapes: .checked([ShapeCase("eigvals", [.floats([3, 3])]) { try eigvals($0[0]).imaginary }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(SVD.self,
                 values: .checked([.builds(.withParameters("svd") { x, p in
                                       let (u, _, vt) = try svd(x[0], fullMatrices: p.bool("full", default: true))
                                       // Signs are arbitrary: each column of u and each row of vt starts positive.
                                       return try p.int("output") == 0 ? u * expandDims(sign(u[0]), axis: 0) : vt * expandDims(sign(vt.T[0]), axis: 1)
                                   }), .builds(.unary("svdvals") { try svdvals($0) })]),
                 gradients: .checked([
                     .unary("svdvals of a tall matrix", .uniform([4, 3])) { try svdvals($0) },
                     .unary("svdvals of a wide stack", .uniform([2, 2, 3])) { try svdvals($0) },
                     // U·diag(sin s)·Vᵀ, U∘U and V∘V do not depend on the singular vectors' signs.
                     .unary("reduced svd of a tall matrix through a matrix function", .uniform([4, 3])) { a in
                         let (u, s, vt) = try svd(a, fullMatrices: false)
                         return try joined([matmul(u * expandDims(sin(s), axis: 0), vt), u * u, vt * vt])
                     },
                     .unary("reduced svd of a wide matrix", .uniform([2, 4])) { a in
                         let (u, s, vt) = try svd(a, fullMatrices: false)
                         return try joined([s, u * u, vt * vt])
                     },
                     .unary("complete svd of a square matrix", .uniform([3, 3])) { a in
                         let (u, s, vt) = try svd(a)
                         return try joined([s, u * u, vt * vt])
                     },
                 ]),
                 forwardMode: .notApplicable(because: noSimpleTangent),
                 gradientTypes: .checked([SizeOneOperands("svdvals of a 1×n row", [[1, 3]]) { try svdvals($0[0]) }]),
                 shapes: .checked([ShapeCase("svd", [.floats([3, 5])]) { try svd($0[0]).vt },
                                   ShapeCase("reduced svd", [.floats([5, 3])]) { try svd($0[0], fullMatrices: false).u }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(QR.self,
                 values: .checked([.builds(.withParameters("qr") { x, p in
                                       let (q, r) = try qr(x[0], mode: p.string("mode") == "complete" ? .complete : .reduced)
                                       return try p.int("output") == 0 ? q : r
                                   })]),
                 gradients: .checked([.unary("qr of a tall matrix", .uniform([4, 3])) { a in
                                          let (q, r) = try qr(a)
                                          return try joined([q, r])
                                      },
                                      .unary("r of qr of a square matrix", .uniform([3, 3])) { try qr($0).r }]),
                 forwardMode: .notApplicable(because: noSimpleTangent),
                 gradientTypes: .checked([SizeOneOperands("qr of a 1×1 matrix", [[1, 1]]) { try qr(diagonallyDominant($0[0])).q }]),
                 shapes: .checked([ShapeCase("qr", [.floats([5, 3])]) { try qr($0[0]).q },
                                   ShapeCase("complete qr", [.floats([5, 3])]) { try qr($0[0], mode: .complete).r }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(LeastSquares.self,
                 values: .checked([.builds(.binary("lstsq") { try lstsq($0, $1) })]),
                 gradients: .checked([.binary("lstsq, overdetermined", .uniform([5, 3]), .uniform([5, 2])) { try lstsq($0, $1) },
                                      .binary("lstsq of a vector, underdetermined", .uniform([2, 4]), .uniform([2])) { try lstsq($0, $1) }]),
                 forwardMode: .notApplicable(because: noSimpleTangent),
                 gradientTypes: .checked([SizeOneOperands("1×1 by 1×n", [[1, 1], [1, 3]]) { try lstsq(diagonallyDominant($0[0]), $0[1]) }]),
                 shapes: .checked([ShapeCase("lstsq", [.floats([5, 3]), .floats([5, 2])]) { try lstsq($0[0], $0[1]) }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(MatrixExponential.self,
                 values: .checked([.builds(.unary("expm") { try expm($0) })]),
                 gradients: .checked([.unary("expm", .uniform([3, 3], -1...1)) { try expm($0) },
                                      .unary("expm of a stack, scaled and squared", .uniform([2, 3, 3])) { try expm(3 * $0) }]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([SizeOneOperands("expm of a 1×1 matrix", [[1, 1]]) { try expm($0[0]) }]),
                 shapes: .checked([ShapeCase("expm", [.floats([3, 3])]) { try expm($0[0] / 10) }]),
                 native: .notApplicable(because: .noNativeKernel)),
    ]

    /// Fixture ops of functions composed of other ops (no op of their own), so no record
    /// builds them; their gradients come from those ops'. `einsum` becomes products, sums,
    /// transposes and gathers.
    static let composedFixtureOps: [FixtureOp] = [
        .withParameters("einsum") { operands, params in try einsum(params.string("subscripts"), operands) },
        .binary("matmul") { try matmul($0, $1) },
        .binary("kron") { try kron($0, $1) },
        .withParameters("matrix_power") { x, p in try matrixPower(x[0], p.int("n")) },
        .withParameters("trace") { x, p in try trace(x[0], offset: p.int("offset")) },
        .withParameters("tensorinv") { x, p in try tensorinv(x[0], ind: p.int("ind")) },
        .binary("tensorsolve") { try tensorsolve($0, $1) },
        .withParameters("norm") { x, p in
            let order: NormOrder? = switch p["order"] {
            case .string("fro")?: .frobenius
            case .string("nuc")?: .nuclear
            case .string("inf")?: .infinity
            case .string("-inf")?: .negativeInfinity
            case .number(let value)?: .p(value)
            default: nil
            }
            return try norm(x[0], order: order, axis: p.optionalInts("axis"), keepDims: p.bool("keepdims", default: false))
        },
    ]
}
