import TheanoCore

/// The product `S·D` of a sparse matrix and a dense one, a dense matrix (Theano's
/// `structured_dot`): each stored value `S[i, j]` adds `S[i, j]·D[j, :]` to row `i`, so the
/// work is the stored count times `D`'s columns. Bands of result rows run in parallel.
///
/// Gradients: `D̄ = Sᵀ·Ḡ`, and the *structured* `S̄`: `(Ḡ·Dᵀ)[i, j]` at the stored positions
/// only (``SampledProduct``), never the dense `Ḡ·Dᵀ`.
public struct StructuredDot: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp, SparseOp {
    package init() {}

    public var description: String { "structured_dot" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (s, d) = (inputs[0], inputs[1])
        guard s.isSparse, !d.isSparse, d.ndim == 2, s.dtype.isFloat, s.dtype == d.dtype else {
            throw OpError("multiplies a sparse matrix by a dense matrix of the same float dtype")
        }
        if let x = s.shape[1], let y = d.shape[0], x != y { throw OpError("inner sizes \(x) and \(y) differ") }
        return [TensorType(s.dtype, shape: [s.shape[0], d.shape[1]])]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let s = try sparseOperand(inputs[0]), d = inputs[1].contiguous()
        guard s.shape[1] == d.shape[0] else {
            throw OpError("cannot multiply a sparse matrix of shape \(shapeText(s.shape)) by a matrix of shape \(shapeText(d.shape))")
        }
        struct Multiply: FloatVisitor {
            let s: SparseMatrix, d: NDArray
            func visit<T: FloatElement & NumericElement>(_: T.Type) -> NDArray {
                let (rows, columns) = (s.shape[0], d.shape[1])
                let out = NDArray(zeros: [rows, columns], dtype: T.dtype)
                s.data.withUnsafePointer(to: T.self) { values in
                    d.withUnsafePointer(to: T.self) { dense in
                        out.withUnsafeMutablePointer(to: T.self) { result in
                            s.indices.withUnsafeBufferPointer { indices in
                                s.indptr.withUnsafeBufferPointer { indptr in
                                    /// Adds `scale` times row `source` of D into `row`.
                                    func accumulate(_ scale: T, _ source: UnsafePointer<T>, into row: UnsafeMutablePointer<T>) {
                                        for k in 0..<columns { row[k] += scale * source[k] }
                                    }
                                    if s.format == .csr {
                                        // Row i gathers the rows of D its stored columns name.
                                        parallelFor(rows, workPerItem: Swift.max(1, columns * s.storedCount / Swift.max(rows, 1))) { start, end in
                                            for i in start..<end {
                                                // Four stored values at a time: four rows of D read in
                                                // one pass over the result row.
                                                let row = result + i * columns
                                                var entry = indptr[i]
                                                while entry + 4 <= indptr[i + 1] {
                                                    let (a, b) = (dense + indices[entry] * columns, dense + indices[entry + 1] * columns)
                                                    let (c, d) = (dense + indices[entry + 2] * columns, dense + indices[entry + 3] * columns)
                                                    let (va, vb, vc, vd) = (values[entry], values[entry + 1], values[entry + 2], values[entry + 3])
                                                    for k in 0..<columns { row[k] += va * a[k] + vb * b[k] + vc * c[k] + vd * d[k] }
                                                    entry += 4
                                                }
                                                for rest in entry..<indptr[i + 1] {
                                                    accumulate(values[rest], dense + indices[rest] * columns, into: row)
                                                }
                                            }
                                        }
                                    } else {
                                        // Column j of S scatters D's row j into the rows it stores. Each
                                        // thread owns a band of result rows and scans every column for
                                        // the entries that fall in it: no two threads write one row.
                                        parallelFor(rows, workPerItem: Swift.max(1, columns * s.storedCount / Swift.max(rows, 1))) { start, end in
                                            for j in 0..<s.shape[1] {
                                                for entry in indptr[j]..<indptr[j + 1] where (start..<end).contains(indices[entry]) {
                                                    accumulate(values[entry], dense + j * columns, into: result + indices[entry] * columns)
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                return out
            }
        }
        return [s.dtype.visitFloat(Multiply(s: s, d: d))!]
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return [nil, nil] }
        let (s, d) = (node.inputs[0], node.inputs[1])
        return [try SampledProduct()([s, g, d], at: node.location), try self([SparseTranspose()(s, at: node.location), g], at: node.location)]
    }

    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        [try productRule(node.inputs, tangents: inputTangents) { try self($0, at: node.location) }]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { [[inputShapes[0][0], inputShapes[1][1]]] }
}

/// `(A·Bᵀ)[i, j]` at the positions a sparse matrix stores, as a sparse matrix of its
/// structure (inputs: the sparse matrix, whose values are not read, `A` and `B`): the
/// structured gradient of ``StructuredDot``, in time proportional to the stored count times
/// the inner size. Linear in `A` and in `B`.
public struct SampledProduct: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp, SparseOp {
    package init() {}

    public var description: String { "sampled_product" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (pattern, a, b) = (inputs[0], inputs[1], inputs[2])
        guard pattern.isSparse, !a.isSparse, !b.isSparse, a.ndim == 2, b.ndim == 2, a.dtype == b.dtype, a.dtype.isFloat else {
            throw OpError("expects a sparse matrix and two dense matrices of one float dtype")
        }
        return [TensorType(a.dtype, shape: pattern.shape, format: pattern.format)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let pattern = try sparseOperand(inputs[0]), a = inputs[1].contiguous(), b = inputs[2].contiguous()
        guard a.shape[0] == pattern.shape[0], b.shape[0] == pattern.shape[1], a.shape[1] == b.shape[1] else {
            throw OpError("rows of \(shapeText(a.shape)) and \(shapeText(b.shape)) do not match a sparse matrix of shape \(shapeText(pattern.shape))")
        }
        struct Sample: FloatVisitor {
            let pattern: SparseMatrix, a: NDArray, b: NDArray
            func visit<T: FloatElement & NumericElement>(_: T.Type) -> NDArray {
                let inner = a.shape[1]
                let data = NDArray(zeros: [pattern.storedCount], dtype: T.dtype)
                a.withUnsafePointer(to: T.self) { a in
                    b.withUnsafePointer(to: T.self) { b in
                        data.withUnsafeMutablePointer(to: T.self) { data in
                            for line in 0..<pattern.majorMinor.major {
                                for entry in pattern.indptr[line]..<pattern.indptr[line + 1] {
                                    let (row, column) = pattern.format == .csr ? (line, pattern.indices[entry]) : (pattern.indices[entry], line)
                                    let (x, y) = (a + row * inner, b + column * inner)
                                    var sum = T(doubleValue: 0)
                                    for k in 0..<inner { sum = T.add(sum, T.multiply(x[k], y[k])) }
                                    data[entry] = sum
                                }
                            }
                        }
                    }
                }
                return NDArray(sparse: pattern.withData(data))
            }
        }
        return [a.dtype.visitFloat(Sample(pattern: pattern, a: a, b: b))!]
    }

    public func isConnected(toInput index: Int) -> Bool { index != 0 }

    /// `Ā = Ḡ·B` and `B̄ = Ḡᵀ·A`, with `Ḡ` sparse.
    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return [nil, nil, nil] }
        let (a, b) = (node.inputs[1], node.inputs[2])
        let product = StructuredDot()
        return [nil, try product([g, b], at: node.location), try product([SparseTranspose()(g, at: node.location), a], at: node.location)]
    }

    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        let tangent = try productRule(Array(node.inputs[1...]), tangents: Array(inputTangents[1...])) {
            try self([node.inputs[0]] + $0, at: node.location)
        }
        return [tangent]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { [inputShapes[0]] }
}

/// The product `A·B` of two sparse matrices, a sparse matrix in `A`'s format (SciPy's `A @ B`),
/// by Gustavson's row-by-row algorithm: time proportional to the products of stored values.
/// Its structure is every position some pair of stored values reaches, a sum that cancels to
/// zero included, so the structure does not depend on the values.
///
/// Gradients are structured: `Ā = Ḡ·Bᵀ` at `A`'s stored positions, `B̄ = Aᵀ·Ḡ` at `B`'s, each
/// a sparse product sampled (``SampleAtStructure``), never a dense one.
public struct SparseProduct: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp, SparseOp {
    package init() {}

    public var description: String { "sparse_product" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (a, b) = (inputs[0], inputs[1])
        guard a.isSparse, b.isSparse, a.dtype.isFloat, a.dtype == b.dtype else {
            throw OpError("multiplies two sparse matrices of the same float dtype")
        }
        if let x = a.shape[1], let y = b.shape[0], x != y { throw OpError("inner sizes \(x) and \(y) differ") }
        return [TensorType(a.dtype, shape: [a.shape[0], b.shape[1]], format: a.format)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let (a, b) = (try sparseOperand(inputs[0]), try sparseOperand(inputs[1]))
        guard a.shape[1] == b.shape[0] else {
            throw OpError("cannot multiply sparse matrices of shapes \(shapeText(a.shape)) and \(shapeText(b.shape))")
        }
        // Row by row in CSR; a CSC product is the transpose of the CSR product Bᵀ·Aᵀ.
        if a.format == .csr { return [NDArray(sparse: try a.rowProduct(b.converted(to: .csr)))] }
        return [NDArray(sparse: try b.transposed.converted(to: .csr).rowProduct(a.transposed).transposed)]
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return [nil, nil] }
        let (a, b, location) = (node.inputs[0], node.inputs[1], node.location)
        return [try SampleAtStructure()([a, self([g, SparseTranspose()(b, at: location)], at: location)], at: location),
                try SampleAtStructure()([b, self([SparseTranspose()(a, at: location), g], at: location)], at: location)]
    }

    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        [try productRule(node.inputs, tangents: inputTangents) { try self($0, at: node.location) }]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { [[inputShapes[0][0], inputShapes[1][1]]] }
}

extension SparseMatrix {
    /// The CSR product of this CSR matrix and the CSR matrix `b`: each row accumulates its
    /// stored values times the rows of `b` they name in a dense row, which the positions
    /// touched (sorted) then read out.
    fileprivate func rowProduct(_ b: SparseMatrix) -> SparseMatrix {
        let (valuesA, valuesB) = (data.cast(to: .float64).elements(as: Double.self), b.data.cast(to: .float64).elements(as: Double.self))
        let columns = b.shape[1]
        var row = [Double](repeating: 0, count: columns), touched = [Bool](repeating: false, count: columns)
        var productIndices: [Int] = [], productValues: [Double] = [], productIndptr = [0], reached: [Int] = []
        for i in 0..<shape[0] {
            reached.removeAll(keepingCapacity: true)
            for entry in indptr[i]..<indptr[i + 1] {
                let (k, scale) = (indices[entry], valuesA[entry])
                for other in b.indptr[k]..<b.indptr[k + 1] {
                    let j = b.indices[other]
                    if !touched[j] { touched[j] = true; reached.append(j) }
                    row[j] += scale * valuesB[other]
                }
            }
            for j in reached.sorted() {
                productIndices.append(j)
                productValues.append(row[j])
                (row[j], touched[j]) = (0, false)
            }
            productIndptr.append(productIndices.count)
        }
        let data = NDArray(productValues, shape: [productValues.count]).cast(to: dtype)
        return SparseMatrix(unchecked: .csr, shape: [shape[0], columns], data: data, indices: productIndices, indptr: productIndptr)
    }
}

/// The transpose of a sparse matrix: the same parts read along the other axis (CSR becomes
/// CSC), no copy.
public struct SparseTranspose: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp, SparseOp {
    package init() {}

    public var description: String { "sparse_transpose" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs[0].isSparse else { throw OpError("expects a sparse matrix") }
        return [TensorType(inputs[0].dtype, shape: inputs[0].shape.reversed(), format: inputs[0].format == .csr ? .csc : .csr)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] { [NDArray(sparse: try sparseOperand(inputs[0]).transposed)] }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        [try outputGradients[0].map { try self($0, at: node.location) }]
    }

    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        try linearPushforward(node, inputTangents: inputTangents, linear: [0])
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { [inputShapes[0].reversed()] }
}

/// The product of two matrices one or both of which are sparse (Theano's `structured_dot`
/// and `dot` of sparse variables): sparse·dense and dense·sparse give dense matrices,
/// sparse·sparse a sparse one (``SparseProduct``). Gradients with respect to a sparse operand
/// are structured (stored positions only).
public func structuredDot(_ a: Variable, _ b: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    switch (a.isSparse, b.isSparse) {
    case (true, false): return try StructuredDot()([a, b], at: location)
    case (false, true):
        // a·b = (bᵀ·aᵀ)ᵀ
        return try SourceLocation.attributing(to: location) {
            try StructuredDot()([SparseTranspose()(b, at: location), a.T], at: location).T
        }
    case (true, true): return try SparseProduct()([a, b], at: location)
    case (false, false): return try dot(a, b, fileID: fileID, line: line)
    }
}

extension Variable {
    /// The transpose of a sparse matrix (CSR becomes CSC), as ``SparseTranspose``.
    public var sparseTransposed: Variable {
        get throws { try SparseTranspose()(self, at: .operatorCaller()) }
    }
}
