/// Arrays written as Swift literals: `let a: NDArray = [[1, 2], [3, 4]]`.
///
/// Integer literals make `int64` arrays and float literals `float32` arrays (the default
/// float type); a nested literal mixing both is float. Use ``NDArray/cast(to:)`` or the
/// typed initializers for other dtypes.
extension NDArray: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral
{
    public init(integerLiteral value: Int64) { self.init(scalar: value) }
    public init(floatLiteral value: Double) { self.init(scalar: value, dtype: .defaultFloat) }
    public init(booleanLiteral value: Bool) { self.init(scalar: value) }

    public init(arrayLiteral elements: NDArray...) {
        // Integer literals beside float ones take the float dtype.
        let floats = elements.map(\.dtype).filter(\.isFloat)
        let dtype = floats.isEmpty ? DType.promote(elements.map(\.dtype)) : DType.promote(floats)
        do {
            self = try NDArray(stacking: elements.map { $0.cast(to: dtype) })
        } catch {
            preconditionFailure("NDArray literal: \(error)")
        }
    }

    /// The arrays stacked along a new first dimension; all must have the same shape. The
    /// dtype is the promotion of theirs.
    public init(stacking arrays: [NDArray]) throws {
        guard let first = arrays.first else {
            self.init(zeros: [0], dtype: .defaultFloat)
            return
        }
        guard arrays.allSatisfy({ $0.shape == first.shape }) else {
            throw OpError("cannot stack arrays of shapes \(arrays.map { shapeText($0.shape) }.joined(separator: ", "))")
        }
        let dtype = DType.promote(arrays.map(\.dtype))
        self.init(uninitialized: [arrays.count] + first.shape, dtype: dtype)
        let bytesEach = first.count * dtype.byteSize
        withUnsafeMutableRawPointer { base in
            for (i, array) in arrays.enumerated() {
                array.cast(to: dtype).contiguous().withUnsafeRawPointer { (base + i * bytesEach).copyMemory(from: $0, byteCount: bytesEach) }
            }
        }
    }

    /// A matrix from rows of equal length.
    public init<T: Element>(_ rows: [[T]]) {
        let columns = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == columns }, "NDArray: rows of unequal length")
        self.init(rows.flatMap { $0 }, shape: [rows.count, columns])
    }

    /// A 3-d array from nested arrays of equal lengths.
    public init<T: Element>(_ planes: [[[T]]]) {
        let inner = planes.map { NDArray($0) }
        precondition(inner.allSatisfy { $0.shape == inner.first?.shape }, "NDArray: planes of unequal shape")
        self.init(planes.flatMap { $0.flatMap { $0 } }, shape: [planes.count] + (inner.first?.shape ?? [0, 0]))
    }
}
