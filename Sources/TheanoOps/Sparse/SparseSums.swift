import TheanoCore

/// The sum of the sparse matrix `s` over `axis` (all, 0 or 1; negative axes count from the
/// end), a dense result as NumPy's `s.sum(axis)` (kept as a size-1 axis with `keepDims`):
/// Theano's `sp_sum`. Built from the stored values, each added into the position of its row
/// or column, so the gradient is structured: the sum's gradient at the stored positions.
/// ``sum(_:axis:keepDims:fileID:line:)`` of a sparse matrix comes here.
public func sparseSum(_ s: Variable, axis: Axes = .all, keepDims: Bool = false, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    guard s.isSparse else {
        throw TheanoError.invalidArgument(function: "sparseSum", reason: "expects a sparse matrix, not \(s.type)", location: location)
    }
    let axes = try axis.resolved(ndim: 2, function: "sum", location: location)
    return try SourceLocation.attributing(to: location) {
        let values = try SparseValues()(s, at: location)
        guard axes.count == 1, let summed = axes.first else {
            let total = try reduction(.sum, values, axis: .all, keepDims: false, function: "sum", at: location)
            return keepDims ? try total.padded(toRank: 2, at: location) : total
        }
        // Each stored value lands at its position along the axis that stays.
        let kept = 1 - summed
        let lines = try alloc(constant(0, dtype: values.dtype), sizes: [shape(s)[kept]], at: location)
        let totals = try incSubtensor(lines[StoredPositions(axis: kept)(s, at: location)], values)
        guard keepDims else { return totals }
        return try DimShuffle(pattern: summed == 0 ? [.newAxis, .input(0)] : [.input(0), .newAxis])([totals], at: location)
    }
}
