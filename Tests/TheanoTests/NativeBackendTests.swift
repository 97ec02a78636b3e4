import Foundation
import Testing
@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoLoops
@testable import TheanoNative
@testable import TheanoOps
@testable import TheanoOptimizer
#if canImport(Glibc)
import Glibc
#endif

// The native backend against the reference interpreter: every elementwise op with a C
// facet, fusion, the multi-core split, matrix products through BLAS and through the
// compiled fallback, and the failure modes (no compiler, a compiler that fails, a corrupt
// or contended module cache). Compiling C is the slow part, so each test compiles one
// function with many outputs (one module, many kernels) into a cache under one temporary
// directory per test run.

// MARK: - Scratch space and compiling

/// The native tests' scratch space: one temporary directory and module cache per test run.
enum Scratch {
    /// This run's temporary directory, removed when the test process exits.
    static let root: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("theano-native-tests-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: Scratch.root) }
        return path
    }()

    /// The module cache most tests share.
    static let cache = ModuleCache(directory: root + "/modules")

    /// A new, not yet existing path under the root.
    static func freshPath(_ name: String) -> String { root + "/\(name)-\(UUID().uuidString)" }

    static func linker(cache: ModuleCache = cache, usesBLAS: Bool = true, fastMath: Bool = false,
                       compilers: [String]? = nil, adaptiveThreading: Bool = false) -> NativeLinker {
        NativeLinker(cache: cache, fastMath: fastMath, compilerCandidates: compilers, usesBLAS: usesBLAS, adaptiveThreading: adaptiveThreading)
    }
}

/// The same graph compiled by the native backend and by the reference interpreter.
struct CompiledPair {
    let native: Function
    let reference: Function

    init(inputs: [Variable], outputs: [Variable], linker: NativeLinker = Scratch.linker()) throws {
        native = try function(inputs: inputs, outputs: outputs, options: CompileOptions(linker: linker))
        reference = try function(inputs: inputs, outputs: outputs)
    }

    func callBoth(_ arguments: [NDArray]) throws -> (native: [NDArray], reference: [NDArray]) {
        (try native(arguments), try reference(arguments))
    }
}

// MARK: - Comparing results

private enum Tolerance {
    case exact
    /// Error within `rtol` relative to the larger value, or within `atol`; NaN equals NaN.
    case relative(Double, atol: Double = 0)

    /// A few ulps of `dtype` (one transcendental function): 1e-6 for float32, 1e-14 for float64.
    static func ulps(_ dtype: DType) -> Tolerance { .relative(dtype == .float32 ? 1e-6 : 1e-14) }

    /// Several transcendental functions composed, whose errors add up and grow where a
    /// result is near zero.
    static func composed(_ dtype: DType) -> Tolerance {
        dtype == .float32 ? .relative(1e-5, atol: 1e-6) : .relative(1e-12, atol: 1e-14)
    }
}

/// Where `native` differs from `reference` beyond `tolerance`: a description of the first
/// differing element (with `describe` saying which inputs it came from), or `nil`.
private func mismatch(_ native: NDArray, _ reference: NDArray, tolerance: Tolerance,
                      describe: (Int) -> String = { "element \($0)" }) -> String? {
    guard native.dtype == reference.dtype else { return "dtype \(native.dtype), reference \(reference.dtype)" }
    guard native.shape == reference.shape else { return "shape \(native.shape), reference \(reference.shape)" }
    if !native.dtype.isFloat {
        let (a, b) = (native.elements(as: Int64.self), reference.elements(as: Int64.self))
        return a.indices.first { a[$0] != b[$0] }.map { "\(describe($0)): native \(a[$0]), reference \(b[$0])" }
    }
    let (a, b) = (native.elements(as: Double.self), reference.elements(as: Double.self))
    let smallest = native.dtype == .float32 ? Double(Float.leastNormalMagnitude) : Double.leastNormalMagnitude
    let agree: (Double, Double) -> Bool = { x, y in
        if x.isNaN || y.isNaN { return x.isNaN && y.isNaN }
        if x.bitPattern == y.bitPattern { return true }
        switch tolerance {
        case .exact: return false
        case .relative(let rtol, let atol):
            return x.isFinite && y.isFinite && Swift.abs(x - y) <= Swift.max(rtol * Swift.max(Swift.abs(x), Swift.abs(y)), smallest, atol)
        }
    }
    return a.indices.first { !agree(a[$0], b[$0]) }.map { "\(describe($0)): native \(a[$0]), reference \(b[$0])" }
}

// MARK: - Inputs laid out in memory in different ways

/// How an input array sits in memory: the values are the same, the strides differ, so both
/// the flat and the strided kernel entry points run.
private enum Layout: String, CaseIterable {
    case contiguous, transposed, everyOther = "every other element", reversed = "negative steps"

    /// An array of `dtype` holding `values` (row-major, of shape `shape`) laid out this way.
    func arrange<T: Element>(_ values: [T], shape: [Int], dtype: DType, filler: T) -> NDArray {
        switch self {
        case .contiguous:
            return NDArray(values, shape: shape).cast(to: dtype)
        case .transposed:
            guard shape.count == 2 else { return Layout.reversed.arrange(values, shape: shape, dtype: dtype, filler: filler) }
            let (rows, columns) = (shape[0], shape[1])
            let stored = (0..<columns).flatMap { j in (0..<rows).map { i in values[i * columns + j] } }
            return NDArray(stored, shape: [columns, rows]).cast(to: dtype).transposed()
        case .everyOther:
            // Stored at the even positions of an array twice as large along every axis.
            let padded = shape.map { 2 * $0 }
            var stored = [T](repeating: filler, count: padded.reduce(1, *))
            for (flat, value) in values.enumerated() {
                var rest = flat, position = 0, stride = 1
                for d in shape.indices.reversed() {
                    position += 2 * (rest % shape[d]) * stride
                    rest /= shape[d]
                    stride *= padded[d]
                }
                stored[position] = value
            }
            return shape.indices.reduce(NDArray(stored, shape: padded).cast(to: dtype)) { array, d in
                array.sliced(axis: d, start: 0, count: shape[d], step: 2)
            }
        case .reversed:
            // Reversing every axis of a row-major array reverses its storage.
            return shape.indices.filter { shape[$0] > 0 }.reduce(NDArray(Array(values.reversed()), shape: shape).cast(to: dtype)) { array, d in
                array.sliced(axis: d, start: shape[d] - 1, count: shape[d], step: -1)
            }
        }
    }
}

/// Values of one dtype, held exactly (integers as `Int64`) until an array is made.
private enum Scalars {
    case floats([Double]), integers([Int64])

    var count: Int {
        switch self {
        case .floats(let values): values.count
        case .integers(let values): values.count
        }
    }

