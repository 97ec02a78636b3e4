import Testing
@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoLoops
@testable import TheanoNative
@testable import TheanoOps
@testable import TheanoOptimizer

// The native reductions and softmax kernels read their inputs through pointers into memory
// they do not own: when an input is a view (transposed, strided, broadcast) the kernel works
// on a contiguous copy, and that copy must live until the kernel returns. A copy released
// early is read after it was freed, which gives garbage only some of the time — so every
// layout runs several times in one process, each run compared with the reference
// interpreter.

@Suite("Native kernels over views")
struct NativeKernelViewTests {
    /// How an argument's elements are laid out in memory.
    enum Layout: String, CaseIterable, Sendable {
        case contiguous
        /// A transposed view of a contiguous array (the last axis has the largest stride).
        case transposed
        /// Every other element of a wider array along each axis.
        case everyOther
        /// One row repeated along the first axis with stride 0.
        case broadcastRows

        /// An array of `shape` with `values` (row-major), laid out as this layout says.
        func array(_ values: NDArray, shape: [Int]) -> NDArray {
            switch self {
            case .contiguous:
                return values
            case .transposed:
                return values.transposed().contiguousCopy().transposed()
            case .everyOther:
                var view = NDArray(zeros: shape.map { 2 * $0 }, dtype: values.dtype)
                for axis in shape.indices { view = view.sliced(axis: axis, start: 0, count: shape[axis], step: 2) }
                view.assign(from: values)
                return view
            case .broadcastRows:
                return values.sliced(axis: 0, start: 0, count: 1).broadcast(to: shape)
            }
        }
    }

    static let shapes: [Int: [[Int]]] = [
        2: [[7, 5], [300, 513]],  // the second is large enough to be split across cores
        3: [[3, 4, 6], [2, 1, 7]],
        4: [[2, 3, 4, 5]],
    ]
    static let repeats = 4

    static let arguments: [(DType, Int)] = [DType.float32, .float64].flatMap { dtype in [2, 3, 4].map { (dtype, $0) } }

    /// Every reduction the native backend has a kernel for (sum, product, maximum, minimum,
    /// plain and fused with elementwise work, over single axes, runs of axes and all axes,
    /// with and without kept dimensions) and softmax and log-softmax along every axis, on
    /// arguments of every layout, agree with the reference interpreter run after run.
    @Test(arguments: arguments)
    func kernelsAgreeWithTheReferenceOverViews(dtype: DType, rank: Int) throws {
        let x = tensor("x", dtype: dtype, shape: [Int?](repeating: nil, count: rank))
        let outputs = try Self.outputs(of: x)
        let native = try function(inputs: [x], outputs: outputs, options: CompileOptions(linker: Scratch.linker()))
        let reference = try function(inputs: [x], outputs: outputs, options: CompileOptions(linker: ReferenceLinker()))
        #expect(native.compiledNodes > 0)
        #expect(native.linkWarnings.isEmpty, "\(native.linkWarnings)")
        let closeness = dtype == .float32 ? Closeness(rtol: 1e-5, atol: 1e-6) : Closeness(rtol: 1e-12, atol: 1e-12)

        var random = RandomState(seed: 2026)
        for shape in Self.shapes[rank]! {
            let values = NDArray.normal(shape, dtype: dtype, using: &random)
            for layout in Layout.allCases {
                let argument = layout.array(values, shape: shape)
                let expected = try reference([argument])
                for run in 1...Self.repeats {
                    let actual = try native([argument])
                    for (position, (a, e)) in zip(actual, expected).enumerated() {
                        guard a.shape == e.shape else {
                            Issue.record("\(layout) \(shape), run \(run), output \(position) (\(outputs[position])): shape \(a.shape), expected \(e.shape)")
                            continue
                        }
                        let mismatches = closeness.mismatches(a.elements(as: Double.self), e.elements(as: Double.self))
                        #expect(mismatches.isEmpty, "\(layout) \(shape), run \(run), output \(position): \(mismatches.prefix(4))")
                    }
                }
            }
        }
    }

    /// The outputs of `x` the test compares: the records' axis-kernel cases.
    static func outputs(of x: Variable) throws -> [Variable] {
        try OpRecords.nativeCases.flatMap { nativeCase -> [Variable] in
            if case .axisKernel(let kernels) = nativeCase { try kernels.build(x) } else { [] }
        }
    }
}

/// Outputs of a tensor `x` (of rank 2 or more) that the native backend computes with axis
/// kernels, compared with the reference over views (NativeKernelViewTests).
struct AxisKernelCase: Sendable {
    let build: @Sendable (_ x: Variable) throws -> [Variable]

    init(_ build: @escaping @Sendable (_ x: Variable) throws -> [Variable]) { self.build = build }

    /// The axes reductions of a tensor of rank `rank` run over: each single axis, all axes,
    /// the first two, the last two and (rank ≥ 3) the first and the last, which are not one
    /// run (the reference implementation computes them); every other one keeps dimensions.
    static func reductionAxes(rank: Int) -> [(axes: [Int], keepDims: Bool)] {
        var axisSets: [[Int]] = (0..<rank).map { [$0] } + [Array(0..<rank), [0, 1], [rank - 2, rank - 1]]
        if rank >= 3 { axisSets.append([0, rank - 1]) }
        return axisSets.enumerated().map { index, axes in (axes, index % 2 == 1) }
    }
}
