import TheanoCore

/// The sum of two sparse matrices of one format, dtype and shape: the union of their
/// structures (a position stored in both adds its values). Linear in each operand; the
/// gradient of each is the sum's gradient at its own stored positions.
public struct SparseAdd: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp, SparseOp {
    package init() {}

    public var description: String { "sparse_add" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (a, b) = (inputs[0], inputs[1])
        guard a.isSparse, a.format == b.format, a.dtype == b.dtype else {
            throw OpError("adds two sparse matrices of one format and dtype")
        }
        for (x, y) in zip(a.shape, b.shape) { if let x, let y, x != y { throw OpError("sizes \(x) and \(y) differ") } }
        return [TensorType(a.dtype, shape: zip(a.shape, b.shape).map { $0 ?? $1 }, format: a.format)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let (a, b) = (try sparseOperand(inputs[0]), try sparseOperand(inputs[1]))
        guard a.shape == b.shape else { throw OpError("cannot add sparse matrices of shapes \(shapeText(a.shape)) and \(shapeText(b.shape))") }
        let (valuesA, valuesB) = (a.data.cast(to: .float64).elements(as: Double.self), b.data.cast(to: .float64).elements(as: Double.self))
        var indices: [Int] = [], values: [Double] = [], indptr = [0]
        for line in 0..<a.majorMinor.major {
            // The line's positions in order, each with the sum of what the operands store there.
            var sums: [Int: Double] = [:]
            for entry in a.indptr[line]..<a.indptr[line + 1] { sums[a.indices[entry], default: 0] += valuesA[entry] }
            for entry in b.indptr[line]..<b.indptr[line + 1] { sums[b.indices[entry], default: 0] += valuesB[entry] }
            for position in sums.keys.sorted() {
                indices.append(position)
                values.append(sums[position]!)
            }
            indptr.append(indices.count)
        }
        let data = NDArray(values, shape: [values.count]).cast(to: a.dtype)
        return [NDArray(sparse: SparseMatrix(unchecked: a.format, shape: a.shape, data: data, indices: indices, indptr: indptr))]
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return [nil, nil] }
        let dense = try SparseToDense()(g, at: node.location)
        return try node.inputs.map { try SampleAtStructure()([$0, dense], at: node.location) }
    }

    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        switch (inputTangents[0], inputTangents[1]) {
        case (nil, nil): return [nil]
        case (let da?, nil): return [da]
        case (nil, let db?): return [db]
        case (let da?, let db?): return [try self([da, db], at: node.location)]
        }
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { [inputShapes[0]] }
}
