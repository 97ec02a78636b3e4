@testable import Theano
@testable import TheanoCore
@testable import TheanoOps
import Testing

// The records of the convolution, patch and pooling ops. Gradient cases with filters
// reshaped to constant sizes have a static window, so the optimized graphs check the
// patches-and-products form; the others check the reference implementations.

extension OpRecords {
    static let convolution: [OpRecord] = [
        OpRecord(Convolution.self,
                 values: .checked([
                     .builds(.withParameters("conv2d") { x, params in
                         let p = try ConvolutionFixture(params)
                         return try conv2d(x[0], x[1], padding: p.padding, strides: p.strides, dilation: p.dilation, groups: p.groups, flipFilters: p.flip)
                     }),
                     .builds(.withParameters("conv3d") { x, params in
                         let p = try ConvolutionFixture(params)
                         return try conv3d(x[0], x[1], padding: p.padding, strides: p.strides, dilation: p.dilation, groups: p.groups, flipFilters: p.flip)
                     }),
                 ]),
                 gradients: .checked([
                     .binary("conv2d, filters of unknown size", .uniform([2, 3, 5, 4]), .uniform([2, 3, 3, 2])) { try conv2d($0, $1) },
                     .binary("conv2d, static filters, half padding, strided", .uniform([2, 2, 5, 6]), .uniform([3, 2, 3, 3])) { x, w in
                         try conv2d(x, reshape(w, [3, 2, 3, 3]), padding: .half, strides: [2, 1])
                     },
                     .binary("conv2d, static filters, full, dilated, correlation", .uniform([1, 2, 5, 5]), .uniform([2, 2, 2, 2])) { x, w in
                         try conv2d(x, reshape(w, [2, 2, 2, 2]), padding: .full, dilation: [2, 1], flipFilters: false)
                     },
                     .binary("conv2d, two groups", .uniform([1, 4, 4, 4]), .uniform([4, 2, 2, 2])) { x, w in
                         try conv2d(x, reshape(w, [4, 2, 2, 2]), groups: 2)
                     },
                     .binary("conv3d, static filters, padded and strided", .uniform([1, 2, 4, 4, 3]), .uniform([2, 2, 2, 2, 2])) { x, w in
                         try conv3d(x, reshape(w, [2, 2, 2, 2, 2]), padding: .symmetric([1, 0, 1]), strides: [2, 1, 1])
                     },
                     .binary("second order: the input gradient of a squared convolution", .uniform([1, 2, 4, 4]), .uniform([2, 2, 2, 2])) { x, w in
                         try grad(sum(sqr(conv2d(x, reshape(w, [2, 2, 2, 2]), strides: [2, 1]))), wrt: [x])[0]
                     },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([SizeOneOperands("one image, one filter, one channel", [[1, 1, 4, 3], [1, 1, 2, 2]]) { try conv2d($0[0], $0[1]) }]),
                 shapes: .checked([
                     ShapeCase("conv2d, half padding, strided", .floats([2, 3, 7, 6]), .floats([4, 3, 3, 2])) { try conv2d($0, $1, padding: .half, strides: [2, 1]) },
                     ShapeCase("conv2d, full, dilated", .floats([1, 2, 4, 5]), .floats([3, 2, 2, 3])) { try conv2d($0, $1, padding: .full, dilation: [2, 1]) },
                 ]),
                 native: .checked(ImageKernelCase.convolutions.map(NativeCase.imageKernel))),
        OpRecord(ConvolutionGradInputs.self,
                 values: .checked([
                     .builds(.withParameters("conv2d_grad_inputs") { x, params in
                         let p = try ConvolutionFixture(params)
                         return try conv2dGradInputs(x[0], x[1], imageShape: params.ints("image_shape"), padding: p.padding, strides: p.strides,
                                                     dilation: p.dilation, groups: p.groups, flipFilters: p.flip)
                     }),
                     .builds(.withParameters("bilinear_upsampling") { x, params in try bilinearUpsampling(x[0], ratio: params.int("ratio")) }),
                 ]),
                 gradients: .checked([
                     .binary("transposed convolution, strided", .uniform([2, 3, 2, 3]), .uniform([3, 2, 3, 2])) { g, w in
                         try conv2dGradInputs(g, w, imageShape: [nil, nil, 5, 6], strides: [2, 2])
                     },
                     .binary("transposed convolution, static filters, half, two groups", .uniform([1, 4, 3, 3]), .uniform([4, 1, 3, 3])) { g, w in
                         try conv2dGradInputs(g, reshape(w, [4, 1, 3, 3]), padding: .half, groups: 2, flipFilters: false)
                     },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([SizeOneOperands("one image, one filter", [[1, 1, 3, 2], [1, 1, 2, 2]]) { try conv2dGradInputs($0[0], $0[1]) }]),
                 shapes: .checked([
                     ShapeCase("transposed convolution, smallest image", .floats([2, 3, 3, 4]), .floats([3, 2, 3, 2])) { try conv2dGradInputs($0, $1, strides: [2, 1]) },
                 ]),
                 native: .checked(ImageKernelCase.transposedConvolutions.map(NativeCase.imageKernel))),
        OpRecord(ConvolutionGradFilters.self,
                 values: .checked([.builds(.withParameters("conv2d_grad_filters") { x, params in
                     let p = try ConvolutionFixture(params)
                     return try conv2dGradFilters(x[0], x[1], filterShape: params.ints("filter_shape"), padding: p.padding, strides: p.strides,
                                                  dilation: p.dilation, groups: p.groups, flipFilters: p.flip)
                 })]),
                 gradients: .checked([
                     .binary("filter gradient, strided, padded", .uniform([2, 2, 5, 5]), .uniform([2, 3, 3, 3])) { x, g in
                         try conv2dGradFilters(x, g, filterShape: [3, 2, 3, 3], padding: .symmetric([1, 1]), strides: [2, 2])
                     },
                     .binary("second order: the filter gradient of a squared convolution", .uniform([2, 2, 4, 4]), .uniform([2, 2, 3, 2])) { x, w in
                         try grad(sum(sqr(conv2d(x, reshape(w, [2, 2, 3, 2]), padding: .half))), wrt: [w])[0]
                     },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([SizeOneOperands("one image, one filter", [[1, 1, 3, 3], [1, 1, 2, 2]]) {
                     try conv2dGradFilters($0[0], $0[1], filterShape: [1, 1, 2, 2])
                 }]),
                 shapes: .checked([
                     ShapeCase("filter gradient", .floats([2, 3, 5, 5]), .floats([2, 4, 3, 3])) { try conv2dGradFilters($0, $1, filterShape: [4, 3, 3, 3]) },
                 ]),
                 native: .checked(ImageKernelCase.filterGradients.map(NativeCase.imageKernel))),
        OpRecord(ImagePatches.self,
                 values: .checked([.builds(.withParameters("images2neibs") { x, params in
                     try images2neibs(x[0], window: params.ints("window"), strides: params.ints("strides"),
                                      mode: NeighbourhoodFixture.mode(params.string("mode")))
                 })]),
                 gradients: .checked([
                     .unary("images2neibs, overlapping windows", .uniform([1, 2, 4, 5])) { try images2neibs($0, window: [2, 3], strides: [1, 1], mode: .ignoreBorders) },
                     .unary("images2neibs, half", .uniform([2, 1, 3, 3])) { try images2neibs($0, window: [3, 2], strides: [2, 1], mode: .half) },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([.unary("images2neibs") { x in try images2neibs(x.reshape([1, 1, 1, 3]), window: [1, 1]) }]),
                 shapes: .checked([
                     ShapeCase("image patches, dilated and padded", .floats([2, 3, 5, 6])) { x in
                         try ImagePatches(geometry: WindowGeometry(window: [2, 3], strides: [2, 1], dilation: [2, 1], padLow: [1, 0], padHigh: [0, 2],
                                                                   function: "test", location: location))([x], at: location)
                     },
                 ]),
                 native: .checked(ImageKernelCase.patches.map(NativeCase.imageKernel))),
        OpRecord(PatchSum.self,
                 values: .checked([.builds(.withParameters("neibs2images") { x, params in
                     try neibs2images(x[0], window: params.ints("window"), imageShape: constant(NDArray(params.ints("image_shape").map(Int64.init))),
                                      strides: params.ints("strides"), mode: NeighbourhoodFixture.mode(params.string("mode")))
                 })]),
                 gradients: .checked([
                     .unary("neibs2images, overlapping windows", .uniform([18, 6])) { rows in
                         try neibs2images(rows, window: [2, 3], imageShape: constant(NDArray([1, 2, 4, 5] as [Int64])), strides: [1, 1])
                     },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([SizeOneOperands("neibs2images of one window", [[1, 3]]) { rows in
                     try neibs2images(rows[0], window: [1, 3], imageShape: constant(NDArray([1, 1, 1, 3] as [Int64])))
                 }]),
                 shapes: .checked([
                     ShapeCase("patch sum", .floats([6, 8]), .integers([2, 1, 3, 4], staticShape: [4])) { rows, shape in
                         try PatchSum(geometry: WindowGeometry(window: [2, 3], strides: [1, 1], dilation: [1, 1], padLow: [0, 0], padHigh: [0, 0],
                                                               function: "test", location: location), imageShape: [nil, 1, nil, nil])([rows, shape], at: location)
                     },
                 ]),
                 native: .checked(ImageKernelCase.patchSums.map(NativeCase.imageKernel))),
        OpRecord(Pool.self,
                 values: .checked([
                     .builds(.withParameters("pool2d") { x, params in let p = try PoolFixture(params); return try pool2d(x[0], window: p.window, strides: p.strides, padding: p.padding, mode: p.mode, ignoreBorder: p.ignoreBorder) }),
                     .builds(.withParameters("pool3d") { x, params in let p = try PoolFixture(params); return try pool3d(x[0], window: p.window, strides: p.strides, padding: p.padding, mode: p.mode, ignoreBorder: p.ignoreBorder) }),
                 ]),
                 gradients: .checked(PoolingMode.allCases.map { mode in
                     .unary("pool2d \(mode), 3×3 windows every 2, padded", .distinct([1, 2, 5, 5])) { try pool2d($0, window: [3, 3], strides: [2, 2], padding: [1, 1], mode: mode) }
                 } + [
                     .unary("pool2d max keeping the border", .distinct([2, 1, 5, 3])) { try pool2d($0, window: [2, 2], ignoreBorder: false) },
                     .unary("pool3d average", .uniform([1, 1, 3, 4, 4])) { try pool3d($0, window: [2, 2, 2], strides: [1, 2, 2], mode: .averageExcludingPadding) },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([.unary("pool2d of a broadcast row") { try pool2d($0, window: [1, 2], ignoreBorder: false) }]),
                 shapes: .checked([
                     ShapeCase("pool2d padded", .floats([2, 3, 7, 6])) { try pool2d($0, window: [3, 2], strides: [2, 1], padding: [1, 1]) },
                     ShapeCase("pool2d keeping the border", .floats([2, 7, 5])) { try pool2d($0, window: [3, 2], strides: [2, 1], ignoreBorder: false) },
                     ShapeCase("pool2d keeping the border, strides as large as the window", .floats([1, 7, 5])) { try pool2d($0, window: [2, 3], ignoreBorder: false) },
                 ]),
                 native: .checked(ImageKernelCase.pooling.map(NativeCase.imageKernel))),
        OpRecord(PoolGrad.self,
                 values: .checked([.builds(.withParameters("pool2d_grad") { x, params in
                     let p = try PoolFixture(params)
                     let pooled = try pool2d(x[0], window: p.window, strides: p.strides, padding: p.padding, mode: p.mode, ignoreBorder: p.ignoreBorder)
                     return try grad(sum(pooled * x[1]), wrt: [x[0]])[0]
                 })]),
                 gradients: .checked(PoolingMode.allCases.map { mode in
                     .binary("gradient of pool2d \(mode), overlapping windows", .distinct([1, 2, 4, 5]), .uniform([1, 2, 2, 4])) { x, g in
                         try grad(sum(pool2d(x, window: [3, 2], strides: [1, 1], mode: mode) * g), wrt: [x])[0]
                     }
                 }),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([SizeOneOperands("gradient of max pooling of a row", [[1, 4], [1, 2]]) { x in
                     try grad(sum(pool2d(x[0], window: [1, 2]) * x[1]), wrt: [x[0]])[0]
                 }]),
                 shapes: .checked([
                     ShapeCase("pool gradient", .floats([2, 3, 4, 4]), .floats([2, 3, 2, 2])) { x, g in
                         try PoolGrad(geometry: WindowGeometry(window: [2, 2], strides: [2, 2], dilation: [1, 1], padLow: [0, 0], padHigh: [0, 0],
                                                               function: "test", location: location), mode: .max, ignoresBorder: true)([x, g], at: location)
                     },
                 ]),
                 native: .checked(ImageKernelCase.poolGradients.map(NativeCase.imageKernel))),
        OpRecord(MaxPoolTangent.self,
                 values: .checked([.builds(.withParameters("max_pool_rop") { x, params in
                     let p = try PoolFixture(params)
                     let pooled = try pool2d(x[0], window: p.window, strides: p.strides, padding: p.padding, ignoreBorder: p.ignoreBorder)
                     return try Rop([pooled], wrt: [x[0]], evalPoints: [x[1]])[0]
                 })]),
                 gradients: .checked([
                     // The tangent depends on the input only through which tap is picked: the product
                     // with the pooling gives the input a gradient to check.
                     .binary("max-pool tangent times the pooling", .distinct([1, 2, 4, 4]), .uniform([1, 2, 4, 4])) { x, t in
                         let pooled = try pool2d(x, window: [2, 2], strides: [1, 2])
                         return try Rop([pooled], wrt: [x], evalPoints: [t])[0] * pooled
                     },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([SizeOneOperands("max-pool tangent of a row", [[1, 4], [1, 4]]) { x in
                     try Rop([pool2d(x[0], window: [1, 2])], wrt: [x[0]], evalPoints: [x[1]])[0]
                 }]),
                 shapes: .checked([
                     ShapeCase("max-pool tangent", .floats([2, 3, 5, 4]), .floats([2, 3, 5, 4])) { x, t in
                         try MaxPoolTangent(geometry: WindowGeometry(window: [2, 2], strides: [2, 1], dilation: [1, 1], padLow: [0, 0], padHigh: [0, 0],
                                                                     function: "test", location: location), ignoresBorder: false)([x, t], at: location)
                     },
                 ]),
                 native: .checked(ImageKernelCase.maxPoolTangents.map(NativeCase.imageKernel))),
    ]
}

/// The parameters of a convolution fixture case.
struct ConvolutionFixture {
    let padding: ConvolutionPadding, strides: [Int], dilation: [Int], groups: Int, flip: Bool

    init(_ params: FixtureParameters) throws {
        padding = switch params.contains("padding") ? try params.string("padding") : "" {
        case "valid": .valid
        case "full": .full
        case "half": .half
        default: .explicit(low: try params.ints("pad_low"), high: try params.ints("pad_high"))
        }
        (strides, dilation, groups, flip) = (try params.ints("strides"), try params.ints("dilation"), try params.int("groups"),
                                             try params.bool("flip", default: true))
    }
}

/// The parameters of a pooling fixture case.
struct PoolFixture {
    let window: [Int], strides: [Int], padding: [Int], mode: PoolingMode, ignoreBorder: Bool

    init(_ params: FixtureParameters) throws {
        (window, strides, padding) = (try params.ints("window"), try params.ints("strides"), try params.ints("padding"))
        mode = params.contains("mode") ? try #require(PoolingMode(rawValue: params.string("mode"))) : .max
        ignoreBorder = try params.bool("ignore_border", default: true)
    }
}

/// The modes of neighbourhood fixture cases, by name.
enum NeighbourhoodFixture {
    static func mode(_ name: String) throws -> NeighbourhoodMode {
        switch name {
        case "valid": .valid
        case "ignoreBorders": .ignoreBorders
        case "half": .half
        case "full": .full
        default: throw FixtureError("unknown neighbourhood mode \(name)")
        }
    }
}
