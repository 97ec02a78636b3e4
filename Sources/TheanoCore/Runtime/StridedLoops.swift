/// The loops every elementwise kernel is built from: walk one output shape while reading
/// operands through their own strides, stretching broadcast dimensions (stride 0).
///
/// They are `@inline(__always)` so that each caller gets a copy specialized for its element
/// types with its scalar function inlined into the inner loop.

extension NDArray {
    /// Strides that read `self` as if it had `shape`: leading missing dimensions and
    /// dimensions of size 1 that `shape` stretches get stride 0.
    @usableFromInline package func broadcastStrides(to shape: [Int]) -> [Int] {
        let lead = shape.count - ndim
        return shape.indices.map { d in
            d < lead || (self.shape[d - lead] == 1 && shape[d] != 1) ? 0 : strides[d - lead]
        }
    }

    /// Whether `self` can be read as a flat run of `count` elements laid out like `shape`.
    @usableFromInline package func isFlat(as shape: [Int]) -> Bool { self.shape == shape && isContiguous }
}

/// Visits the rows (runs along the last dimension) of `shape`. For each row, `body` gets the
/// offset of its first element in every operand; `innerStrides` are the operands' strides
/// along the row.
@inline(__always) @inlinable func forEachRow(
    of shape: [Int], strides: [[Int]],
    _ body: (_ offsets: [Int], _ innerStrides: [Int], _ length: Int) -> Void
) {
    let operands = strides.count
    guard let last = shape.last else {
        body([Int](repeating: 0, count: operands), [Int](repeating: 0, count: operands), 1)
        return
    }
    if shape.contains(0) { return }
    let inner = strides.map { $0[shape.count - 1] }
    let outer = shape.count - 1
    var index = [Int](repeating: 0, count: outer)
    var offsets = [Int](repeating: 0, count: operands)
    let rows = shape.dropLast().reduce(1, *)
    for _ in 0..<rows {
        body(offsets, inner, last)
        var d = outer - 1
        while d >= 0 {
            index[d] += 1
            for k in 0..<operands { offsets[k] += strides[k][d] }
            if index[d] < shape[d] { break }
            for k in 0..<operands { offsets[k] -= strides[k][d] * shape[d] }
            index[d] = 0
            d -= 1
        }
    }
}

/// `f` applied to every element of `a`, as a new contiguous array of `R`.
@inline(__always) @inlinable package func map1<A, R: Element>(_ a: NDArray, _ f: (A) -> R) -> NDArray {
    let out = NDArray(uninitialized: a.shape, dtype: R.dtype)
    out.withUnsafeMutablePointer(to: R.self) { po in
        a.withUnsafePointer(to: A.self) { pa in
            if a.isContiguous {
                for i in 0..<a.count { po[i] = f(pa[i]) }
                return
            }
            var o = 0
            forEachRow(of: a.shape, strides: [a.strides]) { offsets, inner, length in
                let base = pa + offsets[0], step = inner[0]
                for j in 0..<length { po[o + j] = f(base[j * step]) }
                o += length
            }
        }
    }
    return out
}

extension NDArray {
    /// A contiguous copy of the elements, read as `T` (a type of the dtype's layout): rows of
    /// unit stride move as whole blocks, so permuting leading axes costs one `memcpy` per row.
    @inline(__always) @inlinable func copiedElements<T>(_: T.Type) -> NDArray {
        let out = NDArray(uninitialized: shape, dtype: dtype)
        out.withUnsafeMutablePointer(to: T.self) { po in
            withUnsafePointer(to: T.self) { pa in
                if isContiguous {
                    po.update(from: pa, count: count)
                    return
                }
                var o = 0
                forEachRow(of: shape, strides: [strides]) { offsets, inner, length in
                    let base = pa + offsets[0], step = inner[0]
                    if step == 1 {
                        (po + o).update(from: base, count: length)
                    } else {
                        for j in 0..<length { po[o + j] = base[j * step] }
                    }
                    o += length
                }
            }
        }
        return out
    }
}

