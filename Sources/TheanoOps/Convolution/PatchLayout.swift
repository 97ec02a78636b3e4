import TheanoCore

/// The sizes of a batch of images and of the matrix of their patches under a
/// ``WindowGeometry``, in the three-spatial-axes form the loops and C kernels use.
///
/// The patch matrix has one row per channel and window tap, `(c, k)` with the taps in
/// row-major order, and one column per image and window position, `(n, o)`: the
/// `im2col` layout of Theano's `CorrMM`, so that a convolution is one matrix product of the
/// filters, as `(filters, channels · taps)`, with it.
package struct PatchLayout {
    /// The geometry over three spatial axes.
    package let geometry: WindowGeometry
    /// Batch size and channels.
    package let batch: Int, channels: Int
    /// Input sizes and output sizes of the three spatial axes.
    package let input: [Int], output: [Int]

    /// The layout of images of `shape` (batch, channels, spatial…); throws when the window
    /// does not fit or the rank disagrees.
    package init(imageShape shape: [Int], geometry: WindowGeometry) throws {
        guard shape.count == geometry.rank + 2 else {
            throw OpError("expects images of \(geometry.rank + 2) dimensions (batch, channels, \(geometry.rank) spatial), got shape \(shapeText(shape))")
        }
        let spatial = [Int](repeating: 1, count: 3 - geometry.rank) + shape[2...]
        self.geometry = geometry.threeAxes
        (batch, channels, input) = (shape[0], shape[1], spatial)
        output = try self.geometry.outputSizes(spatial)
    }

    /// Rows of the patch matrix: channels × window taps.
    package var rows: Int { channels * geometry.taps }
    /// Columns of the patch matrix: images × window positions.
    package var columns: Int { batch * positions }
    /// Window positions per image.
    package var positions: Int { output.reduce(1, *) }

    /// Calls `body(patchIndex, imageIndex)` for every element of the patch matrix, in
    /// row-major order, with the offset of the image element it reads (`nil` in the padding).
    package func forEachElement(_ body: (Int, Int?) -> Void) {
        let g = geometry, (D, H, W) = (input[0], input[1], input[2])
        var index = 0
        for c in 0..<channels {
            for kd in 0..<g.window[0] { for kh in 0..<g.window[1] { for kw in 0..<g.window[2] {
                for n in 0..<batch {
                    for od in 0..<output[0] { for oh in 0..<output[1] { for ow in 0..<output[2] {
                        let id = od * g.strides[0] - g.padLow[0] + kd * g.dilation[0]
                        let ih = oh * g.strides[1] - g.padLow[1] + kh * g.dilation[1]
                        let iw = ow * g.strides[2] - g.padLow[2] + kw * g.dilation[2]
                        let inside = (0..<D).contains(id) && (0..<H).contains(ih) && (0..<W).contains(iw)
                        body(index, inside ? (((n * channels + c) * D + id) * H + ih) * W + iw : nil)
                        index += 1
                    } } }
                }
            } } }
        }
    }

    /// The numbers a C kernel reads at run time: batch, channels and the three input sizes.
    package var kernelArguments: [Int64] { ([batch, channels] + input).map(Int64.init) }

    /// The C declarations every patch kernel starts with: the sizes from `in[0]` (`N`, `C`,
    /// `D`, `H`, `W`), the output sizes (`OD`, `OH`, `OW`) and the columns `Q`.
    package static func cSizes(_ g: WindowGeometry) -> String {
        let out = (0..<3).map { d in "(\(["D", "H", "W"][d]) + \(g.padLow[d] + g.padHigh[d] - g.dilatedWindow(d))) / \(g.strides[d]) + 1" }
        return """
            const int64_t *sizes = (const int64_t *)in[0];
            const int64_t N = sizes[0], C = sizes[1], D = sizes[2], H = sizes[3], W = sizes[4];
            const int64_t OD = \(out[0]), OH = \(out[1]), OW = \(out[2]);
            const int64_t Q = N * OD * OH * OW;
            (void)C;
        """
    }
}

extension TensorType {
    /// The static spatial sizes of images of this type (`nil` where unknown).
    package var spatialShape: [Int?] { Array(shape.dropFirst(2)) }
}

/// The static size of a product of sizes, `nil` when one of them is unknown.
package func staticProduct(_ sizes: [Int?]) -> Int? {
    sizes.reduce(Optional(1)) { product, size in product.flatMap { p in size.map { p * $0 } } }
}
