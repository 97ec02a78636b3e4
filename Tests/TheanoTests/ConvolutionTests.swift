@testable import Theano
@testable import TheanoCore
@testable import TheanoOps
import Testing
import TheanoTestSupport

/// A graph of patch, pooling or convolution ops on images of static shape, run by both
/// backends: the native one (patch and pooling kernels, convolutions lowered to patches and
/// BLAS products) must agree with the reference implementations.
struct ImageKernelCase: Sendable {
    let name: String
    /// The input values (their shapes are the inputs' static shapes).
    let inputs: [NDArray]
    let build: @Sendable ([Variable]) throws -> [Variable]
    /// Whether the results must be bit for bit the same (no products whose sums BLAS reorders).
    let exact: Bool

    init(_ name: String, _ shapes: [[Int]], dtype: DType = .float64, exact: Bool, seed: UInt64 = 7,
         _ build: @escaping @Sendable ([Variable]) throws -> [Variable]) {
        var random = RandomState(seed: seed)
        inputs = shapes.map { NDArray.uniform($0, low: -1, high: 1, dtype: dtype, using: &random) }
        (self.name, self.build, self.exact) = (name, build, exact)
    }

    static let convolutions: [ImageKernelCase] = [
        ImageKernelCase("conv2d + bias + relu, float32", [[3, 2, 9, 8], [4, 2, 3, 3], [4]], dtype: .float32, exact: false) { x in
            [try relu(conv2d(x[0], x[1], flipFilters: false) + x[2].dimshuffle(.newAxis, 0, .newAxis, .newAxis))]
        },
        ImageKernelCase("conv2d strided, padded, dilated", [[2, 3, 9, 7], [2, 3, 3, 2]], exact: false) { x in
            [try conv2d(x[0], x[1], padding: .explicit(low: [2, 0], high: [1, 3]), strides: [2, 3], dilation: [2, 1])]
        },
        ImageKernelCase("conv2d in three groups, full", [[2, 6, 5, 5], [6, 2, 2, 3]], exact: false) { x in
            [try conv2d(x[0], x[1], padding: .full, groups: 3)]
        },
        ImageKernelCase("conv3d half", [[1, 2, 5, 4, 6], [3, 2, 3, 3, 3]], exact: false) { x in [try conv3d(x[0], x[1], padding: .half)] },
        ImageKernelCase("conv2d gradients through a pooled relu", [[4, 3, 10, 10], [5, 3, 3, 3]], dtype: .float32, exact: false) { x in
            let cost = try sum(sqr(pool2d(relu(conv2d(x[0], x[1])), window: [2, 2])))
            return try grad(cost, wrt: [x[0], x[1]])
        },
    ]

    static let transposedConvolutions: [ImageKernelCase] = [
        ImageKernelCase("transposed convolution, strided", [[2, 3, 4, 3], [3, 2, 3, 3]], exact: false) { x in
            [try conv2dGradInputs(x[0], x[1], imageShape: [nil, nil, 10, 9], strides: [2, 3], flipFilters: false)]
        },
        ImageKernelCase("bilinear upsampling ×3", [[2, 2, 4, 5]], exact: false) { x in [try bilinearUpsampling(x[0], ratio: 3)] },
    ]

    static let filterGradients: [ImageKernelCase] = [
        ImageKernelCase("filter gradient, padded, two groups", [[3, 4, 6, 6], [3, 6, 6, 6]], exact: false) { x in
            [try conv2dGradFilters(x[0], x[1], filterShape: [6, 2, 3, 3], padding: .half, groups: 2)]
        },
    ]

    static let patches: [ImageKernelCase] = [
        ImageKernelCase("images2neibs, overlapping", [[2, 3, 7, 6]], exact: true) { x in
            [try images2neibs(x[0], window: [3, 2], strides: [2, 1], mode: .ignoreBorders)]
        },
        ImageKernelCase("image patches, dilated, strided, padded past the image", [[2, 2, 5, 9]], exact: true) { x in
            let geometry = try WindowGeometry(window: [2, 3], strides: [3, 2], dilation: [2, 3], padLow: [3, 1], padHigh: [1, 4],
                                              function: "test", location: .unknown)
            return [try ImagePatches(geometry: geometry)([x[0]], at: .unknown)]
        },
        ImageKernelCase("image patches of a volume", [[1, 2, 4, 5, 3]], exact: true) { x in
            let geometry = try WindowGeometry(window: [2, 2, 2], strides: [1, 2, 1], dilation: [1, 1, 2], padLow: [0, 1, 1], padHigh: [1, 0, 1],
                                              function: "test", location: .unknown)
            return [try ImagePatches(geometry: geometry)([x[0]], at: .unknown)]
        },
    ]