    func text(_ index: Int) -> String {
        switch self {
        case .floats(let values): "\(values[index])"
        case .integers(let values): "\(values[index])"
        }
    }

    /// The values at `indices`, of shape `shape`, as `dtype`, laid out as `layout` says.
    func array(_ indices: [Int], shape: [Int], dtype: DType, layout: Layout = .contiguous) -> NDArray {
        switch self {
        case .floats(let values): layout.arrange(indices.map { values[$0] }, shape: shape, dtype: dtype, filler: 12345)
        case .integers(let values): layout.arrange(indices.map { values[$0] }, shape: shape, dtype: dtype, filler: 77)
        }
    }

    /// Zero, one, large, NaN, infinities, halves (for rounding), wraparound and
    /// division-by-zero material, per dtype.
    static func edges(_ dtype: DType) -> Scalars {
        switch dtype {
        case .float32, .float64:
            let large = dtype == .float32 ? 3e38 : 1e300, tiny = dtype == .float32 ? 1e-40 : Double.leastNonzeroMagnitude
            // -0.0: the sign of a zero result must agree too (minimum(0, -0), …).
            return .floats([0, -0.0, 1, -1, 0.5, -0.5, 1.5, 2.5, -2.5, 3, -7.25, 0.1, 100, -100, large, -large, tiny,
                            .nan, .infinity, -.infinity])
        case .int8: return .integers([0, 1, -1, 2, -2, 3, -7, 7, 5, 64, 100, -100, 127, -128])
        case .uint8: return .integers([0, 1, 2, 3, 7, 100, 127, 128, 200, 255])
        case .int16: return .integers([0, 1, -1, 2, -3, 7, 255, -256, 32767, -32768])
        case .int32: return .integers([0, 1, -1, 2, -3, 7, -7, 46341, 1_000_000, -65536, Int64(Int32.max), Int64(Int32.min)])
        case .int64:
            // 2⁵³ + 2²⁹ + 1 rounds differently to float32 directly than through float64.
            return .integers([0, 1, -1, 2, -3, 7, -7, 3_037_000_500, 1 << 40, (1 << 53) + (1 << 29) + 1, .max, .min])
        case .bool: return .integers([0, 1])
        }
    }
}

// MARK: - The elementwise ops with a C facet

/// An elementwise op with a C facet applied to `arity` operands of one dtype, compared with
/// the reference on every pair of edge values (`elementwiseOpsMatchTheReference`).
struct NativeElementwiseCase: Sendable {
    /// `ulps`: a few ulps for float results (C's math library against Swift's), exact for
    /// integer ones (`pow` of integers).
    enum Precision: Sendable { case exact, ulps }

    let name: String
    let arity: Int
    let precision: Precision
    /// Whether the op takes operands of a dtype, as NumPy does (not rounding integers,
    /// negating booleans or bitwise functions of floats).
    let accepts: @Sendable (DType) -> Bool
    let build: @Sendable ([Variable]) throws -> Variable

    static func unary(_ name: String, _ precision: Precision, accepts: @escaping @Sendable (DType) -> Bool = { _ in true },
                      _ build: @escaping @Sendable (Variable) throws -> Variable) -> Self {
        Self(name: name, arity: 1, precision: precision, accepts: accepts) { try build($0[0]) }
    }

    static func binary(_ name: String, _ precision: Precision = .exact, accepts: @escaping @Sendable (DType) -> Bool = { _ in true },
                       _ build: @escaping @Sendable (Variable, Variable) throws -> Variable) -> Self {
        Self(name: name, arity: 2, precision: precision, accepts: accepts) { try build($0[0], $0[1]) }
    }

    static func ternary(_ name: String, _ build: @escaping @Sendable (Variable, Variable, Variable) throws -> Variable) -> Self {
        Self(name: name, arity: 3, precision: .exact, accepts: { _ in true }) { try build($0[0], $0[1], $0[2]) }
    }

    /// The records' cases that take operands of `dtype`.
    static func all(for dtype: DType) -> [NativeElementwiseCase] {
        OpRecords.nativeCases.compactMap { nativeCase -> NativeElementwiseCase? in
            if case .elementwise(let elementwise) = nativeCase, elementwise.accepts(dtype) { elementwise } else { nil }
        }
    }

    fileprivate func tolerance(output: DType) -> Tolerance {
        precision == .ulps && output.isFloat ? .ulps(output) : .exact
    }
}

/// The matrices and vectors of the matrix-product test, of one dtype.
struct MatrixProductOperands {
    let A, B, P, Q, C: Variable
    let v, t, u, z, y: Variable

    init(dtype: DType) {
        (A, B, P) = (matrix("A", dtype: dtype), matrix("B", dtype: dtype), matrix("P", dtype: dtype))
        (Q, C) = (matrix("Q", dtype: dtype), matrix("C", dtype: dtype))
        (v, t, u) = (vector("v", dtype: dtype), vector("t", dtype: dtype), vector("u", dtype: dtype))
        (z, y) = (vector("z", dtype: dtype), vector("y", dtype: dtype))
    }

    var all: [Variable] { [A, B, P, Q, C, v, t, u, z, y] }

    /// The shapes of ``all`` for an `m × k` by `k × n` product.
    static func shapes(m: Int, k: Int, n: Int) -> [[Int]] { [[m, k], [k, n], [k, m], [n, k], [m, n], [k], [m], [m], [n], [m]] }
}

/// A product of ``MatrixProductOperands`` that the native backend computes with a gemm call
/// (`matrixProductsMatchTheReference`).
struct MatrixProductCase: Sendable {
    let name: String
    let build: @Sendable (MatrixProductOperands) throws -> Variable

    init(_ name: String, _ build: @escaping @Sendable (MatrixProductOperands) throws -> Variable) {
        (self.name, self.build) = (name, build)
    }
}

/// The symbolic inputs of the elementwise test: square matrices `a`, `b`, `c` holding every
/// pair of edge values, a row `r`, a column `q` and a 0-d `s` for broadcasting.
private struct ElementwiseInputs {
    let a, b, c, r, q, s: Variable

    init(_ dtype: DType) {
        (a, b, c) = (matrix("a", dtype: dtype), matrix("b", dtype: dtype), matrix("c", dtype: dtype))
        r = matrix("r", dtype: dtype, shape: (1, nil))
        q = matrix("q", dtype: dtype, shape: (nil, 1))
        s = scalar("s", dtype: dtype)
    }

    var all: [Variable] { [a, b, c, r, q, s] }

    /// The operand lists an op of `arity` is applied to: same shapes, then broadcasting.
    func operandLists(arity: Int) -> [(label: String, operands: [Variable])] {
        switch arity {
        case 1: [("", [a])]
        case 2: [("", [a, b]), (" matrix-row", [a, r]), (" column-row", [q, r]), (" scalar-matrix", [s, a])]
        default: [("", [a, b, c]), (" column-row-matrix", [q, r, a]), (" scalar-matrix-row", [s, a, r])]
        }
    }

