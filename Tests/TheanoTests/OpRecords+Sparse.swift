@testable import Theano
@testable import TheanoCore
@testable import TheanoOps
import Testing

// Records of the sparse-matrix ops (Sources/TheanoOps/Sparse). Fixtures give dense matrices
// with zeros, which each case's graph stores as CSR or CSC (Fixtures/sparse.json); gradient
// cases draw dense matrices with no zeros, so every position is stored and the structured
// gradient is the whole one, which finite differences see.

extension OpRecords {
    /// The storage format a fixture case names.
    private static func format(_ params: FixtureParameters) throws -> StorageFormat {
        try #require(StorageFormat(rawValue: params.contains("format") ? params.string("format") : "csr"))
    }

    /// The subscript entry a fixture's text names: `list` (the next input), `a:b:c` or a position.
    private static func subscriptEntry(_ text: String, lists: inout ArraySlice<Variable>) throws -> TensorIndex {
        if text == "list" {
            let list = try #require(lists.first)
            lists = lists.dropFirst()
            return .tensor(list)
        }
        guard text.contains(":") else { return .at(try #require(Int(text))) }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        return .slice(start: parts[0], stop: parts[1], step: parts.count > 2 ? parts[2] : nil)
    }

    /// A list of positions as an int64 constant.
    private static func positions(_ list: [Int64]) -> Variable { constant(NDArray(list)) }

    /// A fixed structure: a 3×4 matrix storing five positions.
    static let pattern = NDArray([[1.0, 0, 2, 0], [0, 0, 3, 0], [4, 0, 0, 5]])

    static let sparse: [OpRecord] = [
        OpRecord(DenseToSparse.self,
                 values: .checked([.builds(.withParameters("to_dense") { x, p in try toDense(toSparse(x[0], format: format(p))) })]),
                 gradients: .checked([.unary("toDense(toSparse(x))", .uniform([3, 4])) { try toDense(toSparse($0)) },
                                      .unary("toDense(toSparse(x, csc))", .uniform([3, 4])) { try toDense(toSparse($0, format: .csc)) }]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([.unary("toSparse of a [1, n] row") { try toDense(toSparse($0)) }]),
                 shapes: .checked([ShapeCase("toSparse", [.floats([3, 4])]) { try toSparse($0[0]) }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(SparseToDense.self,
                 values: .checked([.reaches("to_dense")]),
                 gradients: .checked([.unary("sum of toDense(toSparse(x)) squared", .uniform([3, 4])) { try sum(sqr(toDense(toSparse($0)))) }]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([.unary("toDense of a [1, n] row") { try toDense(toSparse($0)) }]),
                 shapes: .checked([ShapeCase("toDense", [.floats([3, 4])]) { try toDense(toSparse($0[0])) }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(ChangeSparseFormat.self,
                 values: .checked([.builds(.unary("change_format") { try toDense(toSparse(toSparse($0), format: .csc)) })]),
                 gradients: .checked([.unary("CSR to CSC", .uniform([3, 4])) { try toDense(toSparse(toSparse($0), format: .csc)) }]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([.unary("CSR to CSC of a [1, n] row") { try toDense(toSparse(toSparse($0), format: .csc)) }]),
                 shapes: .checked([ShapeCase("CSR to CSC", [.floats([3, 4])]) { try toSparse(toSparse($0[0]), format: .csc) }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(SampleAtStructure.self,
                 values: .checked([.builds(.withParameters("sample_at_structure") { x, p in
                                       try toDense(SampleAtStructure()([toSparse(x[0], format: format(p)), x[1]], at: location))
                                   }),
                                   .builds(.withParameters("sparse_multiply") { x, p in
                                       let s = try toSparse(x[0], format: format(p))
                                       switch try p.string("other") {
                                       case "sparse": return try toDense(s * toSparse(x[1], format: .csc))
                                       case "scalar": return try toDense(x[1] * s)
                                       default: return try toDense(x[1] * s)
                                       }
                                   })]),
                 gradients: .checked([
                     .unary("values at a fixed structure", .uniform([3, 4])) { g in try toDense(SampleAtStructure()([toSparse(constant(pattern)), g], at: location)) },
                     .binary("sparse * dense", .uniform([3, 4]), .uniform([3, 4])) { s, d in try toDense(toSparse(s) * d) },
                     .binary("CSR * CSC", .uniform([3, 4]), .uniform([3, 4])) { a, b in try toDense(toSparse(a) * toSparse(b, format: .csc)) },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([SizeOneOperands("a [1, n] row at a fixed structure", [[1, 4]]) { g in
                     try toDense(SampleAtStructure()([toSparse(constant(NDArray([[1.0, 0, 2, 0]]))), g[0]], at: location))
                 }]),
                 shapes: .checked([ShapeCase("sample", [.floats([3, 4]), .floats([3, 4])]) { x in
                     try SampleAtStructure()([toSparse(x[0]), x[1]], at: location)
                 }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(StructuredDot.self,
                 values: .checked([.builds(.withParameters("structured_dot") { x, p in try structuredDot(toSparse(x[0], format: format(p)), x[1]) }),
                                   .builds(.withParameters("dense_dot_sparse") { x, p in try dot(x[0], toSparse(x[1], format: format(p))) })]),
                 gradients: .checked([
                     .binary("CSR · dense", .uniform([3, 4]), .uniform([4, 2])) { s, d in try structuredDot(toSparse(s), d) },
                     .binary("CSC · dense", .uniform([3, 4]), .uniform([4, 2])) { s, d in try structuredDot(toSparse(s, format: .csc), d) },
                     .binary("dense · CSR", .uniform([2, 3]), .uniform([3, 4])) { d, s in try dot(d, toSparse(s)) },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([SizeOneOperands("[1, n] sparse · [n, 1]", [[1, 3], [3, 1]]) { try structuredDot(toSparse($0[0]), $0[1]) }]),
                 shapes: .checked([ShapeCase("structuredDot", [.floats([3, 4]), .floats([4, 2])]) { x in try structuredDot(toSparse(x[0]), x[1]) }]),
                 native: .checked([
                     .imageKernel(ImageKernelCase("CSR · dense, a third stored", [[70, 45], [45, 37]], exact: false) { x in
                         [try structuredDot(toSparse(x[0] * gt(x[0], 1.0 / 3)), x[1])]
                     }),
                     .imageKernel(ImageKernelCase("float32 CSR · one column", [[9, 300], [300, 1]], dtype: .float32, exact: false) { x in
                         [try structuredDot(toSparse(x[0] * gt(x[0], 0.5)), x[1])]
                     }),
                 ])),
        OpRecord(SampledProduct.self,
                 values: .checked([.builds(.withParameters("sampled_product") { x, p in
                                       try toDense(SampledProduct()([toSparse(x[0], format: format(p)), x[1], x[2]], at: location))
                                   })]),
                 gradients: .checked([.binary("(A·Bᵀ) at a fixed structure", .uniform([3, 2]), .uniform([4, 2])) { a, b in
                     try toDense(SampledProduct()([toSparse(constant(pattern), format: .csc), a, b], at: location))
                 }]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([SizeOneOperands("[1, k] and [n, k] at a fixed row", [[1, 2], [4, 2]]) { x in
                     try toDense(SampledProduct()([toSparse(constant(NDArray([[1.0, 0, 2, 0]]))), x[0], x[1]], at: location))
                 }]),
                 shapes: .checked([ShapeCase("sampled product", [.floats([3, 4]), .floats([3, 2]), .floats([4, 2])]) { x in
                     try SampledProduct()([toSparse(x[0]), x[1], x[2]], at: location)
                 }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(SparseAdd.self,
                 values: .checked([.builds(.withParameters("sparse_add") { x, p in
                                       try toDense(toSparse(x[0], format: format(p)) + toSparse(x[1], format: format(p)))
                                   })]),
                 gradients: .checked([.binary("toSparse(x) + toSparse(y)", .uniform([3, 4]), .uniform([3, 4])) { x, y in
                     try toDense(toSparse(x) + toSparse(y, format: .csr))
                 }]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([SizeOneOperands("[1, n] rows", [[1, 3], [1, 3]]) { try toDense(toSparse($0[0]) + toSparse($0[1])) }]),
                 shapes: .checked([ShapeCase("sparse add", [.floats([3, 4]), .floats([3, 4])]) { x in try toSparse(x[0]) + toSparse(x[1]) }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(SparseValues.self,
                 values: .checked([.reaches("structured_sigmoid")]),
                 gradients: .checked([.unary("sigmoid of the stored values", .uniform([3, 4])) { try toDense(structuredSigmoid(toSparse($0))) }]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([.unary("exp of the stored values of a [1, n] row") { try toDense(structuredExp(toSparse($0))) }]),
                 shapes: .notApplicable(because: .notShapeInferring),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(SparseWithValues.self,
                 values: .checked([.builds(.withParameters("structured_sigmoid") { x, p in try toDense(structuredSigmoid(toSparse(x[0], format: format(p)))) }),
                                   .builds(.withParameters("structured_add") { x, p in try toDense(structuredAdd(toSparse(x[0], format: format(p)), row: x[1])) }),
                                   .builds(.withParameters("structured_scale") { x, p in try toDense(structuredScale(toSparse(x[0], format: format(p)), by: 2.5)) })]),
                 gradients: .checked([
                     .binary("structuredAdd of a row", .uniform([3, 4]), .uniform([4])) { x, row in try toDense(structuredAdd(toSparse(x, format: .csc), row: row)) },
                     .unary("structuredPow", .positive([3, 4])) { try toDense(structuredPow(toSparse($0), 3)) },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([.unary("scaled stored values of a [1, n] row") { try toDense(structuredScale(toSparse($0), by: 2)) }]),
                 shapes: .checked([ShapeCase("structuredExp", [.floats([3, 4])]) { try structuredExp(toSparse($0[0])) }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(StoredPositions.self,
                 values: .checked([.builds(.withParameters("stored_positions") { x, p in
                                       try StoredPositions(axis: p.int("axis"))(toSparse(x[0], format: format(p)), at: location)
                                   }), .reaches("structured_add"),
                                   .builds(.withParameters("sparse_sum") { x, p in
                                       try sum(toSparse(x[0], format: format(p)), axis: p.contains("axis") ? Axes([p.int("axis")]) : .all,
                                               keepDims: p.bool("keepdims", default: false))
                                   })]),
                 gradients: .checked([
                     .binary("a row gathered by stored column", .uniform([3, 4]), .uniform([4])) { x, row in try toDense(structuredAdd(toSparse(x), row: row)) },
                     .unary("sums over rows of CSC", .uniform([3, 4])) { try sum(toSparse($0, format: .csc), axis: 0) },
                     .unary("sums over columns, kept", .uniform([3, 4])) { try sum(toSparse($0), axis: -1, keepDims: true) },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([SizeOneOperands("a [1, n] row and a row to add", [[1, 3], [3]]) {
                     try toDense(structuredAdd(toSparse($0[0]), row: $0[1]))
                 }]),
                 shapes: .notApplicable(because: .notShapeInferring),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(SparseProduct.self,
                 values: .checked([.builds(.withParameters("sparse_product") { x, p in
                     try toDense(dot(toSparse(x[0], format: format(p)), toSparse(x[1], format: try #require(StorageFormat(rawValue: p.string("format_b"))))))
                 })]),
                 gradients: .checked([
                     .binary("CSR · CSR", .uniform([3, 4]), .uniform([4, 2])) { a, b in try toDense(dot(toSparse(a), toSparse(b))) },
                     .binary("CSC · CSR", .uniform([3, 4]), .uniform([4, 2])) { a, b in try toDense(dot(toSparse(a, format: .csc), toSparse(b))) },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([SizeOneOperands("[1, n] · [n, 1], both sparse", [[1, 3], [3, 1]]) { try toDense(dot(toSparse($0[0]), toSparse($0[1]))) }]),
                 shapes: .checked([ShapeCase("sparse product", [.floats([3, 4]), .floats([4, 2])]) { x in try dot(toSparse(x[0]), toSparse(x[1], format: .csc)) }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(SparseSelection.self,
                 values: .checked([.builds(.withParameters("sparse_select") { x, p in
                     var lists = x.dropFirst()
                     let rows = try subscriptEntry(p.string("rows"), lists: &lists), columns = try subscriptEntry(p.string("columns"), lists: &lists)
                     let picked = try toSparse(x[0], format: format(p))[rows, columns]
                     return try toDense(picked)
                 })]),
                 gradients: .checked([
                     .unary("rows listed with repeats", .uniform([4, 5])) { try toDense(toSparse($0)[positions([3, 0, 0, -1])]) },
                     .unary("a CSC column slice", .uniform([4, 5])) { try toDense(toSparse($0, format: .csc)[.all, 1..<4]) },
                     .unary("one element", .uniform([4, 5])) { try toSparse($0)[2, 3] },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([.unary("rows of a [1, n] matrix") { try toDense(toSparse($0)[0..<1]) }]),
                 shapes: .notApplicable(because: .notShapeInferring),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(SparseElements.self,
                 values: .checked([.reaches("sparse_select/pairs/csr")]),
                 gradients: .checked([.unary("elements at paired positions", .uniform([4, 5])) {
                     try toSparse($0)[positions([0, 3, 3, -1]), positions([1, 2, 2, 0])]
                 }]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([.unary("elements of a [1, n] matrix") { try toSparse($0)[positions([0, 0]), positions([1, 0])] }]),
                 shapes: .checked([ShapeCase("paired positions", [.floats([3, 4])]) { x in try toSparse(x[0])[positions([0, 2]), positions([1, 3])] }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(SparseElementsAdjoint.self,
                 values: .checked([.builds(.withParameters("sparse_elements_adjoint") { x, p in
                     try toDense(SparseElementsAdjoint()([toSparse(x[0], format: format(p)), x[1], x[2], x[3]], at: location))
                 })]),
                 gradients: .checked([.unary("values added at paired positions", .uniform([4])) { v in
                     try toDense(SparseElementsAdjoint()([toSparse(constant(pattern)), v, positions([0, 2, 2, 1]), positions([0, 3, 3, 2])], at: location))
                 }]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([SizeOneOperands("one value at one position", [[1]]) { v in
                     try toDense(SparseElementsAdjoint()([toSparse(constant(pattern)), v[0], positions([1]), positions([2])], at: location))
                 }]),
                 shapes: .checked([ShapeCase("added at positions", [.floats([3, 4]), .floats([2])]) { x in
                     try SparseElementsAdjoint()([toSparse(x[0]), x[1], positions([0, 2]), positions([1, 3])], at: location)
                 }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(SparseFromTriplets.self,
                 values: .checked([.builds(.withParameters("from_triplets") { x, p in
                     try toDense(sparseFromTriplets(values: x[0], rows: x[1], columns: x[2], shape: p.ints("shape"), format: format(p)))
                 })]),
                 gradients: .checked([.unary("values at repeated positions", .uniform([5])) { v in
                     try toDense(sparseFromTriplets(values: v, rows: positions([2, 0, 2, 1, 2]), columns: positions([3, 1, 3, 0, 0]), shape: [3, 4], format: .csc))
                 }]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([SizeOneOperands("one value", [[1]]) { v in
                     try toDense(sparseFromTriplets(values: v[0], rows: positions([0]), columns: positions([0]), shape: [1, 1]))
                 }]),
                 shapes: .notApplicable(because: "its shape is static, part of the op"),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(SparseTranspose.self,
                 values: .checked([.builds(.withParameters("sparse_transpose") { x, p in try toDense(toSparse(x[0], format: format(p)).sparseTransposed) })]),
                 gradients: .checked([.unary("toDense(toSparse(x)ᵀ)", .uniform([3, 4])) { try toDense(toSparse($0).sparseTransposed) }]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([.unary("transpose of a [1, n] row") { try toDense(toSparse($0).sparseTransposed) }]),
                 shapes: .checked([ShapeCase("transpose", [.floats([3, 4])]) { try toSparse($0[0]).sparseTransposed }]),
                 native: .notApplicable(because: .noNativeKernel)),
    ]
}
