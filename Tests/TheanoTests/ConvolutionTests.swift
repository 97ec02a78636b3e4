@testable import Theano
@testable import TheanoCore
@testable import TheanoOps
import Foundation
import Testing
import TheanoModels
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
        ImageKernelCase("image patches, unpadded, strided and dilated, split across threads", [[5, 3, 61, 113]], exact: true) { x in
            [try ImagePatches(geometry: ImageKernelCase.unpadded)([x[0]], at: .unknown)]
        },
        ImageKernelCase("image patches of a volume", [[1, 2, 4, 5, 3]], exact: true) { x in
            let geometry = try WindowGeometry(window: [2, 2, 2], strides: [1, 2, 1], dilation: [1, 1, 2], padLow: [0, 1, 1], padHigh: [1, 0, 1],
                                              function: "test", location: .unknown)
            return [try ImagePatches(geometry: geometry)([x[0]], at: .unknown)]
        },
    ]

    /// A 3×3 window every 2 rows and columns, its taps 2 columns apart, without padding; over images of
    /// 5 × 3 × 61 × 113 its patches and their sums are large enough to be split across threads,
    /// mid-row and mid-plane.
    static let unpadded = try! WindowGeometry(window: [3, 3], strides: [2, 2], dilation: [1, 2], padLow: [0, 0], padHigh: [0, 0],
                                              function: "test", location: .unknown)

    static let patchSums: [ImageKernelCase] = [
        ImageKernelCase("patch sum, unpadded, strided and dilated, split across threads", [[27, 8250]], exact: true) { x in
            [try PatchSum(geometry: unpadded, imageShape: [5, 3, 61, 113])([x[0], constant(NDArray([5, 3, 61, 113] as [Int64]))], at: .unknown)]
        },
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
        ImageKernelCase("pool2d \(mode) of large planes with NaNs, split across threads", [[17, 5, 37, 41]], exact: false) { x in
            [try pool2d(withNaNs(x[0]), window: [2, 2], mode: mode, ignoreBorder: false)]
        },
        ImageKernelCase("pool3d \(mode)", [[2, 4, 5, 4]], exact: true) { x in
            [try pool3d(x[0], window: [2, 2, 3], strides: [1, 2, 1], padding: [1, 0, 1], mode: mode)]
        },
    ] }

    static let poolGradients: [ImageKernelCase] = PoolingMode.allCases.flatMap { mode in [
        ImageKernelCase("pool2d \(mode) gradient, overlapping, padded", [[2, 2, 7, 6]], exact: true) { x in
            [try grad(sum(sqr(pool2d(x[0], window: [3, 2], strides: [2, 1], padding: [1, 1], mode: mode))), wrt: [x[0]])[0]]
        },
        ImageKernelCase("pool2d \(mode) gradient, windows apart, keeping the border", [[3, 2, 7, 1031]], exact: true) { x in
            [try grad(sum(sqr(pool2d(x[0], window: [2, 2], strides: [3, 2], mode: mode, ignoreBorder: false))), wrt: [x[0]])[0]]
        },
        ImageKernelCase("pool2d \(mode) gradient of large planes with NaNs, split across threads", [[17, 5, 37, 41]], exact: false) { x in
            [try grad(sum(pool2d(withNaNs(x[0]), window: [2, 2], mode: mode, ignoreBorder: false)), wrt: [x[0]])[0]]
        },
        ImageKernelCase("pool2d \(mode) gradient keeping the border", [[2, 5, 7]], exact: true) { x in
            [try grad(sum(sqr(pool2d(x[0], window: [2, 3], strides: [2, 2], mode: mode, ignoreBorder: false))), wrt: [x[0]])[0]]
        },
    ] }

    static let maxPoolTangents: [ImageKernelCase] = [
        ImageKernelCase("max-pool tangent of large planes with NaNs, split across threads", [[17, 5, 37, 41], [17, 5, 37, 41]], exact: false) { x in
            [try Rop([pool2d(withNaNs(x[0]), window: [3, 2], strides: [2, 2], ignoreBorder: false)], wrt: [x[0]], evalPoints: [x[1]])[0]]
        },
        ImageKernelCase("max-pool tangent, overlapping", [[2, 3, 6, 5], [2, 3, 6, 5]], exact: true) { x in
            [try Rop([pool2d(x[0], window: [2, 3], strides: [1, 2], ignoreBorder: false)], wrt: [x[0]], evalPoints: [x[1]])[0]]
        },
    ]
}

/// `log(x + 0.9)`: NaN where `x < -0.9` (a twentieth of uniform values on [-1, 1]), so that
/// many pooling windows hold a NaN, some of them more than one.
private func withNaNs(_ x: Variable) throws -> Variable { try log(x + 0.9) }

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
                let tolerance = kernelCase.exact ? 0 : a.dtype == .float32 ? 1e-4 : 1e-11
                #expect(a.isClose(to: e, rtol: tolerance, atol: tolerance, equalNaN: true), "\(kernelCase.name): differs by \(a.maxAbsDifference(to: e))")
            }
        }
    }
}

