import TheanoCore

/// Which windows ``images2neibs(_:window:strides:mode:fileID:line:)`` takes (Theano's modes
/// of `images2neibs`; its `wrap_centered` is not offered).
public enum NeighbourhoodMode: Hashable, Sendable {
    /// Windows inside the image, which they must tile exactly: `(size − window)` a multiple
    /// of the step along each axis (checked when the graph is built if the sizes are known,
    /// else when it runs).
    case valid
    /// Windows inside the image; those that would cross its end are dropped.
    case ignoreBorders
    /// The image padded with zeros by half the window on each side.
    case half
    /// The image padded with zeros by the window less one on each side: every window that
    /// touches it.
    case full

    /// The padding on each side of an axis for a window of `size`.
    func padding(_ size: Int) -> Int {
        switch self {
        case .valid, .ignoreBorders: 0
        case .half: size / 2
        case .full: size - 1
        }
    }
}

/// The windows of each channel of a batch of images `(batch, channels, rows, columns)` as
/// rows of a matrix (Theano's `images2neibs`): one row per image, channel and window
/// position (in that order, positions row-major), `window[0] · window[1]` columns.
public func images2neibs(_ images: Variable, window: [Int], strides: [Int]? = nil, mode: NeighbourhoodMode = .valid,
                         fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    let geometry = try neighbourhoodGeometry(window: window, strides: strides, mode: mode, rank: images.ndim, function: "images2neibs", location: location)
    return try SourceLocation.attributing(to: location) {
        let sizes = try images.dimensionSizes()
        var planes = try reshape(images, sizes: [sizes[0] * sizes[1], constant(1, dtype: .int64), sizes[2], sizes[3]], at: location)
        if mode == .valid {
            for d in 0..<2 {
                if let size = images.staticShape[d + 2], size < window[d] || (size - window[d]) % geometry.strides[d] != 0 {
                    throw TheanoError.invalidArgument(function: "images2neibs", reason: "windows of \(window[d]) every \(geometry.strides[d]) "
                                                      + "do not tile an axis of \(size) (mode .valid); use .ignoreBorders to drop the rest", location: location)
                }
            }
            // Sizes known only at run time are checked then: the planes must have the fitted sizes.
            if images.staticShape[2...].contains(nil) {
                let fitted = try (0..<2).map { d in
                    let step = geometry.strides[d]
                    return try intDiv(sizes[d + 2] - window[d], constant(Double(step), dtype: .int64)) * step + window[d]
                }
                let planeSizes = try planes.dimensionSizes()
                planes = try SpecifyShape()([planes] + planeSizes.prefix(2) + fitted, at: location)
            }
        }
        return try ImagePatches(geometry: geometry)([planes], at: location).T
    }
}

/// The inverse of ``images2neibs(_:window:strides:mode:fileID:line:)`` (Theano's
/// `neibs2images`): rows of windows summed back into images of `imageShape` (an `int64`
/// vector `(batch, channels, rows, columns)`, such as `shape(x)`). Where windows overlap
/// their elements add up — it is the adjoint of `images2neibs` — and where they do not it
/// rebuilds the images.
public func neibs2images(_ neighbourhoods: Variable, window: [Int], imageShape: Variable, strides: [Int]? = nil,
                         mode: NeighbourhoodMode = .valid, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    let geometry = try neighbourhoodGeometry(window: window, strides: strides, mode: mode, rank: 4, function: "neibs2images", location: location)
    guard neighbourhoods.ndim == 2, imageShape.dtype.isInteger, imageShape.staticShape == [4] else {
        throw TheanoError.invalidArgument(function: "neibs2images", reason: "expects a matrix of windows and the image shape as an integer vector of 4 sizes",
                                          location: location)
    }
    return try SourceLocation.attributing(to: location) {
        let shape = try cast(imageShape, to: .int64, at: location)
        let sizes = try (0..<4).map { try shape[$0] }
        let planes = try stack([sizes[0] * sizes[1], constant(1, dtype: .int64), sizes[2], sizes[3]])
        let summed = try PatchSum(geometry: geometry, imageShape: [nil, 1, nil, nil])([neighbourhoods.T, planes], at: location)
        return try reshape(summed, sizes: sizes, at: location)
    }
}

/// The geometry of windows of `window` over the last two axes of images of `rank` dimensions.
private func neighbourhoodGeometry(window: [Int], strides: [Int]?, mode: NeighbourhoodMode, rank: Int,
                                   function: String, location: SourceLocation) throws -> WindowGeometry {
    guard rank == 4, window.count == 2 else {
        throw TheanoError.invalidArgument(function: function, reason: "expects images of 4 dimensions (batch, channels, rows, columns), not \(rank), and a window of 2 sizes, not \(window)",
                                          location: location)
    }
    let padding = window.map(mode.padding)
    return try WindowGeometry(window: window, strides: strides ?? window, dilation: window.map { _ in 1 }, padLow: padding, padHigh: padding,
                              function: function, location: location)
}
