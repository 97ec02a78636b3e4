import TheanoCore

extension Variable {
    /// The common element, as a 0-d array of this variable's dtype, when this is a constant
    /// whose elements are all equal (seen through broadcasts and casts) — exact for every
    /// dtype, where ``constantScalar`` goes through `Double`.
    package var constantElement: NDArray? {
        if let constant = self as? Constant, constant.value.format == .dense {
            let first = constant.value.reshaped([constant.value.count]).sliced(axis: 0, start: 0, count: Swift.min(1, constant.value.count))
            guard constant.value.count > 0,
                  NDArray(repeating: first, count: constant.value.count) == constant.value.reshaped([constant.value.count])
                    || constantScalar?.isNaN == true
            else { return nil }
            return first.reshaped([])
        }
        guard let node = owner else { return nil }
        switch node.op {
        case is DimShuffle, is Alloc: return node.inputs[0].constantElement
        case let cast as Cast: return node.inputs[0].constantElement?.cast(to: cast.dtype)
        default: return nil
        }
    }

    /// The value of every element when this is a constant whose elements are all equal —
    /// seen through broadcasts (`DimShuffle`, `Alloc`) and casts — else `nil`.
    public var constantScalar: Double? {
        if let constant = self as? Constant, constant.value.format == .dense {
            let values = constant.value.elements(as: Double.self)
            guard let first = values.first, values.allSatisfy({ $0 == first || ($0.isNaN && first.isNaN) }) else { return nil }
            return first
        }
        guard let node = owner else { return nil }
        switch node.op {
        case is DimShuffle, is Alloc: return node.inputs[0].constantScalar
        case let cast as Cast: return node.inputs[0].constantScalar.map { NDArray(scalar: $0, dtype: cast.dtype).scalar(as: Double.self) }
        default: return nil
        }
    }
}
