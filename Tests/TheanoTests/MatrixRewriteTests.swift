@testable import Theano
@testable import TheanoOps
@testable import TheanoOptimizer
import Testing

// The rules that exploit matrix structure (TheanoOptimizer/Rules/MatrixStructure.swift):
// each on a graph where it fires, with the exact optimized graph; then whole gradients,
// which must factor each matrix once.

extension RewriteRuleCases {
    /// Float64 inputs `m` (3×3) and `b` (3×2), and what `output` builds of them.
    private static func matrices(_ output: @escaping @Sendable (Variable, Variable) throws -> Variable) -> @Sendable () throws -> RuleGraph {
        {
            let m = tensor("m", dtype: .float64, shape: [3, 3]), b = tensor("b", dtype: .float64, shape: [3, 2])
            return ([m, b], [try output(m, b)])
        }
    }

    /// `m·mᵀ + 4I`: positive definite.
    private static func positiveDefinite(_ m: Variable) throws -> Variable { try dot(m, m.T) + 4 * eye(3, dtype: .float64) }

    /// `m + 4I`: far from singular for the sample values (in (0, 1)).
    private static func dominant(_ m: Variable) throws -> Variable { try m + 4 * eye(3, dtype: .float64) }

    static let matrixAlgebra: [RewriteRuleCase] = [
        RewriteRuleCase("cholesky_solve_chain", "solve(Lᵀ, solve(L, b)) for L = cholesky(A)", excluding: ["specialize"], expected: """
            solve(positiveDefinite, lower) [id A] float64[3, 2]
             ├─ add [id B] float64[3, 3]
             │   ├─ dot [id C] float64[3, 3]
             │   │   ├─ m [id D] float64[3, 3]
             │   │   └─ dimshuffle{1,0} [id E] float64[3, 3]
             │   │       └─ m [id D] float64[3, 3]
             │   └─ constant [id F] float64[3, 3]
             └─ b [id G] float64[3, 2]
            """, build: matrices { m, b in
                let l = try cholesky(positiveDefinite(m))
                return try solveTriangular(l.T, solveTriangular(l, b, lower: true), lower: false)
            }),
        RewriteRuleCase("cholesky_solve_chain", "U⁻¹·U⁻ᵀ·b for U = cholesky(A, lower: false)", excluding: ["specialize"], expected: """
            solve(positiveDefinite, upper) [id A] float64[3, 2]
             ├─ add [id B] float64[3, 3]
             │   ├─ dot [id C] float64[3, 3]
             │   │   ├─ m [id D] float64[3, 3]
             │   │   └─ dimshuffle{1,0} [id E] float64[3, 3]
             │   │       └─ m [id D] float64[3, 3]
             │   └─ constant [id F] float64[3, 3]
             └─ b [id G] float64[3, 2]
            """, build: matrices { m, b in
                let u = try cholesky(positiveDefinite(m), lower: false)
                return try solveTriangular(u, solveTriangular(u, b, lower: false, transposed: true), lower: false)
            }),
        RewriteRuleCase("cho_solve_of_cholesky", "choSolve(cholesky(A), b)", excluding: ["specialize"], expected: """
            solve(positiveDefinite, lower) [id A] float64[3, 2]
             ├─ add [id B] float64[3, 3]
             │   ├─ dot [id C] float64[3, 3]
             │   │   ├─ m [id D] float64[3, 3]
             │   │   └─ dimshuffle{1,0} [id E] float64[3, 3]
             │   │       └─ m [id D] float64[3, 3]
             │   └─ constant [id F] float64[3, 3]
             └─ b [id G] float64[3, 2]
            """, build: matrices { m, b in try choSolve(cholesky(positiveDefinite(m)), b) }),
        RewriteRuleCase("inv_dot_to_solve", "dot(inv(A), b)", excluding: ["specialize"], expected: """
            solve [id A] float64[3, 2]
             ├─ add [id B] float64[3, 3]
             │   ├─ m [id C] float64[3, 3]
             │   └─ constant [id D] float64[3, 3]
             └─ b [id E] float64[3, 2]
            """, build: matrices { m, b in try dot(inv(dominant(m)), b) }),
        RewriteRuleCase("dot_inv_to_solve", "dot(bᵀ, inv(A))", excluding: ["specialize"], expected: """
            dimshuffle{1,0} [id A] float64[2, 3]
             └─ solve [id B] float64[3, 2]
                 ├─ dimshuffle{1,0} [id C] float64[3, 3]
                 │   └─ add [id D] float64[3, 3]
                 │       ├─ m [id E] float64[3, 3]
                 │       └─ constant [id F] float64[3, 3]
                 └─ b [id G] float64[3, 2]
            """, build: matrices { m, b in try dot(b.T, inv(dominant(m))) }),
        RewriteRuleCase("log_abs_det", "log(abs(det(A)))", expected: """
            slogdet_of_lu.1 [id A] float64[]
             ├─ lu_factor.0 [id B] float64[3, 3]
             │   └─ add [id C] float64[3, 3]
             │       ├─ m [id D] float64[3, 3]
             │       └─ constant [id E] float64[3, 3]
             └─ lu_factor.1 [id B] int32[3] ···
            """, build: matrices { m, _ in try log(abs(det(dominant(m)))) }),
        RewriteRuleCase("log_det", "log(det(A))", expected: """
            switch [id A] float64[]
             ├─ ge [id B] bool[]
             │   ├─ slogdet_of_lu.0 [id C] float64[]
             │   │   ├─ lu_factor.0 [id D] float64[3, 3]
             │   │   │   └─ add [id E] float64[3, 3]
             │   │   │       ├─ m [id F] float64[3, 3]
             │   │   │       └─ constant [id G] float64[3, 3]
             │   │   └─ lu_factor.1 [id D] int32[3] ···
             │   └─ constant 0. [id H] float64[]
             ├─ slogdet_of_lu.1 [id C] float64[] ···
             └─ constant nan [id I] float64[]
            """, build: matrices { m, _ in try log(det(dominant(m))) }),
        RewriteRuleCase("det_of_triangular", "det(tril(A))", expected: """
            prod{axes=[0]} [id A] float64[]
             └─ diagonal(offset=0) [id B] float64[3]
                 └─ tril(k=0) [id C] float64[3, 3]
                     └─ m [id D] float64[3, 3]
            """, build: matrices { m, _ in try det(tril(m)) }),
        RewriteRuleCase("det_of_triangular", "det(cholesky(A))", expected: """
            prod{axes=[0]} [id A] float64[]
             └─ diagonal(offset=0) [id B] float64[3]
                 └─ cholesky [id C] float64[3, 3]
                     └─ gemm [id D] float64[3, 3]
                         ├─ constant [id E] float64[3, 3]
                         ├─ constant 1. [id F] float64[]
                         ├─ m [id G] float64[3, 3]
                         ├─ dimshuffle{1,0} [id H] float64[3, 3]
                         │   └─ m [id G] float64[3, 3]
                         └─ constant 1. [id F] float64[]
            """, build: matrices { m, _ in try det(cholesky(positiveDefinite(m))) }),
        RewriteRuleCase("cholesky_of_factor_product", "cholesky(L·Lᵀ) for L = cholesky(A)", expected: """
            cholesky [id A] float64[3, 3]
             └─ gemm [id B] float64[3, 3]
                 ├─ constant [id C] float64[3, 3]
                 ├─ constant 1. [id D] float64[]
                 ├─ m [id E] float64[3, 3]
                 ├─ dimshuffle{1,0} [id F] float64[3, 3]
                 │   └─ m [id E] float64[3, 3]
                 └─ constant 1. [id D] float64[]
            """, build: matrices { m, _ in
                let l = try cholesky(positiveDefinite(m))
                return try cholesky(dot(l, l.T))
            }),
        RewriteRuleCase("solve_positive_definite", "solve(m·mᵀ + 4I, b)", excluding: ["specialize"], expected: """
            solve(positiveDefinite, lower) [id A] float64[3, 2]
             ├─ add [id B] float64[3, 3]
             │   ├─ dot [id C] float64[3, 3]
             │   │   ├─ m [id D] float64[3, 3]
             │   │   └─ dimshuffle{1,0} [id E] float64[3, 3]
             │   │       └─ m [id D] float64[3, 3]
             │   └─ constant [id F] float64[3, 3]
             └─ b [id G] float64[3, 2]
            """, build: matrices { m, b in try solve(positiveDefinite(m), b) }),
        RewriteRuleCase("positive_definite_solve_by_factor", "solve(A, b, assume: .positiveDefinite)", expected: """
            add [id A] float64[3, 2]
             ├─ cho_solve [id B] float64[3, 2]
             │   ├─ cholesky [id C] float64[3, 3]
             │   │   └─ gemm [id D] float64[3, 3]
             │   │       ├─ constant [id E] float64[3, 3]
             │   │       ├─ constant 1. [id F] float64[]
             │   │       ├─ m [id G] float64[3, 3]
             │   │       ├─ dimshuffle{1,0} [id H] float64[3, 3]
             │   │       │   └─ m [id G] float64[3, 3]
             │   │       └─ constant 1. [id F] float64[]
             │   └─ b [id I] float64[3, 2]
             └─ cho_solve [id B] float64[3, 2] ···
            """, build: matrices { m, b in
                let a = try positiveDefinite(m)
                return try solve(a, b, assume: .positiveDefinite, lower: true) + solve(a, b)
            }),
        RewriteRuleCase("general_solve_by_factor", "solve(A, b) and solve(Aᵀ, b): one factorization", expected: """
            add [id A] float64[3, 2]
             ├─ lu_solve [id B] float64[3, 2]
             │   ├─ lu_factor.0 [id C] float64[3, 3]
             │   │   └─ add [id D] float64[3, 3]
             │   │       ├─ m [id E] float64[3, 3]
             │   │       └─ constant [id F] float64[3, 3]
             │   ├─ lu_factor.1 [id C] int32[3] ···
             │   └─ b [id G] float64[3, 2]
             └─ lu_solve(transposed) [id H] float64[3, 2]
                 ├─ lu_factor.0 [id C] float64[3, 3] ···
                 ├─ lu_factor.1 [id C] int32[3] ···
                 └─ b [id G] float64[3, 2]
            """, build: matrices { m, b in
                let a = try dominant(m)
                return try solve(a, b) + solve(a.T, b)
            }),
        RewriteRuleCase("determinant_by_factor", "det(A) beside solve(A, b)", expected: """
            mul [id A] float64[3, 2]
             ├─ dimshuffle{x,x} [id B] float64[1, 1]
             │   └─ det_of_lu [id C] float64[]
             │       ├─ lu_factor.0 [id D] float64[3, 3]
             │       │   └─ add [id E] float64[3, 3]
             │       │       ├─ m [id F] float64[3, 3]
             │       │       └─ constant [id G] float64[3, 3]
             │       └─ lu_factor.1 [id D] int32[3] ···
             └─ lu_solve [id H] float64[3, 2]
                 ├─ lu_factor.0 [id D] float64[3, 3] ···
                 ├─ lu_factor.1 [id D] int32[3] ···
                 └─ b [id I] float64[3, 2]
            """, build: matrices { m, b in
                let a = try dominant(m)
                return try det(a) * solve(a, b)
            }),
        RewriteRuleCase("log_determinant_by_factor", "slogdet(A)", expected: """
            slogdet_of_lu.1 [id A] float64[]
             ├─ lu_factor.0 [id B] float64[3, 3]
             │   └─ add [id C] float64[3, 3]
             │       ├─ m [id D] float64[3, 3]
             │       └─ constant [id E] float64[3, 3]
             └─ lu_factor.1 [id B] int32[3] ···
            """, build: matrices { m, _ in try slogdet(dominant(m)).logAbsDet }),
        RewriteRuleCase("inverse_by_factor", "inv(A) beside solve(A, b)", expected: """
            add [id A] float64[]
             ├─ sum{axes=[0, 1]} [id B] float64[]
             │   └─ lu_solve [id C] float64[3, 3]
             │       ├─ lu_factor.0 [id D] float64[3, 3]
             │       │   └─ add [id E] float64[3, 3]
             │       │       ├─ m [id F] float64[3, 3]
             │       │       └─ constant [id G] float64[3, 3]
             │       ├─ lu_factor.1 [id D] int32[3] ···
             │       └─ constant [id H] float64[3, 3]
             └─ sum{axes=[0, 1]} [id I] float64[]
                 └─ lu_solve [id J] float64[3, 2]
                     ├─ lu_factor.0 [id D] float64[3, 3] ···
                     ├─ lu_factor.1 [id D] int32[3] ···
                     └─ b [id K] float64[3, 2]
            """, build: matrices { m, b in
                let a = try dominant(m)
                return try sum(inv(a)) + sum(solve(a, b))
            }),
    ]
}

