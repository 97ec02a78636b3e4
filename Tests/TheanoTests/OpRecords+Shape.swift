@testable import Theano
@testable import TheanoCore
@testable import TheanoOps

// The records of the ops that arrange elements: shapes, joins, broadcasts, indexing.

extension OpRecords {
    /// Why the shape checks and shape arithmetic have no fixtures.
    private static let shapeArithmetic: Reason = "made by builders from sizes and shapes: no NumPy counterpart"
    /// Why joins and splits have no fixtures.
    private static let noJoinFixtures: Reason = "no NumPy fixture yet: only its gradient, shape and gradient-type cases compute it"

    static let shapeOps: [OpRecord] = [
        OpRecord(DimShuffle.self,
                 values: .checked([
                     .builds(.withParameters("dimshuffle") { x, params in try x[0].dimshuffle(params.dimPattern("pattern")) }),
                     .builds(.withParameters("transpose") { x, params in try x[0].transpose(params.optionalInts("axes")) }),
                     .builds(.unary("T") { try $0.T }),
                     .builds(.withParameters("squeeze") { x, params in try squeeze(x[0], axis: params.axes("axis")) }),
                     .builds(.withParameters("expand_dims") { x, params in try expandDims(x[0], axis: params.int("axis")) }),
                 ]),
                 gradients: .checked([
                     .unary("dimshuffle (2, x, 0, 1)", .uniform(tensor3)) { try $0.dimshuffle(2, .newAxis, 0, 1) },
                     .unary("dimshuffle dropping a broadcastable dimension", .uniform([3, 1, 4])) { try $0.dimshuffle(2, 0) },
                     .unary("dimshuffle dropping one dimension and adding another", .uniform([3, 1, 4])) { try $0.dimshuffle(.newAxis, 2, 0) },
                     .unary("transpose .T", .uniform(matrix)) { try $0.T },
                     .unary("transpose [1, 2, 0]", .uniform(tensor3)) { try $0.transpose([1, 2, 0]) },
                     .unary("squeeze", .uniform([3, 1, 4])) { try squeeze($0) },
                     .unary("squeeze axis 1", .uniform([3, 1, 4])) { try squeeze($0, axis: 1) },
                     .unary("expandDims axis 0", .uniform(matrix)) { try expandDims($0, axis: 0) },
                     .unary("expandDims axis -1", .uniform(matrix)) { try expandDims($0, axis: -1) },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([
                     .unary("dimshuffle(1, x, 0)") { try $0.dimshuffle(1, .newAxis, 0) },
                     .unary("dimshuffle dropping the size-1 dimension") { try $0.dimshuffle(1) },
                 ]),
                 shapes: .checked([
                     ShapeCase("dimshuffle (1, x, 0)", .matrix) { try $0.dimshuffle(1, .newAxis, 0) },
                     ShapeCase("transpose [2, 0, 1]", .tensor3) { try $0.transpose([2, 0, 1]) },
                     ShapeCase("expandDims axis -1", .matrix) { try expandDims($0, axis: -1) },
                     ShapeCase("squeeze a broadcastable dimension", .floats([3, 1, 4], staticShape: [nil, 1, nil])) { try squeeze($0) },
                     // A subscript with a new axis, and the gather of `repeat`, end with a dimshuffle.
                     ShapeCase("subtensor with a new axis", .matrix) { try $0[.newAxis, 1..<3] },
                     ShapeCase("repeat by counts along axis 1", .matrix, .integers([1, 0, 3, 2])) { try `repeat`($0, counts: $1, axis: 1) },
                 ]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(Reshape.self,
                 values: .checked([
                     .builds(.withParameters("reshape") { x, params in try reshape(x[0], params.ints("shape")) }),
                     .builds(.withParameters("flatten") { x, params in try flatten(x[0], ndim: params.int("ndim")) }),
                 ]),
                 gradients: .checked([
                     .unary("reshape to [4, 6]", .uniform(tensor3)) { try reshape($0, [4, 6]) },
                     .unary("reshape with -1", .uniform(tensor3)) { try $0.reshape([-1, 2]) },
                     .unary("reshape to symbolic sizes", .uniform(matrix)) { try reshape($0, sizes: [shape($0)[1], shape($0)[0]]) },
                     .unary("flatten", .uniform(tensor3)) { try flatten($0) },
                     .unary("flatten to 2 dimensions", .uniform(tensor3)) { try flatten($0, ndim: 2) },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([.unary("reshape to [3, 1]") { try reshape($0, [3, 1]) }]),
                 shapes: .checked([
                     ShapeCase("reshape to constant sizes", .tensor3) { try reshape($0, [4, 6]) },
                     ShapeCase("reshape with -1", .tensor3) { try reshape($0, [-1, 2]) },
                     ShapeCase("reshape to symbolic sizes", [.tensor3, .size(6), .size(4)]) { try reshape($0[0], sizes: [$0[1], $0[2]]) },
                     ShapeCase("reshape to a symbolic size and -1", [.tensor3, .size(8)]) {
                         try reshape($0[0], sizes: [$0[1], constant(-1, dtype: .int64)])
                     },
                     ShapeCase("flatten", .tensor3) { try flatten($0) },
                     ShapeCase("flatten to 2 dimensions", .tensor3) { try flatten($0, ndim: 2) },
                     // Products of other ranks than matrices and vectors end in a reshape.
                     ShapeCase("dot tensor3·tensor3", .tensor3, .floats([5, 4, 2])) { try dot($0, $1) },
                     ShapeCase("dot vector·tensor3", .floats([4]), .floats([2, 4, 3])) { try dot($0, $1) },
                     ShapeCase("batchedDot of matrices (rows)", .matrix, .matrix) { try batchedDot($0, $1) },
                     ShapeCase("batchedDot tensor3·tensor4", .tensor3, .floats([2, 3, 4, 2])) { try batchedDot($0, $1) },
                 ]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(Alloc.self,
                 values: .checked([
                     .builds(.withParameters("alloc") { x, params in try alloc(x[0], shape: params.ints("shape")) }),
                     .builds(.unary("zeros_like") { try zerosLike($0) }),
                     .builds(.unary("ones_like") { try onesLike($0) }),
                     .builds(.withParameters("full_like") { x, params in try fullLike(x[0], params.double("value")) }),
                     .builds(.withParameters("zeros") { _, params in try zeros(params.ints("shape"), dtype: params.dtype("dtype")) }),
                     .builds(.withParameters("ones") { _, params in try ones(params.ints("shape"), dtype: params.dtype("dtype")) }),
                 ]),
                 gradients: .checked([
                     .unary("alloc (n,) to (m, n)", .uniform([4])) { try alloc($0, shape: [3, 4]) },
                     .unary("alloc (1, n) to (m, n)", .uniform([1, 4])) { try alloc($0, shape: [3, 4]) },
                     .unary("alloc (m, 1) to (m, n)", .uniform([3, 1])) { try alloc($0, shape: [3, 4]) },
                     .unary("alloc scalar to (m, n)", .uniform([])) { try alloc($0, shape: [2, 3]) },
                     .unary("repeat along axis 0", .uniform(matrix)) { try `repeat`($0, 2, axis: 0) },
                     .unary("repeat of the flattened tensor", .uniform(matrix)) { try `repeat`($0, 3) },
                     .unary("tile adding a leading dimension", .uniform(matrix)) { try tile($0, [2, 1, 3]) },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([
                     .unary("alloc [1, n] to [2, 3]") { try alloc($0, shape: [2, 3]) },
                     .unary("alloc [1, n] to [1, 3]") { try alloc($0, shape: [1, 3]) },
                 ]),
                 shapes: .checked([
                     ShapeCase("alloc to symbolic sizes", [.floats([4]), .size(3), .size(4)]) { try alloc($0[0], sizes: [$0[1], $0[2]]) },
                     ShapeCase("alloc to constant sizes", .real(1.5)) { try alloc($0, shape: [2, 3]) },
                     ShapeCase("zerosLike", .tensor3) { try zerosLike($0) },
                 ]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(Arange.self,
                 values: .checked([
                     .builds(.withParameters("arange") { _, params in
                         try arange(params.int("start"), params.int("stop"), step: params.int("step"))
                     }),
                     .builds(.unary("arange_symbolic") { try arange($0) }),
                 ]),
                 gradients: .notApplicable(because: .integerOutput), forwardMode: .notApplicable(because: .integerOutput),
                 gradientTypes: .checked([.unary("arange(n) times x") { x in try cast(arange(shape(x)[1]), to: .float64) * x }]),
                 shapes: .checked([
                     ShapeCase("arange to a symbolic stop", .size(5)) { try arange($0) },
                     ShapeCase("arange to a negative stop", .size(-2)) { try arange($0) },
                     ShapeCase("arange with a step", [ShapeInput]()) { _ in try arange(2, 11, step: 3) },
                     ShapeCase("arange of float bounds", [.real(0.5), .real(2.25), .real(0.5)]) { bounds in
                         try Arange(staticLength: nil).apply(bounds, at: .unknown).output(0)
                     },
                 ]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(Shape.self,
                 values: .checked([.builds(.unary("shape") { try shape($0) })]),
                 gradients: .checked([
                     .unary("shape arithmetic mixed with values", .uniform([3, 4])) { x in
                         try x * cast(shape(x)[1], to: .float64) + cast(size(x), to: .float64)
                     },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([.unary("shape(x)[1] times x") { x in try cast(shape(x)[1], to: .float64) * x }]),
                 shapes: .checked([
                     ShapeCase("shape", .tensor3) { try shape($0) },
                     ShapeCase("shape of a scalar", .real(1)) { try shape($0) },
                 ]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(ShapeAt.self,
                 values: .checked([.builds(.unary("size") { try size($0) })]),
                 gradients: .notApplicable(because: .integerOutput), forwardMode: .notApplicable(because: .integerOutput),
                 gradientTypes: .checked([.unary("ShapeAt(1) times x") { x in try cast(ShapeAt(axis: 1)([x], at: location), to: .float64) * x }]),
                 shapes: .checked([ShapeCase("shape at axis 1", .tensor3) { try $0.dimensionSizes()[1] }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(Join.self,
                 values: .notApplicable(because: noJoinFixtures),
                 gradients: .checked([
                     .binary("concatenate along axis 1", .uniform([3, 2]), .uniform(matrix)) { try concatenate([$0, $1], axis: 1) },
                     .binary("stack on a new axis 1", .uniform(matrix), .uniform(matrix)) { try stack([$0, $1], axis: 1) },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([
                     SizeOneOperands("concatenate [1, n] and [m, n] along axis 0", [[1, 3], [2, 3]]) { try concatenate([$0[0], $0[1]], axis: 0) },
                     SizeOneOperands("concatenate [1, n] and [1, m] along axis 1", [[1, 3], [1, 2]]) { try concatenate([$0[0], $0[1]], axis: 1) },
                 ]),
                 shapes: .checked([
                     ShapeCase("concatenate along axis 1", .matrix, .floats([3, 2])) { try concatenate([$0, $1], axis: 1) },
                     ShapeCase("stack", .matrix, .matrix) { try stack([$0, $1]) },
                 ]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(Split.self,
                 values: .notApplicable(because: noJoinFixtures),
                 gradients: .checked([
                     .unary("split with one piece unused", .uniform(matrix)) { try split($0, sizes: [1, 3], axis: 1)[1] },
                     .unary("split pieces rejoined in reverse", .uniform(matrix)) {
                         try concatenate(split($0, sizes: [2, 2], axis: 1).reversed(), axis: 1)
                     },
                     .unary("split with both pieces used", .uniform([3, 4])) { x in
                         let pieces = try split(x, sizes: [1, 3], axis: 1)
                         return try sum(pieces[0] * 2, axis: 1) + sum(sqr(pieces[1]), axis: 1)
                     },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([
                     SizeOneOperands("split [3, n] into [1, n] and [2, n]", [[3, 4]]) { x in
                         let pieces = try split(x[0], sizes: [1, 2], axis: 0)
                         return try pieces[0] * sum(pieces[1], axis: 0, keepDims: true)
                     },
                 ]),
                 shapes: .checked([ShapeCase("split along axis 1", .matrix) { try split($0, sizes: [1, 3], axis: 1)[1] }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(MakeVector.self,
                 values: .notApplicable(because: shapeArithmetic),
                 gradients: .checked([
                     .binary("make_vector of float scalars", .uniform([]), .uniform([])) {
                         try MakeVector(dtype: .float64)([$0, $1, $0 * $1], at: location)
                     },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([
                     SizeOneOperands("make_vector of scalars", [[], []]) { try MakeVector(dtype: .float64)([$0[0], $0[1]], at: location) },
                 ]),
                 shapes: .checked([
                     ShapeCase("make_vector of sizes", [.size(3), .size(-1), .size(4)]) { try MakeVector(dtype: .int64)($0, at: location) },
                 ]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(CheckEqualSizes.self,
                 values: .notApplicable(because: shapeArithmetic),
                 gradients: .notApplicable(because: .integerOutput), forwardMode: .notApplicable(because: .integerOutput),
                 gradientTypes: .checked([
                     SizeOneOperands("checked equal sizes times x", [[1, 3], [1, 3]]) { x in
                         let size = try CheckEqualSizes()([shape(x[0])[1], shape(x[1])[1]], at: location)
                         return try cast(size, to: .float64) * x[0] * x[1]
                     },
                 ]),
                 shapes: .checked([ShapeCase("checked equal sizes", .size(4), .size(4)) { try CheckEqualSizes()([$0, $1], at: location) }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(SpecifyShape.self,
                 values: .notApplicable(because: "the identity on values: it only states a shape"),
                 gradients: .checked([.binary("specify_shape", .uniform([3, 4]), .uniform([3, 4])) { try $0.specifyingShape(of: $1) * $1 }]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([
                     SizeOneOperands("specify_shape", [[1, 3], [1, 3]]) { try $0[0].specifyingShape(of: $0[1]) * $0[1] },
                 ]),
                 shapes: .checked([ShapeCase("specify_shape", [.matrix, .size(3), .size(4)]) { try SpecifyShape()($0, at: location) }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(RepeatedPositions.self,
                 values: .checked([
                     .builds(.withParameters("repeat_counts") { x, params in try `repeat`(x[0], counts: x[1], axis: params.optionalInt("axis")) }),
                 ]),
                 gradients: .notApplicable(because: .integerOutput), forwardMode: .notApplicable(because: .integerOutput),
                 gradientTypes: .checked([
                     .unary("repeat(x, counts: [2, 1, 1], axis: 1)") { x in
                         try `repeat`(x, counts: constant(NDArray([2, 1, 1] as [Int64])), axis: 1)
                     },
                 ]),
                 shapes: .notApplicable(because: .notShapeInferring),
                 native: .notApplicable(because: .noNativeKernel)),
    ]

    static let indexing: [OpRecord] = [
        OpRecord(Subtensor.self,
                 values: .checked([
                     .builds(.withParameters("subtensor") { x, params in try x[0][indices: params.indices("indices", operands: x)] }),
                 ]),
                 gradients: .checked([
                     .unary("subtensor rows 1..<4", .uniform(indexed)) { try $0[1..<4] },
                     .unary("subtensor with step 2", .uniform(indexed)) { try $0[TensorIndex.stride(by: 2), 1..<5] },
                     .unary("subtensor reversed (step -1)", .uniform(indexed)) { try $0[TensorIndex.stride(by: -1)] },
                     .unary("subtensor from -1 down by -2", .uniform(indexed)) { try $0[.all, TensorIndex.stride(from: -1, to: 0, by: -2)] },
                     .unary("subtensor at index -1", .uniform(indexed)) { try $0[-1] },
                     .unary("subtensor -4..<-1 of columns", .uniform(indexed)) { try $0[.all, (-4)..<(-1)] },
                     .unary("subtensor (-3)... of rows", .uniform(indexed)) { try $0[(-3)...] },
                     .unary("subtensor element [1, -2]", .uniform(indexed)) { try $0[1, -2] },
                     .unary("subtensor with a new axis", .uniform(indexed)) { try $0[.newAxis, 1..<3] },
                     .unary("subtensor clamped past the end", .uniform(indexed)) { try $0[3..<9] },
                     .unary("subtensor at the symbolic index argmax(x)", .distinct([6])) { try $0[argmax($0)] },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([
                     .unary("x[:, 1..<3]") { try $0[.all, 1..<3] },
                     SizeOneOperands("x[0..<1] of a [2, n]", [[2, 3]]) { try $0[0][0..<1] },
                     .unary("x[newAxis]") { try $0[.newAxis] },
                 ]),
                 shapes: .checked([
                     ShapeCase("subtensor rows 1..<3", .matrix) { try $0[1..<3] },
                     ShapeCase("subtensor reversed with step -2", .matrix) { try $0[TensorIndex.stride(by: -2)] },
                     ShapeCase("subtensor at index -1", .tensor3) { try $0[-1] },
                     ShapeCase("subtensor of columns (-3)...", .matrix) { try $0[.all, (-3)...] },
                     ShapeCase("subtensor clamped past the end", .matrix) { try $0[1, 2..<9] },
                     ShapeCase("subtensor at a symbolic index", .tensor3, .size(1)) { try $0[$1] },
                     ShapeCase("subtensor with symbolic start, stop and step", [.tensor3, .size(1), .size(3), .size(-1), .size(3)]) { inputs in
                         let entries: [SubtensorEntry] = [.index(.symbolic), .slice(.symbolic, .none, .symbolic), .slice(.constant(1), .symbolic, .none)]
                         return try Subtensor(entries: entries).apply(inputs, at: .unknown).output(0)
                     },
                 ]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(IncSubtensor.self,
                 values: .checked([
                     .builds(.withParameters("set_subtensor") { x, params in
                         try setSubtensor(x[0][indices: params.indices("indices", operands: x)], x[1])
                     }),
                     .builds(.withParameters("inc_subtensor") { x, params in
                         try incSubtensor(x[0][indices: params.indices("indices", operands: x)], x[1])
                     }),
                 ]),
                 gradients: .checked([
                     .binary("setSubtensor of a row slice", .uniform(indexed), .uniform([2, 6])) { try setSubtensor($0[1..<3], $1) },
                     .binary("setSubtensor of a slice with (1, n) values", .uniform(indexed), .uniform([1, 6])) { try setSubtensor($0[1..<3], $1) },
                     .binary("setSubtensor of a column with a scalar", .uniform(indexed), .uniform([])) { try setSubtensor($0[.all, 2], $1) },
                     .binary("incSubtensor of every other row", .uniform(indexed), .uniform([3, 6])) {
                         try incSubtensor($0[TensorIndex.stride(by: 2)], $1)
                     },
                     .binary("incSubtensor at index -2", .uniform(indexed), .uniform([6])) { try incSubtensor($0[-2], $1) },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([
                     SizeOneOperands("incSubtensor(x[0..<1], [1, n] values)", [[2, 3], [1, 3]]) { try incSubtensor($0[0][0..<1], $0[1]) },
                     // The values' gradient is the region's, which is broadcastable where the values'
                     // type (sizes known only at run time) is not: differentiation broadcasts it.
                     SizeOneOperands("incSubtensor(x[0..<1], values of unknown static shape)", [[2, 3], [1, 3]]) { x in
                         try incSubtensor(x[0][0..<1], reshape(x[1], sizes: [shape(x[1])[0], shape(x[1])[1]]))
                     },
                     SizeOneOperands("setSubtensor(x[:, 0], [1] values) of a [1, n]", [[1, 3], [1]]) { try setSubtensor($0[0][.all, 0], $0[1]) },
                 ]),
                 shapes: .checked([
                     ShapeCase("setSubtensor of rows 1..<3", .matrix, .broadcastRow) { try setSubtensor($0[1..<3], $1) },
                     ShapeCase("incSubtensor at a symbolic index", [.matrix, .floats([4]), .size(-1)]) { try incSubtensor($0[0][$0[2]], $0[1]) },
                 ]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(AdvancedSubtensor.self,
                 values: .checked([
                     .reaches("subtensor"), .reaches("repeat_counts"),
                     .builds(.binary("categorical_crossentropy") { try categoricalCrossentropy($0, $1) }),
                 ]),
                 gradients: .checked([
                     .unary("advanced x[arange(n), labels]", .uniform(indexed)) { try $0[arange(shape($0)[0]), constant(rowLabels)] },
                     .unary("advanced row gather with repeated rows", .uniform(indexed)) { try $0[constant(repeatedRows)] },
                     .unary("advanced row gather with negative rows", .uniform(indexed)) { try $0[constant(negativeRows)] },
                     .unary("advanced gather with a 2-d index", .uniform(indexed)) { try $0[constant(repeatedRows.reshaped([1, 5]))] },
                     .unary("advanced gather of one column at repeated rows", .uniform(indexed)) { try $0[constant(repeatedRows), -2] },
                     .unary("repeat by counts along axis 1", .uniform(matrix)) { try `repeat`($0, counts: constant(columnCounts), axis: 1) },
                     .unary("repeat by counts of the flattened tensor", .uniform([2, 3])) { try `repeat`($0, counts: constant(elementCounts)) },
                     .unary("repeat by a single count along axis -1", .uniform(tensor3)) {
                         try `repeat`($0, counts: constant(NDArray([2] as [Int32])), axis: -1)
                     },
                     .unary("boolean mask x[x > 0]", .awayFromZero(indexed)) { try $0[gt($0, 0)] },
                     .unary("second order: grad of a gather with repeated rows", .uniform(indexed)) {
                         try grad(sum(sqr($0[constant(repeatedRows)])), wrt: [$0])[0]
                     },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([
                     SizeOneOperands("x[[0]]", [[2, 3]]) { try $0[0][constant(firstRow)] },
                     .unary("x[[0]] of a [1, n]") { try $0[constant(firstRow)] },
                 ]),
                 shapes: .checked([
                     ShapeCase("advanced x[arange(n), labels]", .matrix, .integers([0, 3, 1])) { try $0[arange(shape($0)[0]), $1] },
                     ShapeCase("advanced gather of one column at given rows", .matrix, .integers([2, 2, 0, 1])) { try $0[$1, -1] },
                     ShapeCase("advanced gather with a 2-d index", .matrix, .integers([0, 2, 2, 1], shape: [2, 2])) { try $0[$1] },
                     ShapeCase("advanced gather with broadcast indices", [.tensor3, .integers([0, 1], shape: [2, 1], staticShape: [nil, 1]),
                                                                          .integers([2, 0, 1], shape: [1, 3], staticShape: [1, nil])]) {
                         try $0[0][$0[1], $0[2]]
                     },
                     ShapeCase("boolean mask", .matrix) { try $0[gt($0, 0)] },
                 ]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(AdvancedIncSubtensor.self,
                 values: .checked([.reaches("set_subtensor"), .reaches("inc_subtensor")]),
                 gradients: .checked([
                     .binary("advanced setSubtensor of distinct rows", .uniform(indexed), .uniform([3, 6])) {
                         try setSubtensor($0[constant(distinctRows)], $1)
                     },
                     .binary("advanced incSubtensor of repeated rows", .uniform(indexed), .uniform([5, 6])) {
                         try incSubtensor($0[constant(repeatedRows)], $1)
                     },
                     .binary("advanced incSubtensor of negative rows", .uniform(indexed), .uniform([5, 6])) {
                         try incSubtensor($0[constant(negativeRows)], $1)
                     },
                     .binary("advanced incSubtensor with (n,) values broadcast over rows", .uniform(indexed), .uniform([6])) {
                         try incSubtensor($0[constant(repeatedRows)], $1)
                     },
                     .binary("advanced incSubtensor x[arange(n), labels]", .uniform(indexed), .uniform([5])) {
                         try incSubtensor($0[arange(0, 5), constant(rowLabels)], $1)
                     },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([
                     SizeOneOperands("incSubtensor(x[[0]], [1, n] values)", [[2, 3], [1, 3]]) { try incSubtensor($0[0][constant(firstRow)], $0[1]) },
                 ]),
                 shapes: .checked([
                     ShapeCase("advanced incSubtensor of repeated rows", [.matrix, .floats([3, 4]), .integers([2, 0, 2])]) {
                         try incSubtensor($0[0][$0[2]], $0[1])
                     },
                     ShapeCase("advanced setSubtensor of x[arange(n), labels]", [.matrix, .floats([3]), .integers([3, 0, 1])]) {
                         try setSubtensor($0[0][arange(0, 3), $0[2]], $0[1])
                     },
                 ]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(Nonzero.self,
                 values: .checked([.reaches("subtensor")]),
                 gradients: .notApplicable(because: .integerOutput), forwardMode: .notApplicable(because: .integerOutput),
                 gradientTypes: .checked([.unary("x[x > 1]") { try $0[gt($0, 1)] }]),
                 shapes: .notApplicable(because: .notShapeInferring),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(SliceLength.self,
                 values: .notApplicable(because: "computes the length of a slice with symbolic bounds: the subtensor shape cases check it"),
                 gradients: .notApplicable(because: .integerOutput), forwardMode: .notApplicable(because: .integerOutput),
                 gradientTypes: .checked([
                     .unary("slice length times x") { x in
                         try cast(SliceLength(start: .constant(1), stop: .none, step: .none)([shape(x)[1]], at: location), to: .float64) * x
                     },
                 ]),
                 shapes: .notApplicable(because: "a size itself: shape inference makes it, it infers no shapes"),
                 native: .notApplicable(because: .noNativeKernel)),
    ]
}