    /// Values for a call: `a[i, j]` and `q[i]` are edge value `i`; `b[i, j]` and `r[j]` edge
    /// value `j`; `c` mixes both; `s` is edge value `scalarIndex`. `rows` 0 gives empty arrays.
    static func values(_ edges: Scalars, dtype: DType, layout: Layout, rows: Int, scalarIndex: Int) -> [NDArray] {
        let k = edges.count
        let grid = Array(0..<(rows * k))
        return [
            edges.array(grid.map { $0 / k }, shape: [rows, k], dtype: dtype, layout: layout),
            edges.array(grid.map { $0 % k }, shape: [rows, k], dtype: dtype, layout: layout),
            edges.array(grid.map { ($0 / k + 2 * ($0 % k)) % k }, shape: [rows, k], dtype: dtype, layout: layout),
            edges.array(Array(0..<k), shape: [1, k], dtype: dtype, layout: layout),
            edges.array(Array(0..<rows), shape: [rows, 1], dtype: dtype, layout: layout),
            edges.array([scalarIndex], shape: [], dtype: dtype),
        ]
    }
}

extension NativeCase: CustomStringConvertible {
    var description: String {
        switch self {
        case .elementwise(let elementwise): "elementwise \(elementwise.name)"
        case .matrixProduct(let product): "matrix product \(product.name)"
        case .axisKernel: "axis kernels"
        case .fillKernel(let fill): "fill kernel \(fill.name)"
        case .imageKernel(let image): "image kernel \(image.name)"
        }
    }

    /// The case's graph, of float64 operands where the op takes them: its inputs and outputs.
    func graph() throws -> (inputs: [Variable], outputs: [Variable]) {
        switch self {
        case .elementwise(let elementwise):
            let dtype = ([.float64] + DType.allCases).first(where: elementwise.accepts) ?? .float64
            let inputs = (0..<elementwise.arity).map { matrix("x\($0)", dtype: dtype) }
            return (inputs, [try elementwise.build(inputs)])
        case .matrixProduct(let product):
            let operands = MatrixProductOperands(dtype: .float64)
            return (operands.all, [try product.build(operands)])
        case .axisKernel(let kernels):
            let x = tensor("x", dtype: .float64, shape: [nil, nil, nil])
            return ([x], try kernels.build(x))
        case .fillKernel(let fill):
            return ([], try fill.build())
        case .imageKernel(let image):
            let inputs = image.inputs.enumerated().map { tensor("x\($0.offset)", dtype: $0.element.dtype, shape: $0.element.shape) }
            return (inputs, try image.build(inputs))
        }
    }
}

// MARK: - Tests

@Suite("Native backend")
struct NativeBackendTests {
    /// Compiled elementwise and product outputs written into memory the caller provides (a
    /// loop's history row); a target of another shape is left alone and the output made as usual.
    @Test func elementwiseOutputsGoIntoGivenTargets() throws {
        let x = matrix("x", dtype: .float64), y = matrix("y", dtype: .float64)
        let graph = try FunctionGraph(inputs: [x, y], outputs: [tanh(x * y + 1), dot(x, y)])
        _ = Pipeline.optimize(graph, options: CompileOptions(linker: Scratch.linker()))
        let program = try Scratch.linker().link(graph).executor
        let a = NDArray([0.5, -1, 2, 0.25] as [Double], shape: [2, 2]), b = NDArray([1, 2, -0.5, 3] as [Double], shape: [2, 2])
        let expected = try program.run(inputs: [a, b]).map { $0.contiguousCopy() }  // outputs may be recycled
        let history = NDArray(zeros: [3, 2, 2], dtype: .float64), row = history.indexed(axis: 0, at: 1)
        let productTarget = NDArray(zeros: [2, 2], dtype: .float64)
        let results = try program.run(inputs: [a, b], outputTargets: [row, productTarget])
        #expect(results[0].firstElementAddress == row.firstElementAddress, "written into the row")
        #expect(results[1].firstElementAddress == productTarget.firstElementAddress, "the product too")
        #expect(row == expected[0] && results[1] == expected[1])
        let wrongShape = NDArray(zeros: [4], dtype: .float64)
        let again = try program.run(inputs: [a, b], outputTargets: [wrongShape, nil])
        #expect(again[0].firstElementAddress != wrongShape.firstElementAddress && again[0] == expected[0])
    }

    /// Each record's native cases reach its op, as built or in the graph the native backend
    /// optimizes, so a case filed under the wrong op shows.
    @Test func everyNativeCaseReachesItsOp() throws {
        for record in OpRecords.all {
            for nativeCase in record.native.cases {
                let (inputs, outputs) = try nativeCase.graph()
                let built = topologicalOrder(of: outputs)
                let graph = try FunctionGraph(inputs: inputs, outputs: outputs)
                _ = Pipeline.optimize(graph, options: CompileOptions(linker: Scratch.linker()))
                let reached = Set((built + graph.nodes).map { ObjectIdentifier(type(of: $0.op)) })
                #expect(reached.contains(record.opType), "native case \(nativeCase) does not reach \(record.op)")
            }
        }
    }

    /// Every elementwise op with a C facet, on every pair of edge values, with inputs
    /// contiguous, transposed, strided (step 2), reversed (step -1), broadcast and empty:
    /// exactly the reference's results (to a few ulps for transcendental functions).
    @Test(arguments: [DType.float32, .float64, .int8, .int32, .int64, .uint8, .bool])
    func elementwiseOpsMatchTheReference(dtype: DType) throws {
        let inputs = ElementwiseInputs(dtype)
        var outputs: [(label: String, tolerance: Tolerance, variable: Variable)] = []
        for op in NativeElementwiseCase.all(for: dtype) {
            for (suffix, operands) in inputs.operandLists(arity: op.arity) {
                let output = try op.build(operands)
                outputs.append((op.name + suffix, op.tolerance(output: output.dtype), output))
            }
        }
        let pair = try CompiledPair(inputs: inputs.all, outputs: outputs.map(\.variable))
        // Every node with a C form runs as a kernel, and every op under test has one.
        let graph = pair.native.graph
        #expect(pair.native.compiledNodes == graph.nodes.filter { fusible($0) != nil }.count)
        for (output, variable) in zip(outputs, graph.outputs) where variable.owner.map(fusible) == nil {
            Issue.record("\(dtype) \(output.label): no compiled kernel computes it")
        }
        #expect(pair.native.linkWarnings.isEmpty)

        let edges = Scalars.edges(dtype)
        let runs = Layout.allCases.enumerated().map { index, layout in (layout.rawValue, layout, edges.count, 3 * index % edges.count) }
            + [("empty", Layout.contiguous, 0, 1)]
        var kept: (results: [NDArray], copies: [NDArray])?
        for (runName, layout, rows, scalarIndex) in runs {
            let values = ElementwiseInputs.values(edges, dtype: dtype, layout: layout, rows: rows, scalarIndex: scalarIndex)
            let (native, reference) = try pair.callBoth(values)
            if kept == nil { kept = (native, native.map { $0.contiguousCopy() }) }
            for (output, (nativeValue, referenceValue)) in zip(outputs, zip(native, reference)) {
                #expect(nativeValue.dtype == output.variable.dtype, "\(output.label): dtype")
                let describe = { (flat: Int) -> String in
                    let columns = Swift.max(nativeValue.shape.last ?? 1, 1)
                    return "at [\(flat / columns), \(flat % columns)] (edge values \(edges.text(flat / columns % edges.count)), "
                        + "\(edges.text(flat % columns % edges.count)); s = \(edges.text(scalarIndex)))"
                }
                if let problem = mismatch(nativeValue, referenceValue, tolerance: output.tolerance, describe: describe) {
                    Issue.record("\(dtype) \(output.label), \(runName): \(problem)")
                }
            }
        }
        // Results the caller keeps are not overwritten by later calls.
        if let kept {
            for (output, (a, b)) in zip(outputs, zip(kept.results, kept.copies)) where mismatch(a, b, tolerance: .exact) != nil {
                Issue.record("\(dtype) \(output.label): a result kept from the first call changed during later calls")
            }
        }
    }

