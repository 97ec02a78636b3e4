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
            fatalError("NDArray literal: \(error)")
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
            throw TheanoError.invalidArgument(function: "NDArray(stacking:)", reason: "cannot stack arrays of shapes "
                                              + arrays.map { shapeText($0.shape) }.joined(separator: ", "), location: .unknown)
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

    /// A matrix from rows of equal length (rows of unequal length stop the program with a
    /// message; ``init(validating:)-([[T]])`` throws instead).
    public init<T: Element>(_ rows: [[T]]) {
        do { try self.init(validating: rows) } catch { fatalError("NDArray: \(error)") }
    }

    /// A matrix from rows, which must have equal lengths (for data from outside the program).
    public init<T: Element>(validating rows: [[T]]) throws {
        let columns = rows.first?.count ?? 0
        if let ragged = rows.firstIndex(where: { $0.count != columns }) {
            throw TheanoError.invalidArgument(function: "NDArray(validating:)",
                                              reason: "row \(ragged) has \(rows[ragged].count) values where row 0 has \(columns)", location: .unknown)
        }
        try self.init(validating: rows.flatMap { $0 }, shape: [rows.count, columns])
    }

    /// A 3-d array from nested arrays of equal lengths (see ``init(validating:)-([[[T]]])``).
    public init<T: Element>(_ planes: [[[T]]]) {
        do { try self.init(validating: planes) } catch { fatalError("NDArray: \(error)") }
    }

    /// A 3-d array from planes of rows, which must all have one shape (for data from outside
    /// the program).
    public init<T: Element>(validating planes: [[[T]]]) throws {
        let inner = try planes.map { try NDArray(validating: $0) }
        if let ragged = inner.firstIndex(where: { $0.shape != inner[0].shape }) {
            throw TheanoError.invalidArgument(function: "NDArray(validating:)", reason: "plane \(ragged) has shape "
                                              + "\(shapeText(inner[ragged].shape)) where plane 0 has \(shapeText(inner[0].shape))", location: .unknown)
        }
        try self.init(validating: planes.flatMap { $0.flatMap { $0 } }, shape: [planes.count] + (inner.first?.shape ?? [0, 0]))
    }
}