extension RewriteRuleCases {
    /// Conversions of sparse matrices that undo each other.
    static let sparse: [RewriteRuleCase] = [
        RewriteRuleCase("dense_of_sparse_of_dense", "toDense(toSparse(x))", x: [nil, nil], expected: """
            exp [id A] float32[?, ?]
             └─ x [id B] float32[?, ?]
            """) { x in try exp(toDense(toSparse(x))) },
        RewriteRuleCase("sparse_transpose_of_transpose", "toDense(toSparse(x)ᵀᵀ)", x: [nil, nil], expected: """
            exp [id A] float32[?, ?]
             └─ x [id B] float32[?, ?]
            """) { x in try exp(toDense(toSparse(x).sparseTransposed.sparseTransposed)) },
        RewriteRuleCase("sparse_format_round_trip", "CSR to CSC and back, then dense", x: [nil, nil], expected: """
            exp [id A] float32[?, ?]
             └─ x [id B] float32[?, ?]
            """) { x in try exp(toDense(toSparse(toSparse(toSparse(x), format: .csc), format: .csr))) },
    ]
}

@Suite("Matrix structure rewrites")
struct MatrixRewriteTests {
    @Test(arguments: RewriteRuleCases.matrixAlgebra + RewriteRuleCases.sparse)
    func matrixRule(_ rule: RewriteRuleCase) throws { try rule.check() }