    /// Operands of different dtypes are promoted before the op (int16 results, float64 from
    /// int32 and float32, booleans as int8) and the kernels compute in the promoted type.
    @Test func mixedDTypesArePromotedAsInTheReference() throws {
        let i8 = matrix("i8", dtype: .int8), u8 = matrix("u8", dtype: .uint8), i32 = matrix("i32", dtype: .int32)
        let f32 = matrix("f32", dtype: .float32), i64 = matrix("i64", dtype: .int64), flag = matrix("flag", dtype: .bool)
        let outputs = [
            try i8 + u8, try i8 * u8, try intDiv(i8, u8), try u8 % i8, try maximum(i8, u8), try abs(i8 - u8),
            try i32 * f32, try f32 + i8, try i64 / i32, try flag + i8, try lt(u8, i8), try pow(i8, u8),
            try `switch`(flag, f32, i8), try clip(i32, i8, u8), try exp(i8) + f32, try sqr(i8 - u8) + 1,
        ]
        #expect(outputs.map(\.dtype) == [.int16, .int16, .int16, .int16, .int16, .int16, .float64, .float32, .float64,
                                          .int8, .bool, .int16, .float32, .int32, .float32, .int16])
        let pair = try CompiledPair(inputs: [i8, u8, i32, f32, i64, flag], outputs: outputs)
        #expect(pair.native.compiledNodes > 0)
        let k = 14
        let indices = Array(0..<(k * k))
        for layout in [Layout.contiguous, .transposed] {
            let arguments = [(i8, DType.int8), (u8, .uint8), (i32, .int32), (f32, .float32), (i64, .int64), (flag, .bool)].enumerated().map { n, input in
                let edges = Scalars.edges(input.1)
                return edges.array(indices.map { ($0 * (n + 1) + $0 / k) % edges.count }, shape: [k, k], dtype: input.1, layout: layout)
            }
            let (native, reference) = try pair.callBoth(arguments)
            for (index, (a, b)) in zip(native, reference).enumerated() {
                if let problem = mismatch(a, b, tolerance: a.dtype.isFloat ? .composed(a.dtype) : .exact) {
                    Issue.record("output \(index) (\(outputs[index].dtype)), \(layout.rawValue): \(problem)")
                }
            }
        }
    }

    // MARK: Fusion

    @Test func aChainOfFiveOpsIsOneKernel() throws {
        let x = vector("x"), y = vector("y"), z = vector("z")
        let pair = try CompiledPair(inputs: [x, y, z], outputs: [try sin(cos(exp(x) + y) * z)])
        let composites = pair.native.graph.nodes.compactMap { $0.op as? Composite }
        #expect(pair.native.compiledNodes == 1)
        #expect(pair.native.graph.nodes.count == 1)
        #expect(composites.count == 1)
        #expect(composites.first?.operations.count == 5)
        var random = RandomState(seed: 1)
        let arguments = (0..<3).map { _ in NDArray.uniform([1001], low: -2, high: 2, using: &random) }
        let (native, reference) = try pair.callBoth(arguments)
        #expect(mismatch(native[0], reference[0], tolerance: .composed(.float32)) == nil)
    }

    @Test func aProducerWithTwoReadersIsNotFusedIntoBoth() throws {
        let x = vector("x", dtype: .float64)
        let shared = try exp(x)
        let pair = try CompiledPair(inputs: [x], outputs: [try sin(shared) * 2, try cos(shared) + 1])
        let nodes = pair.native.graph.nodes
        #expect(nodes.filter { $0.op is Exp }.count == 1, "exp stays a node of its own, computed once")
        #expect(nodes.compactMap { $0.op as? Composite }.count == 2)
        #expect(!nodes.contains { ($0.op as? Composite)?.operations.contains { $0.op is Exp } ?? false })
        #expect(nodes.count == 3 && pair.native.compiledNodes == 3)
        let value = NDArray([-3, -0.5, 0, 0.25, 2, 40] as [Double])
        let (native, reference) = try pair.callBoth([value])
        for (a, b) in zip(native, reference) { #expect(mismatch(a, b, tolerance: .composed(.float64)) == nil) }
    }

    /// `sin(e) + cos(e)`: once `sin` and `cos` are fused into the sum, `e` has one reader
    /// again and joins the kernel, where it is computed once per element.
    @Test func aProducerWhoseReadersAreFusedTogetherJoinsThemOnce() throws {
        let x = vector("x", dtype: .float64)
        let shared = try exp(x)
        let pair = try CompiledPair(inputs: [x], outputs: [try sin(shared) + cos(shared)])
        let composites = pair.native.graph.nodes.compactMap { $0.op as? Composite }
        #expect(pair.native.graph.nodes.count == 1 && pair.native.compiledNodes == 1)
        #expect(composites.first.map { $0.operations.filter { $0.op is Exp }.count } == 1)
        let value = NDArray([-3, -0.5, 0, 0.25, 2, 40] as [Double])
        let (native, reference) = try pair.callBoth([value])
        #expect(mismatch(native[0], reference[0], tolerance: .composed(.float64)) == nil)
    }

    @Test func aBroadcastProducerIsNotFused() throws {
        let row = matrix("row", dtype: .float64, shape: (1, nil)), m = matrix("m", dtype: .float64)
        let pair = try CompiledPair(inputs: [row, m], outputs: [try exp(row) * m])
        let nodes = pair.native.graph.nodes
        #expect(nodes.contains { $0.op is Exp }, "exp of the row is computed once per column, not per element")
        #expect(!nodes.contains { ($0.op as? Composite)?.operations.contains { $0.op is Exp } ?? false })
        #expect(pair.native.compiledNodes == 2)
        var random = RandomState(seed: 2)
        let arguments = [NDArray.uniform([1, 7], low: -1, high: 1, dtype: .float64, using: &random),
                         NDArray.uniform([5, 7], low: -1, high: 1, dtype: .float64, using: &random)]
        let (native, reference) = try pair.callBoth(arguments)
        #expect(mismatch(native[0], reference[0], tolerance: .ulps(.float64)) == nil)
    }

    /// Elementwise chains that only feed a sum, product, maximum or minimum are computed inside
    /// it: one kernel per output, on contiguous, strided and large (multi-core) inputs.
    @Test(arguments: [DType.float32, .float64])
    func elementwiseProducersFuseIntoReductions(dtype: DType) throws {
        let x = matrix("x", dtype: dtype), y = matrix("y", dtype: dtype), s = scalar("s", dtype: dtype)
        let outputs = [
            try sum(sqr(x - y), axis: 1), try max(exp(x) * s, axis: 0), try sum(abs(x) + s),
            try min(y - x, axis: 1, keepDims: true), try prod(cos(x) * 0.5 + 1, axis: 0), try mean(tanh(x * y), axis: 1),
        ]
        let pair = try CompiledPair(inputs: [x, y, s], outputs: outputs)
        let fused = pair.native.graph.nodes.compactMap { $0.op as? ElementwiseReduce }
        #expect(fused.count == 6, "\(debugprint(pair.native))")
        #expect(!pair.native.graph.nodes.contains { $0.op is Reduce })
        #expect(pair.native.rewriteReport.counts["reduction_fusion"] == 6)
        var random = RandomState(seed: 4)
        for (rows, columns) in [(7, 5), (600, 700)] {
            let grid = { (0..<(rows * columns)).map { _ in 2 * random.nextUnit() - 1 } }
            let (xValues, yValues) = (grid(), grid())
            for layout in [Layout.contiguous, .transposed] {
                let arguments = [layout.arrange(xValues, shape: [rows, columns], dtype: dtype, filler: 0),
                                 layout.arrange(yValues, shape: [rows, columns], dtype: dtype, filler: 0),
                                 NDArray(scalar: 0.75, dtype: dtype)]
                let (native, reference) = try pair.callBoth(arguments)
                for (index, (a, b)) in zip(native, reference).enumerated() {
                    if let problem = mismatch(a, b, tolerance: .relative(dtype == .float32 ? 2e-5 : 1e-12, atol: dtype == .float32 ? 1e-5 : 1e-12)) {
                        Issue.record("output \(index), \(rows)×\(columns) \(layout.rawValue): \(problem)")
                    }
                }
            }
        }
    }

    /// Column reductions of a large matrix, cut into parts of rows that the cores reduce in
    /// turn and then combined: sums, products, maxima and minima, with a NaN that only the
    /// last part sees, infinities in other parts, and partial results beyond float32, agree
    /// with the reference.
    @Test(arguments: [DType.float32, .float64])
    func columnReductionsInPartsMatchTheReference(dtype: DType) throws {
        let x = matrix("x", dtype: dtype)
        let outputs = [try sum(x, axis: 0), try prod(x, axis: 0), try max(x, axis: 0), try min(x, axis: 0), try sum(x * x, axis: 0)]
        let pair = try CompiledPair(inputs: [x], outputs: outputs)
        let (rows, columns) = (611, 700)
        var random = RandomState(seed: 8)
        var values = (0..<(rows * columns)).map { _ in 0.2 * random.nextUnit() + 0.9 }
        values[(rows - 2) * columns + 3] = .nan
        values[5 * columns + 4] = .infinity
        values[300 * columns + 4] = -.infinity
        values[7 * columns + 5] = -.infinity
        // Partial results that float32 could not hold: a product overflowing in the first
        // part and underflowing in the last, and a sum whose first part is 10⁸ + 1.
        for row in 0..<8 { values[row * columns + 6] = 1e30 }
        for row in (rows - 8)..<rows { values[row * columns + 6] = 1e-30 }
        for row in 0..<rows { values[row * columns + 7] = 0 }
        (values[7], values[columns + 7], values[(rows - 3) * columns + 7]) = (1e8, 1, -1e8)
        let (native, reference) = try pair.callBoth([NDArray(values, shape: [rows, columns]).cast(to: dtype)])
        for (index, (a, b)) in zip(native, reference).enumerated() {
            if let problem = mismatch(a, b, tolerance: .relative(dtype == .float32 ? 1e-5 : 1e-12)) {
                Issue.record("output \(index): \(problem)")
            }
        }
    }

    @Test func aProducerWithOtherReadersIsNotFusedIntoAReduction() throws {
        let x = matrix("x", dtype: .float64)
        let squares = try sqr(x)
        let pair = try CompiledPair(inputs: [x], outputs: [try sum(squares, axis: 0), squares])
        #expect(pair.native.graph.nodes.contains { $0.op is Reduce })
        #expect(!pair.native.graph.nodes.contains { $0.op is ElementwiseReduce })
        let value = NDArray([[1, -2, 3], [0.5, 4, -1]] as [[Double]])
        let (native, reference) = try pair.callBoth([value])
        for (a, b) in zip(native, reference) { #expect(mismatch(a, b, tolerance: .exact) == nil) }
    }

    // MARK: Large arrays

    /// Large enough for the loops to be split across cores: flat, strided and broadcast.
    @Test(arguments: [DType.float32, .float64])
    func largeArraysMatchTheReference(dtype: DType) throws {
        let x = vector("x", dtype: dtype), m = matrix("m", dtype: dtype), row = matrix("row", dtype: dtype, shape: (1, nil))
        // Sums of positive terms (no cancellation to magnify rounding), and exact ops.
        let outputs = [try sigmoid(x) * 2 + exp(-(x * x)), try exp(m) + abs(m), try maximum(m, row) - sqr(row)]
        let pair = try CompiledPair(inputs: [x, m, row], outputs: outputs)
        #expect(pair.native.compiledNodes >= 3)
        var random = RandomState(seed: 3)
        let count = (1 << 18) + 3, (rows, columns) = (517, 513)
        let flat = (0..<count).map { _ in 8 * random.nextUnit() - 4 }
        let grid = (0..<(rows * columns)).map { _ in 8 * random.nextUnit() - 4 }
        let rowValues = (0..<columns).map { _ in 8 * random.nextUnit() - 4 }
        for layout in [Layout.contiguous, .transposed] {
            let arguments = [layout.arrange(flat, shape: [count], dtype: dtype, filler: 0),
                             layout.arrange(grid, shape: [rows, columns], dtype: dtype, filler: 0),
                             layout.arrange(rowValues, shape: [1, columns], dtype: dtype, filler: 0)]
            let (native, reference) = try pair.callBoth(arguments)
            for (index, (a, b)) in zip(native, reference).enumerated() {
                if let problem = mismatch(a, b, tolerance: index == 2 ? .exact : .composed(dtype)) {
                    Issue.record("output \(index), \(layout.rawValue): \(problem)")
                }
            }
        }
    }

    /// A column broadcast over the rows of a matrix (`m - q`, `q` of shape n×1), which the
    /// flat loop runs row by row with the column's value spread over a row, and the strided
    /// loop where rows are short (< 16) or too long to spread (> 2¹⁶): both agree with the
    /// reference, for small and wide dtypes, in three dimensions, and written over `m`'s
    /// memory by an update.
    @Test(arguments: [DType.float32, .float64, .int8, .bool])
    func columnBroadcastsMatchTheReference(dtype: DType) throws {
        let m = matrix("m", dtype: dtype), q = matrix("q", dtype: dtype, shape: (nil, 1))
        let t = tensor("t", dtype: dtype, shape: [nil, nil, nil]), u = tensor("u", dtype: dtype, shape: [nil, nil, 1])
        let combine: (Variable, Variable) throws -> Variable = dtype == .bool ? { try neq($0, $1) } : { try maximum($0, $1) - $1 }
        let pair = try CompiledPair(inputs: [m, q, t, u], outputs: [try combine(m, q), try combine(q, m), try combine(t, u)])
        #expect(pair.native.linkWarnings.isEmpty)
        var random = RandomState(seed: 77)
        func values(_ shape: [Int]) -> NDArray {
            NDArray((0..<shape.reduce(1, *)).map { _ in Double(Int(random.nextUnit() * 7)) - 3 }, shape: shape).cast(to: dtype)
        }
        for (rows, columns) in [(5, 15), (7, 16), (33, 300), (2, (1 << 16) + 1)] {
            let arguments = [values([rows, columns]), values([rows, 1]), values([3, rows, columns]), values([3, rows, 1])]
            let (native, reference) = try pair.callBoth(arguments)
            for (index, (a, b)) in zip(native, reference).enumerated() {
                if let problem = mismatch(a, b, tolerance: .exact) { Issue.record("\(rows)×\(columns), output \(index): \(problem)") }
            }
        }
        // The update overwrites `w` in place, its column `q` spread over each row.
        let w = try shared(values([9, 40]), name: "w")
        let step = try function(inputs: [q], outputs: [], updates: [w: try combine(w, q)], options: CompileOptions(linker: Scratch.linker()))
        #expect(step.inplaceNodes == 1)
        let column = values([9, 1])
        let expected = try pair.reference([w.value, column, values([1, 1, 1]), values([1, 1, 1])])[0]
        _ = try step(column)
        #expect(mismatch(w.value, expected, tolerance: .exact) == nil)
    }

    // MARK: Matrix products

    /// `dot` of every rank combination, transposed operands, and the gemm, gemv and ger the
    /// specialize phase makes, through BLAS and through the compiled C fallback.
    @Test(arguments: [DType.float32, .float64], [true, false])
    func matrixProductsMatchTheReference(dtype: DType, usesBLAS: Bool) throws {
        let operands = MatrixProductOperands(dtype: dtype)
        let outputs: [(String, Variable)] = try OpRecords.nativeCases.compactMap { nativeCase -> (String, Variable)? in
            if case .matrixProduct(let product) = nativeCase { (product.name, try product.build(operands)) } else { nil }
        }
        let pair = try CompiledPair(inputs: operands.all, outputs: outputs.map(\.1), linker: Scratch.linker(usesBLAS: usesBLAS))
        let nodes = pair.native.graph.nodes
        let products = nodes.filter { $0.op is Dot || $0.op is Gemm || $0.op is Gemv || $0.op is Ger }
        #expect(nodes.contains { ($0.op as? Gemm)?.accumulates == true }, "gemm from C - 0.1·dot(Pᵀ, B)")
        #expect(nodes.contains { ($0.op as? Gemv)?.accumulates == true }, "gemv from y + 2·dot(A, v)")
        #expect(nodes.contains { $0.op is Ger }, "ger from C + outer(u, z)")
        #expect(pair.native.compiledNodes >= products.count && products.count >= outputs.count - 1)
        #expect(pair.native.linkWarnings.isEmpty)

        var random = RandomState(seed: 4)
        let rtol = dtype == .float32 ? 1e-4 : 1e-12
        var kept: [(result: NDArray, copy: NDArray)] = []
        for (m, k, n) in [(3, 5, 7), (1, 4, 6), (6, 4, 1), (5, 1, 3), (1, 1, 1), (4, 0, 3), (17, 33, 9), (37, 21, 16), (64, 9, 10)] {
            for layout in Layout.allCases {
                let arguments = MatrixProductOperands.shapes(m: m, k: k, n: n).map { shape in
                    layout.arrange((0..<shape.reduce(1, *)).map { _ in 2 * random.nextUnit() - 1 }, shape: shape, dtype: dtype, filler: 1e6)
                }
                let (native, reference) = try pair.callBoth(arguments)
                if kept.isEmpty { kept = native.map { ($0, $0.contiguousCopy()) } }
                for ((name, _), (a, b)) in zip(outputs, zip(native, reference)) {
                    let close = a.dtype == b.dtype && a.isClose(to: b, rtol: rtol, atol: rtol)
                    #expect(close, "\(name) \(dtype) m=\(m) k=\(k) n=\(n) \(layout.rawValue), BLAS \(usesBLAS): native \(a), reference \(b)")
                }
            }
        }
        for ((name, _), (a, b)) in zip(outputs, kept) {
            #expect(mismatch(a, b, tolerance: .exact) == nil, "\(name): a result kept from the first call changed during later calls")
        }
    }

    /// Products of few columns large enough to be split across cores (a logistic regression's
    /// forward `x·W` and its weight gradient `xᵀ·δ` accumulated into `W`, 2.6 MFLOP each, and
    /// with a transposed right operand): called until the adaptive product threading has tried
    /// every thread count, each call agreeing with the reference.
    @Test(arguments: [DType.float32, .float64])
    func skinnyProductsSplitAcrossCoresMatchTheReference(dtype: DType) throws {
        let (x, w, v, delta) = (matrix("x", dtype: dtype), matrix("w", dtype: dtype), matrix("v", dtype: dtype), matrix("d", dtype: dtype))
        let outputs = [try dot(x, w), try w - 0.01 * dot(x.T, delta), try dot(x, v.T)]
        let pair = try CompiledPair(inputs: [x, w, v, delta], outputs: outputs, linker: Scratch.linker(adaptiveThreading: true))
        var random = RandomState(seed: 11)
        func uniform(_ shape: [Int]) -> NDArray { NDArray.uniform(shape, low: -1, high: 1, using: &random).cast(to: dtype) }
        let (m, k, n) = (131, 1003, 10)
        let arguments = [uniform([m, k]), uniform([k, n]), uniform([n, k]), uniform([m, n])]
        let rtol = dtype == .float32 ? 1e-4 : 1e-12
        for call in 0..<12 {
            let (native, reference) = try pair.callBoth(arguments)
            for (index, (a, b)) in zip(native, reference).enumerated() {
                #expect(a.isClose(to: b, rtol: rtol, atol: rtol), "output \(index), call \(call)")
            }
        }
    }

    /// By default a product runs the same way every call, so repeated calls — past the point
    /// where adaptive threading would try another thread count — and a second compiled copy
    /// give the same bits, for BLAS products and the kernels of few columns alike (OpenBLAS
    /// rounds differently on one thread and on two).
    @Test(arguments: [DType.float32, .float64])
    func productsGiveTheSameBitsEveryCall(dtype: DType) throws {
        let (x, w, v) = (matrix("x", dtype: dtype), matrix("w", dtype: dtype), matrix("v", dtype: dtype))
        let outputs = [try tanh(dot(x, w)), try dot(x.T, dot(x, v))]
        var random = RandomState(seed: 12)
        func uniform(_ shape: [Int]) -> NDArray { NDArray.uniform(shape, low: -1, high: 1, using: &random).cast(to: dtype) }
        let arguments = [uniform([300, 400]), uniform([400, 200]), uniform([400, 6])]
        let options = CompileOptions(linker: Scratch.linker())
        let first = try function(inputs: [x, w, v], outputs: outputs, options: options), second = try function(inputs: [x, w, v], outputs: outputs, options: options)
        let expected = try first(arguments)
        for call in 0..<40 {
            for (index, (a, b)) in zip(try (call % 2 == 0 ? first : second)(arguments), expected).enumerated() {
                #expect(mismatch(a, b, tolerance: .exact) == nil, "output \(index), call \(call)")
            }
        }
    }

    // MARK: Compiler problems

    @Test func withoutACompilerTheReferenceRunsAndOneWarningSaysSo() throws {
        let x = vector("x", dtype: .float64)
        let pair = try CompiledPair(inputs: [x], outputs: [try exp(x) * 2 + 1],
                                    linker: Scratch.linker(compilers: ["/nonexistent/cc"]))
        #expect(pair.native.linkWarnings.count == 1)
        #expect(pair.native.linkWarnings.first?.contains("no C compiler found") == true)
        #expect(pair.native.compiledNodes == 0)
        let value = NDArray([0, 1, -2.5, .nan] as [Double])
        let (native, reference) = try pair.callBoth([value])
        #expect(mismatch(native[0], reference[0], tolerance: .exact) == nil)
    }

    @Test func aFailingCompileIsReportedWithTheSourceAndTheCompilersMessage() throws {
        let script = Scratch.freshPath("failing-cc")
        try """
            #!/bin/sh
            if [ "$1" = "--version" ]; then echo "failing-cc 1.0"; exit 0; fi
            echo "failing-cc: error: this compiler always fails" >&2
            exit 1

            """.write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
        #expect(CCompiler.discover(candidates: [script])?.identity == "failing-cc 1.0", "the script passes for a compiler")

        let directory = Scratch.freshPath("failing-compile")
        let x = vector("x", dtype: .float64)
        let pair = try CompiledPair(inputs: [x], outputs: [try exp(x) * 2 + 1],
                                    linker: Scratch.linker(cache: ModuleCache(directory: directory), compilers: [script]))
        #expect(pair.native.linkWarnings.count == 1)
        #expect(pair.native.compiledNodes == 0)
        let warning = pair.native.linkWarnings.first ?? ""
        #expect(warning.contains("this compiler always fails"))
        let sources = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(sources.count == 1 && sources.allSatisfy { $0.hasSuffix(".c") && !$0.hasPrefix(".") }, "only the source is left: \(sources)")
        if let source = sources.first {
            #expect(warning.contains("\(directory)/\(source)"), "the warning names the generated source: \(warning)")
            #expect(try String(contentsOfFile: "\(directory)/\(source)", encoding: .utf8).contains("kernel_0_flat"))
        }
        let value = NDArray([0, 1, -2.5] as [Double])
        let (native, reference) = try pair.callBoth([value])
        #expect(mismatch(native[0], reference[0], tolerance: .exact) == nil)
    }

    // MARK: The module cache

    @Test func compilingTheSameFunctionAgainHitsTheCache() throws {
        let cache = ModuleCache(directory: Scratch.freshPath("in-process"))
        let x = matrix("x", dtype: .float32)
        let compile = { try function(inputs: [x], outputs: [try tanh(x) * x - 3], options: CompileOptions(linker: Scratch.linker(cache: cache))) }
        let first = try compile(), second = try compile()
        #expect(!first.compileTimes.cacheHit)
        #expect(second.compileTimes.cacheHit)
        #expect(second.compiledNodes == 1 && cache.entries().count == 1)
        let value = NDArray([[1, -2, 0.5], [4, 0, -1]] as [[Float]])
        #expect(try first(value)[0] == second(value)[0])
    }

    @Test func aSecondProcessFindsTheModule() throws {
        let directory = Scratch.freshPath("two-processes")
        let first = try Tool.warm(directory), second = try Tool.warm(directory)
        #expect(first.hit == false && first.isCorrect, "\(first)")
        #expect(second.hit == true && second.isCorrect, "\(second)")
    }

    @Test(arguments: [CacheDamage.truncatedModule, .wrongChecksum])
    func aDamagedModuleIsCompiledAgain(damage: CacheDamage) throws {
        let directory = Scratch.freshPath("damaged")
        #expect(try Tool.warm(directory).hit == false)
        let module = try #require(try CacheContents(directory).modules.first)
        try damage.apply(toModule: "\(directory)/\(module)")
        let rebuilt = try Tool.warm(directory)
        #expect(rebuilt.hit == false && rebuilt.isCorrect, "\(rebuilt)")
        #expect(try CacheContents(directory).isOneValidModule)
        let again = try Tool.warm(directory)
        #expect(again.hit == true && again.isCorrect, "\(again)")
    }

    @Test func processesCompilingTheSameModuleAtOnceLeaveOneValidModule() throws {
        let directory = Scratch.freshPath("contended")
        let running = try (0..<4).map { _ in try Tool.start(["cache", "warm", "--directory", directory]) }
        let results = running.map { $0.finish() }
        for result in results {
            #expect(result.status == 0, "\(result.errors)")
            let report = Tool.WarmReport(result.output)
            #expect(report?.isCorrect == true, "\(result.output)")
        }
        #expect(Set(results.map { Tool.WarmReport($0.output)?.values ?? [] }).count == 1, "every process computes the same values")
        let contents = try CacheContents(directory)
        #expect(contents.isOneValidModule, "\(contents.names)")
        #expect(contents.names.filter { $0.hasPrefix(".") }.isEmpty, "temporary files left: \(contents.names)")
        #expect(try Tool.warm(directory).hit == true)
    }

    // MARK: fast math

    @Test func fastMathCompilesAndStaysClose() throws {
        // Loading the module may change this thread's floating-point modes: put them back
        // for the tests that run on this thread next.
        var environment = fenv_t()
        fegetenv(&environment)
        defer { fesetenv(&environment) }
        let x = vector("x", dtype: .float32)
        let pair = try CompiledPair(inputs: [x], outputs: [try exp(x) * sin(x) + sqrt(abs(x)) / (tanh(x) + 2)],
                                    linker: Scratch.linker(fastMath: true))
        #expect(pair.native.compiledNodes == 1 && pair.native.linkWarnings.isEmpty)
        var random = RandomState(seed: 5)
        let (native, reference) = try pair.callBoth([NDArray.uniform([4099], low: -5, high: 5, using: &random)])
        #expect(native[0].isClose(to: reference[0], rtol: 1e-4, atol: 1e-5))
        // GCC before 13 links crtfastmath.o into -ffast-math shared libraries: loading one
        // turns on flush-to-zero for the loading thread, changing unrelated code's results.
        let survived = subnormalsSurvive()
        fesetenv(&environment)
        #expect(survived, "loading the fast-math module switched this thread to flush subnormals to zero")
        #expect(subnormalsSurvive())
    }
}

/// Whether this thread computes subnormal floats (no flush-to-zero, no denormals-are-zero).
@inline(never)
private func subnormalsSurvive() -> Bool {
    let values = [Float.leastNormalMagnitude, 4, Float.leastNonzeroMagnitude]
    return values[0] / values[1] != 0 && values[2] * values[1] != 0
}

// MARK: - The `theano` tool as a second process

enum Tool {
    /// The `theano` executable built beside the test bundle.
    static let executable: String? = {
        let starts = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(), Bundle.main.bundleURL]
        for start in starts {
            var directory = start
            for _ in 0..<4 {
                let candidate = directory.appendingPathComponent("theano").path
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue,
                   FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
                directory.deleteLastPathComponent()
            }
        }
        return nil
    }()

    struct Result {
        let status: Int32
        let output: String
        let errors: String
    }

    final class Running {
        let process = Process()
        let output = Pipe(), errors = Pipe()

        /// Waits for the process, reading both pipes at once: a child that fills one pipe
        /// while the other is read to its end would wait forever.
        func finish() -> Result {
            nonisolated(unsafe) var err = Data()
            let readingErrors = DispatchGroup(), errorHandle = errors.fileHandleForReading
            DispatchQueue.global().async(group: readingErrors) { err = errorHandle.readDataToEndOfFile() }
            let out = output.fileHandleForReading.readDataToEndOfFile()
            readingErrors.wait()
            process.waitUntilExit()
            return Result(status: process.terminationStatus, output: String(decoding: out, as: UTF8.self),
                          errors: String(decoding: err, as: UTF8.self))
        }
    }

    /// Starts `theano` with `arguments`, and the test process's environment changed by
    /// `environment` (a `nil` value removes the variable).
    static func start(_ arguments: [String], environment: [String: String?] = [:]) throws -> Running {
        try launch(try #require(executable, "the theano executable is built beside the tests"), arguments, environment: environment)
    }

    /// Starts the program at `path` with `arguments`, its output read through pipes, and the
    /// test process's environment changed by `environment` (a `nil` value removes the variable).
    static func launch(_ path: String, _ arguments: [String], environment: [String: String?] = [:]) throws -> Running {
        let running = Running()
        running.process.executableURL = URL(fileURLWithPath: path)
        running.process.arguments = arguments
        var variables = ProcessInfo.processInfo.environment
        for (name, value) in environment { variables[name] = value }
        running.process.environment = variables
        running.process.standardOutput = running.output
        running.process.standardError = running.errors
        try running.process.run()
        return running
    }

    /// What `theano cache warm` printed: whether the module was cached, and exp(x)·2 + 1 at 0 and 1.
    struct WarmReport: CustomStringConvertible {
        let hit: Bool
        let values: [Float]

        init?(_ output: String) {
            guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("hit ") || $0.hasPrefix("miss ") }) else { return nil }
            let words = line.split(separator: " ")
            hit = words[0] == "hit"
            values = words.dropFirst().compactMap { Float($0) }
        }

        var isCorrect: Bool {
            let expected = [Float(3), Float(Foundation.exp(1.0)) * 2 + 1]
            return values.count == 2 && zip(values, expected).allSatisfy { Swift.abs($0 - $1) <= 1e-6 * Swift.abs($1) }
        }

        var description: String { "\(hit ? "hit" : "miss") \(values)" }
    }

    /// Runs `theano cache warm --directory directory` and reads its report.
    static func warm(_ directory: String) throws -> WarmReport {
        let result = try start(["cache", "warm", "--directory", directory]).finish()
        #expect(result.status == 0, "\(result.errors)")
        return try #require(WarmReport(result.output), "unexpected output: \(result.output) \(result.errors)")
    }
}

