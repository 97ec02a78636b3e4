@testable import Theano
@testable import TheanoCore
@testable import TheanoOps

// The records of the reductions, the matrix products and the neural-network ops.

extension OpRecords {
    static let reductions: [OpRecord] = [
        OpRecord(Reduce.self,
                 values: .checked([
                     .builds(.reduction("sum") { try sum($0, axis: $1, keepDims: $2) }),
                     .builds(.reduction("prod") { try prod($0, axis: $1, keepDims: $2) }),
                     .builds(.reduction("max") { try max($0, axis: $1, keepDims: $2) }),
                     .builds(.reduction("min") { try min($0, axis: $1, keepDims: $2) }),
                     .builds(.reduction("mean") { try mean($0, axis: $1, keepDims: $2) }),
                     .builds(.reduction("all") { try TheanoOps.all($0, axis: $1, keepDims: $2) }),
                     .builds(.reduction("any") { try any($0, axis: $1, keepDims: $2) }),
                     .builds(.dispersion("var") { try `var`($0, axis: $1, keepDims: $2, ddof: $3) }),
                     .builds(.dispersion("std") { try std($0, axis: $1, keepDims: $2, ddof: $3) }),
                 ]),
                 gradients: .checked(
                     GradientCase.everyAxisChoice("sum", real) { try sum($0, axis: $1, keepDims: $2) }
                     + GradientCase.everyAxisChoice("prod", .uniform(0.5...1.5)) { try prod($0, axis: $1, keepDims: $2) }
                     + GradientCase.everyAxisChoice("prod with zeros", .withZeros(-1.5...1.5)) { try prod($0, axis: $1, keepDims: $2) }
                     + GradientCase.everyAxisChoice("max", .distinct) { try max($0, axis: $1, keepDims: $2) }
                     + GradientCase.everyAxisChoice("min", .distinct) { try min($0, axis: $1, keepDims: $2) }
                     + GradientCase.everyAxisChoice("mean", real) { try mean($0, axis: $1, keepDims: $2) }
                     + GradientCase.everyAxisChoice("var", real) { try `var`($0, axis: $1, keepDims: $2) }
                     + GradientCase.everyAxisChoice("std", real) { try std($0, axis: $1, keepDims: $2) }
                     + [
                         .unary("var with ddof 1 over axis 0", .uniform(tensor3)) { try `var`($0, axis: 0, ddof: 1) },
                         .unary("std with ddof 1 over all axes", .uniform(tensor3)) { try std($0, ddof: 1) },
                         .unary("sum over no axes", .uniform(matrix)) { try sum($0, axis: Axes([])) },
                         .unary("second order: grad of prod(x)", .positive([4])) { try grad(prod($0), wrt: [$0])[0] },
                         .unary("second order: grad of prod(x) with one zero", GradientInput(shape: [3], distribution: .withZeros(0.5...2))) {
                             try grad(prod($0), wrt: [$0])[0]
                         },
                         .unary("second order: grad of prod(x) with two zeros", GradientInput(shape: [4], distribution: .withZeros(0.5...2))) {
                             try grad(prod($0), wrt: [$0])[0]
                         },
                     ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([Reduce.Kind.sum, .prod, .max, .min].flatMap { kind in
                     [false, true].map { keepDims in
                         SizeOneOperands("\(kind) over the size-1 axis 0\(keepDims ? ", keepDims" : "")", [[1, 3]]) {
                             try Reduce(kind: kind, axes: [0], keepDims: keepDims)($0, at: location)
                         }
                     }
                 } + [.unary("any") { try any(gt($0, 1), axis: 1, keepDims: true) }]),
                 shapes: .checked([
                     ShapeCase("sum over axis 1", .tensor3) { try sum($0, axis: 1) },
                     ShapeCase("prod over all axes, keepDims", .tensor3) { try prod($0, keepDims: true) },
                     ShapeCase("max over axes [0, 2], keepDims", .tensor3) { try max($0, axis: [0, 2], keepDims: true) },
                     ShapeCase("min over axis -1", .tensor3) { try min($0, axis: -1) },
                     ShapeCase("all over axis 0", .tensor3) { try TheanoOps.all($0, axis: 0) },
                     ShapeCase("any over axes [1, 2], keepDims", .tensor3) { try any($0, axis: [1, 2], keepDims: true) },
                 ]),
                 native: .checked([
                     .axisKernel(AxisKernelCase { x in
                         try AxisKernelCase.reductionAxes(rank: x.ndim).flatMap { axes, keepDims in
                             let axis = Axes(axes)
                             // The elementwise work of the last three is shared by every choice of
                             // axes, so it stays apart from the reductions (see ElementwiseReduce).
                             return [
                                 try sum(x, axis: axis, keepDims: keepDims), try max(x, axis: axis, keepDims: keepDims),
                                 try min(x, axis: axis, keepDims: !keepDims), try mean(x, axis: axis, keepDims: keepDims),
                                 try sum(exp(x) * 0.5 - x, axis: axis, keepDims: keepDims), try max(abs(x) - 1, axis: axis, keepDims: keepDims),
                             ] + (axes.count == 1 ? [try prod(x * 0.01 + 1, axis: axis, keepDims: keepDims)] : [])
                         } + [try sum(x.transpose(), axis: 0)]  // a view made inside the graph
                     }),
                 ])),
        OpRecord(ElementwiseReduce.self,
                 values: .notApplicable(because: "made only by the native backend's reduction fusion, of ops whose values the fixtures check"),
                 gradients: .notApplicable(because: .noPullback),
                 forwardMode: .notApplicable(because: "made only by the native backend after differentiation: it has no pushforward"),
                 gradientTypes: .notApplicable(because: .noPullback),
                 shapes: .checked([
                     ShapeCase("sum over axis 1 of a fused sqr(a - b)", .matrix, .broadcastRow) { a, b in
                         let program = try Composite(inputDTypes: [.float64, .float64], operations: [
                             .init(op: Subtract(), operands: [0, 1]), .init(op: Square(), operands: [2]),
                         ])
                         return try ElementwiseReduce(reduce: Reduce(kind: .sum, axes: [1], keepDims: false), program: program)([a, b], at: location)
                     },
                 ]),
                 native: .checked([
                     // Each reduction has elementwise work of its own (a scale that differs with the
                     // choice of axes): work read by several would not be fused into any.
                     .axisKernel(AxisKernelCase { x in
                         try AxisKernelCase.reductionAxes(rank: x.ndim).enumerated().flatMap { index, choice in
                             let (axis, keepDims, scale) = (Axes(choice.axes), choice.keepDims, 0.5 + 0.25 * Double(index))
                             return [
                                 try sum(exp(x) * scale - x, axis: axis, keepDims: keepDims), try max(abs(x) - scale, axis: axis, keepDims: keepDims),
                             ] + (choice.axes.count == 1 ? [try prod(x * (0.01 * scale) + 1, axis: axis, keepDims: keepDims)] : [])
                         }
                     }),
                 ])),
        OpRecord(ArgExtremum.self,
                 values: .checked([
                     .builds(.withParameters("argmax") { x, params in
                         try argmax(x[0], axis: params.optionalInt("axis"), keepDims: params.bool("keepdims", default: false))
                     }),
                     .builds(.withParameters("argmin") { x, params in
                         try argmin(x[0], axis: params.optionalInt("axis"), keepDims: params.bool("keepdims", default: false))
                     }),
                 ]),
                 gradients: .checked([
                     .unary("switch on argmax positions", .distinct([3, 4])) { x in
                         try `switch`(eq(argmax(x, axis: 1, keepDims: true), 2), x, exp(x))
                     },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([
                     .unary("argmax over axis 1, keepDims") { x in try cast(argmax(x, axis: 1, keepDims: true), to: .float64) * x },
                 ]),
                 shapes: .checked([
                     ShapeCase("argmax over axis 1", .tensor3) { try argmax($0, axis: 1) },
                     ShapeCase("argmin of the flattened tensor, keepDims", .tensor3) { try argmin($0, keepDims: true) },
                     ShapeCase("argmax of the flattened tensor", .tensor3) { try argmax($0) },
                 ]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(ArgSort.self,
                 values: .checked([.builds(.withParameters("argsort") { x, params in try argsort(x[0], axis: params.int("axis")) })]),
                 gradients: .checked([
                     .unary("values gathered in sorted order", .distinct([4])) { x in try x[argsort(x)] * exp(x[argsort(-x)]) },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([.unary("argsort as a float factor") { x in try cast(argsort(x, axis: 0), to: .float64) * x }]),
                 shapes: .checked([
                     ShapeCase("argsort along axis 1", .tensor3) { try argsort($0, axis: 1) },
                     ShapeCase("argsort along the last axis", .tensor3) { try argsort($0) },
                 ]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(LogSumExp.self,
                 values: .checked([.builds(.reduction("logsumexp") { try logsumexp($0, axis: $1, keepDims: $2) })]),
                 gradients: .checked(GradientCase.everyAxisChoice("logsumexp", real) { try logsumexp($0, axis: $1, keepDims: $2) } + [
                     .unary("second order: grad of logsumexp over axis 1", .uniform(matrix)) { try grad(sum(logsumexp($0, axis: 1)), wrt: [$0])[0] },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([
                     .unary("logsumexp over axis 1, keepDims") { try logsumexp($0, axis: 1, keepDims: true) },
                     SizeOneOperands("logsumexp over the size-1 axis 1", [[2, 1]]) { try logsumexp($0[0], axis: 1) },
                 ]),
                 shapes: .checked([
                     ShapeCase("logsumexp over axis 1", .tensor3) { try logsumexp($0, axis: 1) },
                     ShapeCase("logsumexp over axes [0, 2], keepDims", .tensor3) { try logsumexp($0, axis: [0, 2], keepDims: true) },
                 ]),
                 native: .notApplicable(because: .noNativeKernel)),
    ]

    static let linearAlgebra: [OpRecord] = [
        OpRecord(Dot.self,
                 values: .checked([.builds(.binary("dot") { try dot($0, $1) })]),
                 gradients: .checked([
                     .binary("dot vector·vector", .uniform([4]), .uniform([4])) { try dot($0, $1) },
                     .binary("dot matrix·vector", .uniform([3, 4]), .uniform([4])) { try dot($0, $1) },
                     .binary("dot vector·matrix", .uniform([4]), .uniform([4, 5])) { try dot($0, $1) },
                     .binary("dot matrix·matrix", .uniform([3, 4]), .uniform([4, 5])) { try dot($0, $1) },
                     .binary("dot of a broadcastable (1, n) row", .uniform([1, 4]), .uniform([4, 5])) { try dot($0, $1) },
                     .binary("dot of a transposed matrix", .uniform([4, 3]), .uniform([4, 5])) { try dot($0.T, $1) },
                     .binary("tensordot over the last 2 axes", .uniform(tensor3), .uniform([3, 4, 5])) { try tensordot($0, $1) },
                     .binary("tensordot over paired axes", .uniform(tensor3), .uniform([4, 2, 5])) {
                         try tensordot($0, $1, axes: (a: [0, 2], b: [1, 0]))
                     },
                     .binary("dot tensor3·tensor3", .uniform(tensor3), .uniform([2, 4, 3])) { try dot($0, $1) },
                     .binary("dot vector·tensor3", .uniform([4]), .uniform([2, 4, 3])) { try dot($0, $1) },
                     .binary("dot tensor3·vector", .uniform(tensor3), .uniform([4])) { try dot($0, $1) },
                     .binary("dot matrix·tensor4 with a size-1 axis", .uniform([3, 4]), .uniform([2, 1, 4, 2])) { try dot($0, $1) },
                     .binary("dot of a transposed tensor3", .uniform([4, 3, 2]), .uniform([2, 4, 3])) { try dot($0.transpose([2, 1, 0]), $1) },
                     .binary("second order: grad of sum(tanh(dot(x, W))) w.r.t. W", .uniform([3, 4]), .uniform([4, 2])) { x, w in
                         try grad(sum(tanh(dot(x, w))), wrt: [w])[0]
                     },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([SizeOneOperands("[1, n] · [n, 1]", [[1, 3], [3, 1]]) { try dot($0[0], $0[1]) }]),
                 shapes: .checked([
                     ShapeCase("dot matrix·matrix", .matrix, .floats([4, 5])) { try dot($0, $1) },
                     ShapeCase("dot matrix·vector", .matrix, .floats([4])) { try dot($0, $1) },
                     ShapeCase("dot vector·matrix", .floats([3]), .matrix) { try dot($0, $1) },
                     ShapeCase("dot vector·vector", .floats([4]), .floats([4])) { try dot($0, $1) },
                 ]),
                 native: .checked([
                     .matrixProduct(MatrixProductCase("matrix·matrix") { try dot($0.A, $0.B) }),
                     .matrixProduct(MatrixProductCase("matrix·vector") { try dot($0.A, $0.v) }),
                     .matrixProduct(MatrixProductCase("vector·matrix") { try dot($0.t, $0.A) }),
                     .matrixProduct(MatrixProductCase("vector·vector") { try dot($0.v, $0.v) }),
                     .matrixProduct(MatrixProductCase("Pᵀ·B") { try dot($0.P.T, $0.B) }),
                     .matrixProduct(MatrixProductCase("A·Qᵀ") { try dot($0.A, $0.Q.T) }),
                     .matrixProduct(MatrixProductCase("Bᵀ·Aᵀ") { try dot($0.B.T, $0.A.T) }),
                 ])),
        OpRecord(BatchedDot.self,
                 values: .checked([.builds(.binary("batched_dot") { try batchedDot($0, $1) })]),
                 gradients: .checked([
                     .binary("batchedDot", .uniform(tensor3), .uniform([2, 4, 5])) { try batchedDot($0, $1) },
                     .binary("batchedDot of matrices: dot products of rows", .uniform(matrix), .uniform(matrix)) { try batchedDot($0, $1) },
                     .binary("batchedDot tensor3·matrix", .uniform(tensor3), .uniform([2, 4])) { try batchedDot($0, $1) },
                     .binary("batchedDot matrix·tensor3", .uniform([2, 3]), .uniform(tensor3)) { try batchedDot($0, $1) },
                     .binary("batchedDot tensor4·tensor3", .uniform([2, 2, 3, 4]), .uniform([2, 4, 3])) { try batchedDot($0, $1) },
                     .binary("batchedDot tensor3·tensor4", .uniform(tensor3), .uniform([2, 2, 4, 3])) { try batchedDot($0, $1) },
                     .binary("batchedDot of a sliced stack", .uniform([4, 3, 4]), .uniform([2, 4, 2])) {
                         try batchedDot($0[TensorIndex.stride(by: 2)], $1)
                     },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([SizeOneOperands("[1, 1, n] ⊙ [1, n, 2]", [[1, 1, 3], [1, 3, 2]]) { try batchedDot($0[0], $0[1]) }]),
                 shapes: .checked([ShapeCase("batchedDot", .tensor3, .floats([2, 4, 5])) { try batchedDot($0, $1) }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(Gemm.self,
                 values: .notApplicable(because: blasValues),
                 gradients: .notApplicable(because: .noPullback),
                 forwardMode: .withoutPullbacks([
                     GradientCase(name: "gemm", inputs: [.uniform([3, 5]), .uniform([]), .uniform([3, 4]), .uniform([4, 5]), .uniform([])]) {
                         try Gemm(accumulates: true)($0, at: location)
                     },
                     .ternary("gemm without accumulator", .uniform([]), .uniform([3, 4]), .uniform([4, 5])) {
                         try Gemm(accumulates: false)([$0, $1, $2], at: location)
                     },
                 ]),
                 gradientTypes: .notApplicable(because: .noPullback),
                 shapes: .checked([
                     ShapeCase("gemm", [.floats([3, 5]), .real(0.5), .matrix, .floats([4, 5]), .real(2)]) {
                         try Gemm(accumulates: true)($0, at: location)
                     },
                     ShapeCase("gemm without accumulator", [.real(0.5), .matrix, .floats([4, 5])]) { try Gemm(accumulates: false)($0, at: location) },
                 ]),
                 native: .checked([
                     .matrixProduct(MatrixProductCase("gemm C - 0.1·Pᵀ·B") { try $0.C - 0.1 * dot($0.P.T, $0.B) }),
                     .matrixProduct(MatrixProductCase("gemm 0.5·C + 3·A·B") { try $0.C * 0.5 + dot($0.A, $0.B) * 3 }),
                 ])),
        OpRecord(Gemv.self,
                 values: .notApplicable(because: blasValues),
                 gradients: .notApplicable(because: .noPullback),
                 forwardMode: .withoutPullbacks([
                     GradientCase(name: "gemv", inputs: [.uniform([3]), .uniform([]), .uniform([3, 4]), .uniform([4]), .uniform([])]) {
                         try Gemv(accumulates: true)($0, at: location)
                     },
                     .ternary("gemv without accumulator", .uniform([]), .uniform([3, 4]), .uniform([4])) {
                         try Gemv(accumulates: false)([$0, $1, $2], at: location)
                     },
                 ]),
                 gradientTypes: .notApplicable(because: .noPullback),
                 shapes: .checked([
                     ShapeCase("gemv", [.floats([3]), .real(0.5), .matrix, .floats([4]), .real(2)]) { try Gemv(accumulates: true)($0, at: location) },
                 ]),
                 native: .checked([.matrixProduct(MatrixProductCase("gemv y + 2·A·v") { try $0.y + 2 * dot($0.A, $0.v) })])),
        OpRecord(Ger.self,
                 values: .notApplicable(because: blasValues),
                 gradients: .notApplicable(because: .noPullback),
                 forwardMode: .withoutPullbacks([
                     GradientCase(name: "ger", inputs: [.uniform([3, 4]), .uniform([]), .uniform([3]), .uniform([4])]) { try Ger()($0, at: location) },
                 ]),
                 gradientTypes: .notApplicable(because: .noPullback),
                 shapes: .checked([ShapeCase("ger", [.matrix, .real(0.5), .floats([3]), .floats([4])]) { try Ger()($0, at: location) }]),
                 native: .checked([.matrixProduct(MatrixProductCase("ger C + outer(u, z)") { try $0.C + outer($0.u, $0.z) })])),
    ]

    /// Why the BLAS ops have no fixtures.
    private static let blasValues: Reason = "made only by the specialize phase, from products whose values the fixtures check"

    static let neuralNet: [OpRecord] = [
        OpRecord(Softmax.self,
                 values: .checked([
                     .builds(.unary("softmax") { try softmax($0) }),
                     .builds(.withParameters("softmax_axis") { x, params in try softmax(x[0], axis: params.int("axis")) }),
                 ]),
                 gradients: .checked([
                     .unary("softmax of a matrix", .uniform([3, 5])) { try softmax($0) },
                     .unary("softmax of a vector", .uniform([5])) { try softmax($0) },
                     .unary("softmax along the first axis of a matrix", .uniform([3, 5])) { try softmax($0, axis: 0) },
                     .unary("softmax along the middle axis of a 3-d tensor", .uniform(tensor3)) { try softmax($0, axis: 1) },
                     .unary("categoricalCrossentropy with classes along the first axis", .uniform([5, 3])) { x in
                         try -log(softmax(x, axis: 0)[constant(classLabels), arange(0, 3)])
                     },
                     .unary("second order: grad of softmax cross-entropy", .uniform([3, 5])) { x in
                         try grad(sum(categoricalCrossentropy(softmax(x), constant(classLabels))), wrt: [x])[0]
                     },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([
                     .unary("softmax") { try softmax($0) },
                     SizeOneOperands("softmax over a size-1 axis", [[2, 1]]) { try softmax($0[0]) },
                 ]),
                 shapes: .checked([ShapeCase("softmax", .matrix) { try softmax($0) }]),
                 native: .checked([
                     .axisKernel(AxisKernelCase { x in
                         try (0..<x.ndim).map { try softmax(x, axis: $0) } + [try softmax(x.transpose())]  // a view made inside the graph
                     }),
                 ])),
        OpRecord(LogSoftmax.self,
                 values: .checked([
                     .builds(.unary("log_softmax") { try logSoftmax($0) }),
                     .builds(.withParameters("log_softmax_axis") { x, params in try logSoftmax(x[0], axis: params.int("axis")) }),
                 ]),
                 gradients: .checked([
                     .unary("logSoftmax of a matrix", .uniform([3, 5])) { try logSoftmax($0) },
                     .unary("logSoftmax of a 3-d tensor", .uniform(tensor3)) { try logSoftmax($0) },
                     .unary("logSoftmax along the first axis of a 3-d tensor", .uniform(tensor3)) { try logSoftmax($0, axis: -3) },
                     .unary("categoricalCrossentropy with one-hot targets", .uniform([3, 5])) {
                         try categoricalCrossentropy(softmax($0), oneHot(constant(classLabels), classes: 5, dtype: .float64))
                     },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([.unary("logSoftmax") { try logSoftmax($0) }]),
                 shapes: .checked([ShapeCase("logSoftmax of a 3-d tensor", .tensor3) { try logSoftmax($0) }]),
                 native: .checked([.axisKernel(AxisKernelCase { x in try (0..<x.ndim).map { try logSoftmax(x, axis: $0) } })])),
        OpRecord(CrossentropySoftmax.self,
                 values: .notApplicable(because: """
                     made only by the stabilize phase from categoricalCrossentropy(softmax(x), labels): RewritePropertyTests \
                     compare it with the graph it replaces
                     """),
                 gradients: .checked([
                     .unary("categoricalCrossentropy with integer labels", .uniform([3, 5])) {
                         try categoricalCrossentropy(softmax($0), constant(classLabels))
                     },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([
                     .unary("categoricalCrossentropy(softmax(x), labels)") { try categoricalCrossentropy(softmax($0), constant(firstRow)) },
                     // Labels of a length known only at run time, for logits of one static row.
                     .unary("categoricalCrossentropy(softmax(x), labels of unknown length)") { x in
                         try categoricalCrossentropy(softmax(x), reshape(argmax(x, axis: 1), sizes: [shape(x)[0]]))
                     },
                 ]),
                 shapes: .checked([
                     ShapeCase("crossentropy_softmax of rows", .matrix, .integers([0, 3, 1])) { try CrossentropySoftmax()([$0, $1], at: location) },
                     ShapeCase("crossentropy_softmax of columns", .matrix, .integers([2, 0, 1, 1])) {
                         try CrossentropySoftmax(axis: 0)([$0, $1], at: location)
                     },
                 ]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(CheckLabels.self,
                 values: .checked([
                     .builds(.withParameters("one_hot") { x, params in
                         try oneHot(x[0], classes: params.int("classes"), dtype: params.dtype("dtype"))
                     }),
                 ]),
                 gradients: .notApplicable(because: .integerOutput), forwardMode: .notApplicable(because: .integerOutput),
                 gradientTypes: .checked([
                     .unary("oneHot(argmax(x, axis: 1)) times x") { x in try oneHot(argmax(x, axis: 1), classes: 3, dtype: .float64) * x },
                 ]),
                 shapes: .checked([
                     ShapeCase("oneHot's check of the labels", .integers([0, 2, 1, 2], shape: [2, 2])) {
                         try CheckLabels(classes: 3)([$0], at: .unknown)
                     },
                 ]),
                 native: .notApplicable(because: .noNativeKernel)),
    ]
}