    /// The op types of `outputs` compiled from `inputs`, with how many nodes of each.
    private func opCounts(_ inputs: [Variable], _ outputs: [Variable]) throws -> [String: Int] {
        let compiled = try function(inputs: inputs, outputs: outputs)
        return Dictionary(compiled.graph.nodes.map { ("\(type(of: $0.op))", 1) }, uniquingKeysWith: +)
    }

    /// The gradient of a Cholesky solve reuses the factor: one factorization, no
    /// triangular solves of `n` right-hand sides, as a hand-written gradient would.
    @Test func choleskySolveGradientFactorsOnce() throws {
        let a = tensor("A", dtype: .float64, shape: [nil, nil]), b = tensor("b", dtype: .float64, shape: [nil, nil])
        let l = try cholesky(a)
        let cost = try sum(solveTriangular(l.T, solveTriangular(l, b, lower: true), lower: false))
        let counts = try opCounts([a, b], [cost] + grad(cost, wrt: [a, b]))
        #expect(counts["Cholesky"] == 1 && counts["CholeskySolve"] == 2, "\(counts)")
        #expect(counts["SolveTriangular"] == nil && counts["MatrixInverse"] == nil, "\(counts)")
    }

    /// The gradient of log|det(A)| factors `A` once for the determinant and its inverse.
    @Test func logDeterminantGradientFactorsOnce() throws {
        let a = tensor("A", dtype: .float64, shape: [nil, nil])
        let cost = try log(abs(det(a)))
        let counts = try opCounts([a], [cost] + grad(cost, wrt: [a]))
        #expect(counts["LUFactor"] == 1 && counts["FactoredDeterminant"] == 1 && counts["MatrixInverse"] == nil, "\(counts)")
    }
}
