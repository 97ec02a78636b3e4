import TheanoCore

/// The mean of the elements over `axis` (integers average as `float64`, as NumPy).
public func mean(_ x: Variable, axis: Axes = .all, keepDims: Bool = false, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try mean(x, axis: axis, keepDims: keepDims, at: .resolve(fileID: fileID, line: line))
}

package func mean(_ x: Variable, axis: Axes, keepDims: Bool, at location: SourceLocation) throws -> Variable {
    let axes = try axis.resolved(ndim: x.ndim, function: "mean", location: location)
    return try SourceLocation.attributing(to: location) {
        let total = try reduction(.sum, x, axis: Axes(axes), keepDims: keepDims, function: "mean", at: location)
        let sizes = try x.dimensionSizes()
        let count = try sizeProduct([constant(1, dtype: .int64)] + axes.map { sizes[$0] }, at: location)
        return try total / cast(count, to: total.dtype.isFloat ? total.dtype : .float64)
    }
}

/// The variance over `axis`: the mean squared deviation from the mean, divided by
/// `count - ddof` (NumPy's `var`).
public func `var`(_ x: Variable, axis: Axes = .all, keepDims: Bool = false, ddof: Int = 0,
                  fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try variance(x, axis: axis, keepDims: keepDims, ddof: ddof, at: .resolve(fileID: fileID, line: line))
}

/// The standard deviation over `axis`: the square root of ``var(_:axis:keepDims:ddof:fileID:line:)``.
public func std(_ x: Variable, axis: Axes = .all, keepDims: Bool = false, ddof: Int = 0,
                fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    return try elementwise(SquareRoot(), [variance(x, axis: axis, keepDims: keepDims, ddof: ddof, at: location)], at: location)
}

private func variance(_ x: Variable, axis: Axes, keepDims: Bool, ddof: Int, at location: SourceLocation) throws -> Variable {
    let axes = try axis.resolved(ndim: x.ndim, function: "var", location: location)
    return try SourceLocation.attributing(to: location) {
        let deviation = try x - mean(x, axis: Axes(axes), keepDims: true, at: location)
        let squares = try reduction(.sum, sqr(deviation), axis: Axes(axes), keepDims: keepDims, function: "var", at: location)
        let sizes = try x.dimensionSizes()
        let count = try sizeProduct([constant(1, dtype: .int64)] + axes.map { sizes[$0] }, at: location)
        return try squares / cast(count - Double(ddof), to: squares.dtype)
    }
}

/// `log(sum(exp(x)))` over `axis`, computed with the maximum subtracted so that large
/// inputs neither overflow nor lose all precision.
public func logsumexp(_ x: Variable, axis: Axes = .all, keepDims: Bool = false,
                      fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    let axes = try axis.resolved(ndim: x.ndim, function: "logsumexp", location: location)
    return try LogSumExp(axes: axes, keepDims: keepDims)([cast(x, to: x.dtype.upgradedToFloat, at: location)], at: location)
}
