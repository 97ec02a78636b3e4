extension NDArray: Equatable {
    /// Same dtype, same shape and the same elements (NaN never equals NaN).
    public static func == (lhs: NDArray, rhs: NDArray) -> Bool {
        guard lhs.dtype == rhs.dtype, lhs.shape == rhs.shape, lhs.format == rhs.format else { return false }
        if let sparse = lhs.sparse { return sparse == rhs.sparse }
        if lhs.dtype.isFloat { return lhs.elements(as: Double.self) == rhs.elements(as: Double.self) }
        return lhs.elements(as: Int64.self) == rhs.elements(as: Int64.self)
    }

    /// Whether `self` and `other` have the same shape and every pair of elements satisfies
    /// NumPy's `isclose`: `|a - b| <= atol + rtol * |b|` (NaNs equal when `equalNaN`).
    /// Sparse values compare as the dense matrices they stand for.
    public func isClose(to other: NDArray, rtol: Double = 1e-5, atol: Double = 1e-8, equalNaN: Bool = false) -> Bool {
        guard shape == other.shape else { return false }
        if sparse != nil || other.sparse != nil {
            return (sparse?.dense() ?? self).isClose(to: other.sparse?.dense() ?? other, rtol: rtol, atol: atol, equalNaN: equalNaN)
        }
        return zip(elements(as: Double.self), other.elements(as: Double.self)).allSatisfy { a, b in
            if a.isNaN || b.isNaN { return equalNaN && a.isNaN && b.isNaN }
            if a.isInfinite || b.isInfinite { return a == b }
            return abs(a - b) <= atol + rtol * abs(b)
        }
    }

    /// The largest elementwise `|a - b|` (for messages when `isClose` fails).
    public func maxAbsDifference(to other: NDArray) -> Double {
        zip(elements(as: Double.self), other.elements(as: Double.self)).map { abs($0 - $1) }.max() ?? 0
    }
}
