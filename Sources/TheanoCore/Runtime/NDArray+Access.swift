extension NDArray {
    /// Offset in elements of the element at `index` (one entry per dimension).
    func elementOffset(_ index: [Int]) -> Int {
        zip(index, strides).reduce(offset) { $0 + $1.0 * $1.1 }
    }

    /// The element at `index`, converted to `T` as a C cast would.
    public func element<T: Element>(_ index: [Int], as _: T.Type = T.self) -> T {
        require(index.count == ndim && zip(index, shape).allSatisfy { $0 >= 0 && $0 < $1 },
                "NDArray.element: index \(index) outside shape \(shapeText(shape))")
        return withUnsafeRawPointer { base in
            dtype.visit(ReadElement<T>(pointer: base + (elementOffset(index) - offset) * dtype.byteSize))
        }
    }

    /// The value of a one-element array, converted to `T`.
    public func scalar<T: Element>(as _: T.Type = T.self) -> T {
        require(count == 1, "NDArray.scalar: array of shape \(shapeText(shape)) is not a single value")
        return element([Int](repeating: 0, count: ndim), as: T.self)
    }

    /// All elements in row-major order, converted to `T`.
    public func elements<T: Element>(as _: T.Type = T.self) -> [T] {
        let converted = cast(to: T.dtype).contiguous()
        return converted.withUnsafePointer(to: T.self) { Array(UnsafeBufferPointer(start: $0, count: count)) }
    }

    /// Writes `value` (converted to this array's dtype) at `index`, copying first if the
    /// storage is shared.
    public mutating func setElement<T: Element>(_ value: T, at index: [Int]) {
        require(index.count == ndim && zip(index, shape).allSatisfy { $0 >= 0 && $0 < $1 },
                "NDArray.setElement: index \(index) outside shape \(shapeText(shape))")
        makeUnique()
        withUnsafeMutableRawPointer { base in
            dtype.visit(WriteElement(pointer: base + (elementOffset(index) - offset) * dtype.byteSize, value: value))
        }
    }
}

private struct ReadElement<T: Element>: ElementVisitor {
    let pointer: UnsafeRawPointer
    func visit<S: Element>(_: S.Type) -> T { T(converting: pointer.assumingMemoryBound(to: S.self).pointee) }
}

private struct WriteElement<T: Element>: ElementVisitor {
    let pointer: UnsafeMutableRawPointer, value: T
    func visit<D: Element>(_: D.Type) { pointer.assumingMemoryBound(to: D.self).pointee = D(converting: value) }
}