    static let patchSums: [ImageKernelCase] = [
        ImageKernelCase("neibs2images, overlapping", [[24, 6]], exact: true) { x in
            [try neibs2images(x[0], window: [2, 3], imageShape: constant(NDArray([2, 3, 3, 4] as [Int64])), strides: [1, 1])]
        },
        ImageKernelCase("patch sum, dilated, strided, padded", [[12, 24]], exact: true) { x in
            let geometry = try WindowGeometry(window: [2, 3], strides: [3, 2], dilation: [2, 3], padLow: [3, 1], padHigh: [1, 4],
                                              function: "test", location: .unknown)
            return [try PatchSum(geometry: geometry, imageShape: [2, 2, 5, 9])([x[0], constant(NDArray([2, 2, 5, 9] as [Int64]))], at: .unknown)]
        },
    ]

    static let pooling: [ImageKernelCase] = PoolingMode.allCases.flatMap { mode in [
        ImageKernelCase("pool2d \(mode) 3×3 every 2, padded", [[2, 3, 7, 8]], exact: true) { x in
            [try pool2d(x[0], window: [3, 3], strides: [2, 2], padding: [1, 2], mode: mode)]
        },
        ImageKernelCase("pool2d \(mode) keeping the border, float32", [[3, 7, 5]], dtype: .float32, exact: true) { x in
            [try pool2d(x[0], window: [2, 3], strides: [2, 2], mode: mode, ignoreBorder: false)]
        },
        ImageKernelCase("pool2d \(mode) of long rows, padded", [[2, 3, 6, 150]], exact: true) { x in
            [try pool2d(x[0], window: [2, 3], strides: [2, 2], padding: [1, 1], mode: mode)]
        },
        ImageKernelCase("pool3d \(mode)", [[2, 4, 5, 4]], exact: true) { x in
            [try pool3d(x[0], window: [2, 2, 3], strides: [1, 2, 1], padding: [1, 0, 1], mode: mode)]
        },
    ] }

    static let poolGradients: [ImageKernelCase] = PoolingMode.allCases.flatMap { mode in [
        ImageKernelCase("pool2d \(mode) gradient, overlapping, padded", [[2, 2, 7, 6]], exact: true) { x in
            [try grad(sum(sqr(pool2d(x[0], window: [3, 2], strides: [2, 1], padding: [1, 1], mode: mode))), wrt: [x[0]])[0]]
        },
        ImageKernelCase("pool2d \(mode) gradient, windows apart, keeping the border", [[3, 2, 7, 131]], exact: true) { x in
            [try grad(sum(sqr(pool2d(x[0], window: [2, 2], strides: [3, 2], mode: mode, ignoreBorder: false))), wrt: [x[0]])[0]]
        },
        ImageKernelCase("pool2d \(mode) gradient keeping the border", [[2, 5, 7]], exact: true) { x in
            [try grad(sum(sqr(pool2d(x[0], window: [2, 3], strides: [2, 2], mode: mode, ignoreBorder: false))), wrt: [x[0]])[0]]
        },
    ] }

    static let maxPoolTangents: [ImageKernelCase] = [
        ImageKernelCase("max-pool tangent, overlapping", [[2, 3, 6, 5], [2, 3, 6, 5]], exact: true) { x in
            [try Rop([pool2d(x[0], window: [2, 3], strides: [1, 2], ignoreBorder: false)], wrt: [x[0]], evalPoints: [x[1]])[0]]
        },
    ]
}

extension ImageKernelCase: CustomTestStringConvertible {
    var testDescription: String { name }
}

@Suite("Convolution and pooling")
struct ConvolutionTests {
    static var imageKernelCases: [ImageKernelCase] {
        OpRecords.nativeCases.compactMap { if case .imageKernel(let image) = $0 { image } else { nil } }
    }

    /// Each image kernel case: the native backend agrees with the reference implementations
    /// (bit for bit where no product is involved).
    @Test(arguments: imageKernelCases)
    func nativeKernelsMatchTheReference(_ kernelCase: ImageKernelCase) throws {
        let (inputs, outputs) = try NativeCase.imageKernel(kernelCase).graph()
        let native = try Backend.native.compile(inputs: inputs, outputs: outputs)
        let reference = try function(inputs: inputs, outputs: outputs, options: CompileOptions(optimization: .none))
        // A transposed view of every input as well: the kernels read contiguous copies.
        for arguments in [kernelCase.inputs, kernelCase.inputs.map { $0.transposed().contiguousCopy().transposed() }] {
            let expected = try reference(arguments), actual = try native(arguments)
            for (a, e) in zip(actual, expected) {
                #expect(a.shape == e.shape)
                if kernelCase.exact {
                    #expect(a == e, "\(kernelCase.name): differs by \(a.maxAbsDifference(to: e))")
                } else {
                    let tolerance = a.dtype == .float32 ? 1e-4 : 1e-11
                    #expect(a.isClose(to: e, rtol: tolerance, atol: tolerance), "\(kernelCase.name): differs by \(a.maxAbsDifference(to: e))")
                }
            }
        }
    }
}
