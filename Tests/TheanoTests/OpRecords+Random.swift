import Testing
@testable import Theano
@testable import TheanoCore
@testable import TheanoOps

extension OpRecords {
    /// The draws of random streams: their values are checked by distribution tests and bit
    /// for bit across backends (RandomStreamTests), not against NumPy, whose generators differ.
    static let random: [OpRecord] = [
        OpRecord(RandomDraw.self,
                 values: .notApplicable(because: "Philox streams are not NumPy's: RandomStreamTests check the distributions statistically"),
                 // Its inputs are integers: a variable reached only through its sizes gets its
                 // gradient from the other paths (the stream held still, so finite differences
                 // see the same noise).
                 gradients: .checked([.unary("x times noise shaped like x", .uniform([3, 4])) { x in try x * heldStillNoise(like: x) }]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([.unary("x plus noise shaped like x") { x in try x + heldStillNoise(like: x) }]),
                 shapes: .checked([
                     ShapeCase("uniform draw of symbolic sizes", [.size(3), .size(5)]) { sizes in
                         try drawIn(RandomStreams(seed: 1).uniform(shape: .sizes(sizes), dtype: .float64))
                     },
                     ShapeCase("normal draw like a tensor", .floats([2, 3, 4])) { x in
                         try drawIn(RandomStreams(seed: 2).normal(shape: .like(x), dtype: .float64))
                     },
                 ]),
                 native: .checked(RandomDrawCases.all.map(NativeCase.fillKernel))),
        OpRecord(FusedDraw.self,
                 values: .notApplicable(because: "made by the optimizer: RandomStreamTests check that fused and unfused draws agree bit for bit"),
                 gradients: .notApplicable(because: "made by the optimizer's last phase, after differentiation"),
                 forwardMode: .notApplicable(because: "made by the optimizer's last phase, after differentiation"),
                 gradientTypes: .notApplicable(because: "made by the optimizer's last phase, after differentiation"),
                 shapes: .checked([
                     ShapeCase("Bernoulli mask of symbolic sizes, fused", [.size(3), .size(5)]) { sizes in
                         try fusedDrawIn(RandomStreams(seed: 1).bernoulli(shape: .sizes(sizes), p: 0.3))
                     },
                 ]),
                 native: .checked(FusedDrawCases.all.map(NativeCase.fillKernel))),
    ]
}

/// Normal noise shaped like `x` from a stream that no call advances.
private func heldStillNoise(like x: Variable) throws -> Variable {
    let streams = RandomStreams(seed: 4)
    streams.state.defaultUpdate = nil
    return try streams.normal(shape: .like(x), dtype: x.dtype)
}

/// The fused draw the optimizer makes of a distribution's graph `x`.
func fusedDrawIn(_ x: Variable) throws -> Variable {
    let graph = try FunctionGraph(inputs: [], outputs: [x])
    _ = Pipeline.optimize(graph, options: .default)
    return try #require(graph.nodes.first { $0.op is FusedDraw }).output(0)
}

/// The draw a distribution's graph `x` transforms.
func drawIn(_ x: Variable) throws -> Variable {
    try #require(topologicalOrder(of: [x]).first { $0.op is RandomDraw }).output(0)
}

/// Draws of every distribution and dtype, at sizes that split across cores and at odd ones.
enum RandomDrawCases {
    static let all: [FillKernelCase] = [DType.float32, .float64].flatMap { dtype in
        [FillKernelCase("uniform \(dtype)") { [try standard(dtype, 0).uniform(shape: [1001, 517], dtype: dtype)] },
         FillKernelCase("normal \(dtype)") { [try standard(dtype, 1).normal(shape: [997, 263], dtype: dtype)] },
         FillKernelCase("uniform \(dtype), odd sizes") { [try standard(dtype, 2).uniform(shape: [3, 7], dtype: dtype)] },
         FillKernelCase("normal \(dtype), odd sizes") { [try standard(dtype, 3).normal(shape: [5], dtype: dtype)] }]
    }

    /// A stream of its own per case (so each case's draw numbers start at 0).
    private static func standard(_ dtype: DType, _ seed: UInt64) -> RandomStreams { RandomStreams(seed: seed * 7 + (dtype == .float32 ? 0 : 100)) }
}

/// Draws with the elementwise work that consumes them, which the optimizer fuses into the
/// draw's loop: masks, scaled uniforms, shifted normals, dropout of a tensor.
enum FusedDrawCases {
    static let all: [FillKernelCase] = [
        FillKernelCase("Bernoulli(0.3) mask, float32") { [try RandomStreams(seed: 11).bernoulli(shape: [1001, 517], p: 0.3)] },
        FillKernelCase("uniform on [-2, 3), float64, odd sizes") {
            [try RandomStreams(seed: 12).uniform(shape: [7, 3], low: -2, high: 3, dtype: .float64)]
        },
        FillKernelCase("normal of mean 1 and std 2, float32") { [try RandomStreams(seed: 13).normal(shape: [999], mean: 1, std: 2, dtype: .float32)] },
        FillKernelCase("dropout of a tensor, float64") {
            let x = constant(NDArray((0..<(61 * 33)).map { Double($0) / 100 }, shape: [61, 33]))
            return [try dropout(x, rate: 0.4, streams: RandomStreams(seed: 14))]
        },
    ]
}