/// `f` applied to the elements of `a` and `b` broadcast to `shape`.
@inline(__always) @inlinable package func map2<A, B, R: Element>(_ a: NDArray, _ b: NDArray, shape: [Int], _ f: (A, B) -> R) -> NDArray {
    let out = NDArray(uninitialized: shape, dtype: R.dtype)
    out.withUnsafeMutablePointer(to: R.self) { po in
        a.withUnsafePointer(to: A.self) { pa in
            b.withUnsafePointer(to: B.self) { pb in
                if a.isFlat(as: shape) && b.isFlat(as: shape) {
                    for i in 0..<out.count { po[i] = f(pa[i], pb[i]) }
                    return
                }
                var o = 0
                let strides = [a.broadcastStrides(to: shape), b.broadcastStrides(to: shape)]
                forEachRow(of: shape, strides: strides) { offsets, inner, length in
                    let ba = pa + offsets[0], sa = inner[0], bb = pb + offsets[1], sb = inner[1]
                    for j in 0..<length { po[o + j] = f(ba[j * sa], bb[j * sb]) }
                    o += length
                }
            }
        }
    }
    return out
}

/// `f` applied to the elements of `a`, `b` and `c` broadcast to `shape`.
@inline(__always) @inlinable package func map3<A, B, C, R: Element>(
    _ a: NDArray, _ b: NDArray, _ c: NDArray, shape: [Int], _ f: (A, B, C) -> R
) -> NDArray {
    let out = NDArray(uninitialized: shape, dtype: R.dtype)
    var o = 0
    let strides = [a.broadcastStrides(to: shape), b.broadcastStrides(to: shape), c.broadcastStrides(to: shape)]
    out.withUnsafeMutablePointer(to: R.self) { po in
        a.withUnsafePointer(to: A.self) { pa in
            b.withUnsafePointer(to: B.self) { pb in
                c.withUnsafePointer(to: C.self) { pc in
                    forEachRow(of: shape, strides: strides) { offsets, inner, length in
                        let ba = pa + offsets[0], bb = pb + offsets[1], bc = pc + offsets[2]
                        let sa = inner[0], sb = inner[1], sc = inner[2]
                        for j in 0..<length { po[o + j] = f(ba[j * sa], bb[j * sb], bc[j * sc]) }
                        o += length
                    }
                }
            }
        }
    }
    return out
}

extension NDArray {
    /// Writes `combine(old, new)` into every element of this view, with `source` broadcast to
    /// the view's shape. The view's storage must be owned by the caller (a fresh copy).
    @inline(__always) @inlinable package func update<T>(from source: NDArray, _: T.Type, _ combine: (T, T) -> T) {
        withUnsafeMutablePointer(to: T.self) { pd in
            source.withUnsafePointer(to: T.self) { ps in
                if isContiguous && source.isFlat(as: shape) {
                    for j in 0..<count { pd[j] = combine(pd[j], ps[j]) }
                    return
                }
                forEachRow(of: shape, strides: [strides, source.broadcastStrides(to: shape)]) { offsets, inner, length in
                    let d = pd + offsets[0], s = ps + offsets[1], sd = inner[0], ss = inner[1]
                    for j in 0..<length { d[j * sd] = combine(d[j * sd], s[j * ss]) }
                }
            }
        }
    }

    /// Copies `source` (broadcast, same dtype) into this view.
    package func assign(from source: NDArray) {
        if isContiguous && source.isFlat(as: shape) {
            withUnsafeMutableRawPointer { target in
                source.withUnsafeRawPointer { target.copyMemory(from: $0, byteCount: count * dtype.byteSize) }
            }
            return
        }
        struct Assign: LayoutVisitor {
            package let target: NDArray, source: NDArray
            package func visit<T>(_: T.Type) { target.update(from: source, T.self) { _, new in new } }
        }
        dtype.visitLayout(Assign(target: self, source: source))
    }

    /// Adds `source` (broadcast, same dtype) into this view.
    package func accumulate(from source: NDArray) {
        struct Accumulate: NumericVisitor {
            package let target: NDArray, source: NDArray
            package func visit<T: NumericElement>(_: T.Type) { target.update(from: source, T.self, T.add) }
        }
        if dtype == .bool {
            target(orInto: source)
        } else {
            _ = dtype.visitNumeric(Accumulate(target: self, source: source))
        }
    }

    private func target(orInto source: NDArray) { update(from: source, Bool.self) { $0 || $1 } }
}
