import Theano

/// A differentiable soft-attention read: an `N×N` glimpse of each image through two banks of
/// Gaussian filters, one per axis (Gregor et al.'s DRAW read, the attention of Kahou et al.'s
/// Recurrent Attentive Tracking Model). Filter `i` of an axis is centred at
/// `center + (i − (N − 1)/2) · stride` with variance `variance`, normalized to sum 1 over the
/// axis; the glimpse is `F_y · image · F_xᵀ`, two batched products, so every parameter (the
/// centres, the stride, the variance) and the image get gradients.
public struct GaussianGlimpse {
    /// `N`: the glimpse's side.
    public let size: Int

    public init(size: Int) { self.size = size }

    /// The filters of one axis of `length` pixels, `[batch, N, length]`, for centres, strides
    /// and variances `[batch]` (pixels; the variance positive).
    public func filterbank(center: Variable, stride: Variable, variance: Variable, length: Int) throws -> Variable {
        let dtype = center.dtype
        let offsets = constant(NDArray((0..<size).map { Double($0) - Double(size - 1) / 2 }, shape: [size]).cast(to: dtype))
        let pixels = constant(NDArray((0..<length).map(Double.init), shape: [length]).cast(to: dtype))
        let means = try center.dimshuffle(0, .newAxis) + stride.dimshuffle(0, .newAxis) * offsets.dimshuffle(.newAxis, 0)   // [batch, N]
        let distances = try pixels.dimshuffle(.newAxis, .newAxis, 0) - means.dimshuffle(0, 1, .newAxis)                    // [batch, N, length]
        let filters = try exp(-sqr(distances) / (2 * variance.dimshuffle(0, .newAxis, .newAxis)))
        return try filters / maximum(sum(filters, axis: 2, keepDims: true), constant(1e-8, dtype: dtype))
    }

    /// The glimpses `[batch, N, N]` of `images` (`[batch, height, width]`) at the centres
    /// `(x, y)`, strides and variances given per image.
    public func read(_ images: Variable, x: Variable, y: Variable, stride: Variable, variance: Variable) throws -> Variable {
        guard images.ndim == 3, let height = images.type.shape[1], let width = images.type.shape[2] else {
            throw TheanoError.invalidArgument(function: "GaussianGlimpse.read", reason: "expects images [batch, height, width] of static sizes, not \(images.type)",
                                              location: .resolve(fileID: #fileID, line: #line))
        }
        let fy = try filterbank(center: y, stride: stride, variance: variance, length: height)
        let fx = try filterbank(center: x, stride: stride, variance: variance, length: width)
        return try batchedDot(batchedDot(fy, images), fx.dimshuffle(0, 2, 1))
    }
}
