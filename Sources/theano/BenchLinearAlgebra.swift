import Theano

extension Bench {
    /// W13, float64 dense linear algebra as in the peer harness: the sum of the solution of
    /// `A·x = b` through the Cholesky factor of `A` (512×512, `M·Mᵀ + 512·I`) for 16
    /// right-hand sides, with its gradient with respect to `A` and `b`; the singular values
    /// of a 512×256 matrix; and log|det(A)| of a 256×256 matrix with its gradient.
    func timeLinearAlgebra() throws {
        var random = RandomState(seed: 1300)
        let a = tensor("A", dtype: .float64, shape: [nil, nil]), b = tensor("b", dtype: .float64, shape: [nil, nil])

        let m = tensor("M", dtype: .float64, shape: [512, 512])
        let positiveDefinite = try function(inputs: [m], outputs: [dot(m, m.T) + 512 * eye(512, dtype: .float64)])(
            [NDArray.uniform([512, 512], low: -1, high: 1, dtype: .float64, using: &random)])[0]
        let rightHandSides = NDArray.uniform([512, 16], low: -1, high: 1, dtype: .float64, using: &random)
        let factor = try cholesky(a)
        let cost = try sum(solveTriangular(factor.T, solveTriangular(factor, b, lower: true), lower: false))
        let solveStep = try function(inputs: [a, b], outputs: [cost] + grad(cost, wrt: [a, b]), options: options, profile: profile)
        try report(workload: "linalg", variant: "cholesky_solve", extra: ["notes": backend]) {
            _ = try solveStep([positiveDefinite, rightHandSides])
        }
        if let profile = solveStep.profile { print(profile) }

        let tall = NDArray.uniform([512, 256], low: -1, high: 1, dtype: .float64, using: &random)
        let singularValues = try function(inputs: [a], outputs: [svdvals(a)], options: options, profile: profile)
        try report(workload: "linalg", variant: "svd", extra: ["notes": backend]) { _ = try singularValues([tall]) }
        if let profile = singularValues.profile { print(profile) }

        let square = NDArray.uniform([256, 256], low: -1, high: 1, dtype: .float64, using: &random)
        let logDeterminant = try log(abs(det(a)))
        let determinantStep = try function(inputs: [a], outputs: [logDeterminant] + grad(logDeterminant, wrt: [a]), options: options, profile: profile)
        try report(workload: "linalg", variant: "det_grad", extra: ["notes": backend]) { _ = try determinantStep([square]) }
        if let profile = determinantStep.profile { print(profile) }
    }

    /// W12, as in the peer harness: a float32 CSR matrix of 20,000×20,000 storing about
    /// 400,000 positions (0.1 %, drawn uniformly, duplicates dropped; values in [-1, 1)) times
    /// a dense 20,000×64 matrix; and the gradient of the sum of the product's squares with
    /// respect to the dense matrix (`Sᵀ·2·S·D`).
    func timeSparseProducts() throws {
        let (size, columns, stored) = (20_000, 64, 400_000)
        var random = RandomState(seed: 1100)
        let positions = Array(Set((0..<stored).map { _ in Int(random.next() % UInt64(size * size)) })).sorted()
        var indptr = [Int](repeating: 0, count: size + 1)
        for position in positions { indptr[position / size + 1] += 1 }
        for row in 0..<size { indptr[row + 1] += indptr[row] }
        let values = NDArray.uniform([positions.count], low: -1, high: 1, dtype: .float32, using: &random)
        let matrix = try SparseMatrix(format: .csr, shape: [size, size], data: values, indices: positions.map { $0 % size }, indptr: indptr)
        let dense = NDArray.uniform([size, columns], low: -1, high: 1, dtype: .float32, using: &random)

        let s = try sparseMatrix("S", dtype: .float32), d = tensor("D", dtype: .float32, shape: [nil, nil])
        let product = try structuredDot(s, d)
        let variants = [("fwd", product), ("grad", try grad(sum(product * product), wrt: [d])[0])]
        for (variant, output) in variants {
            let f = try function(inputs: [s, d], outputs: [output], options: options, profile: profile)
            try report(workload: "sparse_dot", variant: variant, extra: ["notes": backend + ", \(positions.count) stored"]) {
                _ = try f([NDArray(sparse: matrix), dense])
            }
            if let profile = f.profile { print(profile) }
        }
    }
}