@Suite("Convolution and pooling: bad and degenerate inputs")
struct ConvolutionInputTests {
    /// Misfits known when the graph is built are errors there, naming the operation.
    @Test func staticMisfitsAreReportedWhereTheGraphIsBuilt() throws {
        let images = tensor("x", shape: [nil, 3, 8, 8])
        func message(_ build: () throws -> Variable) -> String {
            do { _ = try build(); return "" } catch { return "\(error)" }
        }
        #expect(message { try conv2d(images, tensor("w", shape: [4, 2, 3, 3])) }.contains("channels"))
        #expect(message { try conv2d(images, tensor("w", shape: [4, 3, 9, 3])) }.contains("does not fit"))
        #expect(message { try conv2d(images, tensor("w", shape: [4, 1, 3, 3]), groups: 2) }.contains("groups"))
        #expect(message { try conv2d(images, tensor("w", shape: [4, 3, 3, 3]), strides: [0, 1]) }.contains("strides"))
        #expect(message { try conv2d(matrix("m"), tensor("w", shape: [4, 3, 3, 3])) }.contains("dimensions"))
        #expect(message { try pool2d(images, window: [2, 2], padding: [2, 0]) }.contains("smaller than the window"))
        #expect(message { try pool2d(images, window: [2, 2], padding: [1, 1], ignoreBorder: false) }.contains("ignoreBorder"))
        #expect(message { try images2neibs(images, window: [3, 3]) }.contains("do not tile"))
        #expect(message { try conv2d(images, tensor("w", shape: [4, 3, 3, 3])) }.isEmpty)
    }

    /// Misfits known only when the function runs are errors then, on both backends.
    @Test(arguments: Backend.allCases)
    func runtimeMisfitsAreErrors(backend: Backend) throws {
        let x = tensor4("x"), w = tensor4("w")
        let f = try function(inputs: [x, w], outputs: [conv2d(x, w)], options: backend.options)
        #expect(throws: (any Error).self) { try f(NDArray(zeros: [1, 3, 5, 5], dtype: .float32), NDArray(zeros: [2, 2, 3, 3], dtype: .float32)) }
        #expect(throws: (any Error).self) { try f(NDArray(zeros: [1, 3, 2, 2], dtype: .float32), NDArray(zeros: [2, 3, 3, 3], dtype: .float32)) }
        let neighbourhoods = try function(inputs: [x], outputs: [images2neibs(x, window: [2, 2])], options: backend.options)
        #expect(throws: (any Error).self) { try neighbourhoods(NDArray(zeros: [1, 1, 5, 4], dtype: .float32)) }
        #expect(try neighbourhoods(NDArray(zeros: [1, 1, 4, 4], dtype: .float32))[0].shape == [4, 4])
    }

    /// An empty batch gives empty outputs and gradients of the right shapes.
    @Test(arguments: Backend.allCases)
    func emptyBatches(backend: Backend) throws {
        let x = tensor("x", shape: [nil, 2, 6, 6])
        var random = RandomState(seed: 3)
        let w = try shared(NDArray.uniform([3, 2, 3, 3], using: &random), name: "w")
        let y = try pool2d(relu(conv2d(x, w, padding: .half)), window: [2, 2])
        let f = try function(inputs: [x], outputs: [y, grad(sum(y), wrt: [w])[0]], options: backend.options)
        let results = try f(NDArray(zeros: [0, 2, 6, 6], dtype: .float32))
        #expect(results[0].shape == [0, 3, 3, 3])
        #expect(results[1].shape == [3, 2, 3, 3] && results[1].elements(as: Float.self).allSatisfy { $0 == 0 })
    }
}

@Suite("Convolutional layers and models")
struct ConvolutionalModelTests {
    /// The layers say their output shapes, and refuse inputs that do not fit.
    @Test func layersKnowTheirOutputShapes() throws {
        var random = RandomState(seed: 1)
        let network = try lenet(size: 28, random: &random)
        #expect(try network.outputShape([nil, 1, 28, 28]) == [nil, 10])
        let strided = try Conv2D(3, 8, window: [3, 3], padding: .half, strides: [2, 2], name: "s", random: &random)
        #expect(try strided.outputShape([4, 3, 9, 8]) == [4, 8, 5, 4])
        #expect(throws: (any Error).self) { try strided.outputShape([4, 2, 9, 8]) }
        #expect(try Pool2D(window: [3, 3], strides: [2, 2], ignoreBorder: false).outputShape([1, 2, 7, 6]) == [1, 2, 3, 3])
        #expect(throws: (any Error).self) { try network.outputShape([nil, 1, 8, 8]) }
    }

    /// A small convnet learns the 8×8 digits, and its filters survive a checkpoint.
    @Test func aConvnetLearnsTheDigits() throws {
        let (train, test) = try Dataset.digits().split(testFraction: 0.25, seed: 5)
        var random = RandomState(seed: 2)
        let network = Sequential([
            try Conv2D(1, 8, window: [3, 3], padding: .half, activation: .relu, initializer: .heUniform, name: "c", random: &random),
            Pool2D(window: [2, 2]),
            Flatten(),
            try Dense(8 * 4 * 4, 10, name: "out", random: &random),
        ])
        let model = try ConvolutionalClassifier(network: network, imageShape: [1, 8, 8], optimizer: Optimizer(.adam(), learningRate: .constant(0.01)),
                                                options: CompileOptions(linker: Scratch.linker()))
        var order = RandomState(seed: 3)
        let first = try model.trainEpoch(on: train, batchSize: 32, random: &order)
        for _ in 0..<3 { _ = try model.trainEpoch(on: train, batchSize: 32, random: &order) }
        let last = try model.trainEpoch(on: train, batchSize: 32, random: &order)
        let accuracy = try model.accuracy(on: test)
        #expect(last < first && accuracy > 0.9, "loss \(first) → \(last), test accuracy \(accuracy)")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("convnet-\(UUID().uuidString).npz").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Checkpoint.save(model.parameters, to: path)
        let saved = model.parameters.map(\.value)
        for parameter in model.parameters { try parameter.setValue(NDArray(zeros: parameter.value.shape, dtype: .float32)) }
        try Checkpoint.load(model.parameters, from: path)
        #expect(zip(model.parameters, saved).allSatisfy { $0.value == $1 })
        #expect(try model.accuracy(on: test) == accuracy)
    }
}
