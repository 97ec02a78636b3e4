extension NDArray {
    /// A view with the dimensions permuted: dimension `d` of the result is dimension
    /// `permutation[d]` of `self`.
    public func transposed(_ permutation: [Int]) -> NDArray {
        require(permutation.sorted() == Array(0..<ndim), "NDArray.transposed: \(permutation) is not a permutation of 0..<\(ndim)")
        return NDArray(dtype: dtype, shape: permutation.map { shape[$0] }, strides: permutation.map { strides[$0] },
                       offset: offset, storage: storage)
    }

    /// The dimensions reversed: the matrix transpose.
    public func transposed() -> NDArray { transposed(Array((0..<ndim).reversed())) }

    /// The same elements with a new shape: a view when `self` is contiguous, else a copy.
    public func reshaped(_ newShape: [Int]) -> NDArray {
        require(newShape.reduce(1, *) == count, "NDArray.reshaped: cannot reshape \(shapeText(shape)) to \(shapeText(newShape))")
        let source = contiguous()
        return NDArray(dtype: dtype, shape: newShape, strides: Self.contiguousStrides(newShape),
                       offset: source.offset, storage: source.storage)
    }

    /// A view that reads `self` broadcast to `shape` (stride 0 along stretched dimensions).
    package func broadcast(to shape: [Int]) -> NDArray {
        NDArray(dtype: dtype, shape: shape, strides: broadcastStrides(to: shape), offset: offset, storage: storage)
    }

    /// A view of `count` elements `start, start + step, …` along `axis` (`step` may be
    /// negative; the positions must lie inside the dimension).
    public func sliced(axis: Int, start: Int, count: Int, step: Int = 1) -> NDArray {
        require(count == 0 || ((0..<shape[axis]).contains(start) && (0..<shape[axis]).contains(start + (count - 1) * step)),
                "NDArray.sliced: positions \(start), \(start + step), … (\(count) of them) outside axis \(axis) of size \(shape[axis])")
        var shape = self.shape, strides = self.strides
        shape[axis] = count
        strides[axis] = self.strides[axis] * step
        let offset = count == 0 ? self.offset : self.offset + start * self.strides[axis]
        return NDArray(dtype: dtype, shape: shape, strides: strides, offset: offset, storage: storage)
    }

    /// A view with dimension `axis` removed, fixed at `index`.
    package func indexed(axis: Int, at index: Int) -> NDArray {
        var shape = self.shape, strides = self.strides
        shape.remove(at: axis)
        strides.remove(at: axis)
        return NDArray(dtype: dtype, shape: shape, strides: strides, offset: offset + index * self.strides[axis], storage: storage)
    }

    /// A view with new dimensions of size 1 inserted so that `pattern` describes the result:
    /// each entry is a dimension of `self` or `nil` for a new broadcastable one.
    package func expanded(_ pattern: [Int?]) -> NDArray {
        NDArray(dtype: dtype, shape: pattern.map { $0.map { shape[$0] } ?? 1 },
                strides: pattern.map { $0.map { strides[$0] } ?? 0 }, offset: offset, storage: storage)
    }
}

extension NDArray {
    /// `element` (a one-element array) repeated `count` times, as a vector.
    package init(repeating element: NDArray, count: Int) {
        self = element.reshaped([1]).broadcast(to: [count]).contiguousCopy()
    }
}

/// The views of an array's rows (its elements along the first axis), made without
/// allocating: every row shares one shape and one strides array (loops take a row per step).
package struct RowViews {
    package let array: NDArray
    private let rowShape: [Int], rowStrides: [Int]

    package init(_ array: NDArray) {
        self.array = array
        rowShape = Array(array.shape.dropFirst())
        rowStrides = Array(array.strides.dropFirst())
    }

    package subscript(index: Int) -> NDArray {
        NDArray(dtype: array.dtype, shape: rowShape, strides: rowStrides, offset: array.offset + index * array.strides[0], storage: array.storage)
    }
}