/// The files of a module cache directory.
private struct CacheContents {
    let directory: String
    let names: [String]

    init(_ directory: String) throws {
        self.directory = directory
        names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    }

    var modules: [String] { names.filter { $0.hasSuffix(".so") && !$0.hasPrefix(".") } }

    /// One module, its source and its checksum, nothing else, and the checksum matches.
    var isOneValidModule: Bool {
        guard modules.count == 1, let module = modules.first else { return false }
        let key = String(module.dropLast(3))
        guard Set(names) == [module, key + ".c", key + ".sha256"],
              let contents = FileManager.default.contents(atPath: "\(directory)/\(module)"),
              let recorded = try? String(contentsOfFile: "\(directory)/\(key).sha256", encoding: .utf8)
        else { return false }
        return SHA256.hash(contents) == recorded.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Ways a cached module can be damaged.
enum CacheDamage: String, CaseIterable, Sendable {
    case truncatedModule, wrongChecksum

    func apply(toModule path: String) throws {
        switch self {
        case .truncatedModule:
            let size = try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
            #expect(truncate(path, off_t(size / 2)) == 0)
        case .wrongChecksum:
            try String(repeating: "0", count: 64).write(toFile: String(path.dropLast(3)) + ".sha256", atomically: false, encoding: .utf8)
        }
    }
}
