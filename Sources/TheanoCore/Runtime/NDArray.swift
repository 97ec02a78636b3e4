/// A strided, dtype-erased, n-dimensional array: the values that flow through compiled
/// functions.
///
/// The elements live in 64-byte-aligned `Storage` that several arrays may share: a
/// transpose, a reshape of contiguous data or a slice is a *view* (new shape, strides and
/// offset over the same storage). Mutation copies first unless the storage is uniquely
/// referenced (copy-on-write), so arrays behave as values.
public struct NDArray: Sendable {
    /// The element type.
    public let dtype: DType
    /// The shape, strides, offset and storage, in one object: copying an array (into a
    /// function's arguments, out of its results) then retains one reference, not three.
    @usableFromInline var header: Header

    /// What describes an array besides its dtype. Never changed once made: an array that
    /// becomes another (a copy made unique) gets a new header.
    @usableFromInline final class Header: @unchecked Sendable {
        @usableFromInline let shape: [Int]
        @usableFromInline let strides: [Int]
        @usableFromInline let offset: Int
        /// A variable only so that ``NDArray/hasUniqueStorage()`` can ask whether it is shared
        /// (never written, so reads need no exclusive-access check).
        @exclusivity(unchecked) @usableFromInline var storage: Storage
        /// The sparse matrix this array stands for, which has no dense elements (`storage`
        /// is then an empty placeholder).
        @usableFromInline let sparse: SparseMatrix?

        init(shape: [Int], strides: [Int], offset: Int, storage: Storage, sparse: SparseMatrix? = nil) {
            (self.shape, self.strides, self.offset, self.storage, self.sparse) = (shape, strides, offset, storage, sparse)
        }
    }

    /// The size of each dimension (`[]` for a scalar).
    @inlinable public var shape: [Int] { header.shape }
    /// Distance, in elements, between neighbours along each dimension.
    @inlinable public var strides: [Int] { header.strides }
    /// Position of the first element in `storage`, in elements.
    @inlinable package var offset: Int { header.offset }
    /// (Checked in debug builds: only sparse operations, which never ask, receive a sparse
    /// value; the call path of release builds keeps the one load.)
    @inlinable package var storage: Storage {
        assert(header.sparse == nil, "a sparse matrix has no dense elements: only sparse operations read it")
        return header.storage
    }

    /// A value standing for the sparse matrix `matrix` where arrays flow: a function's
    /// arguments and results, shared variables, constants.
    public init(sparse matrix: SparseMatrix) {
        dtype = matrix.dtype
        header = Header(shape: matrix.shape, strides: NDArray.contiguousStrides(matrix.shape), offset: 0,
                        storage: NDArray.sparsePlaceholder, sparse: matrix)
    }

    /// The sparse matrix this value stands for, if it is one.
    public var sparse: SparseMatrix? { header.sparse }

    /// How the value is stored: `.dense`, or the sparse matrix's format.
    public var format: StorageFormat { header.sparse?.format ?? .dense }

    /// The storage of every sparse value: none.
    private static let sparsePlaceholder = Storage(byteCount: 0)!

    /// A zero-filled, contiguous array.
    public init(zeros shape: [Int], dtype: DType) {
        self.init(shape: shape, dtype: dtype, zeroed: true)
    }

    /// A contiguous array whose elements the caller is about to write.
    @usableFromInline package init(uninitialized shape: [Int], dtype: DType) {
        self.init(shape: shape, dtype: dtype, zeroed: false)
    }

    private init(shape: [Int], dtype: DType, zeroed: Bool) {
        do {
            self = try Self.allocate(shape, dtype: dtype, zeroed: zeroed)
        } catch {
            fatalError("NDArray: \(error)")
        }
    }

    /// A new contiguous array of `shape`, zero-filled or not, or an error saying why it
    /// cannot be made: a negative size, a byte count beyond `Int`, or memory the system
    /// does not have. Used wherever sizes come from data (the sizes an `alloc` computes).
    package static func allocate(_ shape: [Int], dtype: DType, zeroed: Bool) throws -> NDArray {
        guard let bytes = byteCount(of: shape, dtype: dtype) else {
            throw OpError(shape.contains { $0 < 0 }
                ? "cannot make an array of shape \(shapeText(shape)): sizes must not be negative"
                : "cannot make a \(dtype) array of shape \(shapeText(shape)): its size in bytes does not fit in an Int")
        }
        guard let storage = Storage(byteCount: bytes, zeroed: zeroed) else {
            throw OpError("cannot allocate \(byteText(bytes)) for a \(dtype) array of shape \(shapeText(shape))")
        }
        return NDArray(dtype: dtype, shape: shape, strides: contiguousStrides(shape), offset: 0, storage: storage)
    }

    /// Throws what ``allocate(_:dtype:zeroed:)`` would for an array of `shape`, without
    /// keeping any memory: for code that allocates its result where it cannot throw (the
    /// elementwise loops). Only arrays of a gigabyte or more are tried for real.
    package static func checkAllocation(_ shape: [Int], dtype: DType) throws {
        guard let bytes = byteCount(of: shape, dtype: dtype), bytes < 1 << 30 else {
            _ = try allocate(shape, dtype: dtype, zeroed: false)
            return
        }
    }

    /// The bytes a contiguous array of `shape` and `dtype` needs; `nil` when a size is
    /// negative or the product overflows.
    package static func byteCount(of shape: [Int], dtype: DType) -> Int? {
        var total = dtype.byteSize
        for size in shape {
            guard size >= 0 else { return nil }
            let (product, overflow) = total.multipliedReportingOverflow(by: size)
            guard !overflow else { return nil }
            total = product
        }
        return total
    }

    package init(dtype: DType, shape: [Int], strides: [Int], offset: Int, storage: Storage) {
        self.dtype = dtype
        header = Header(shape: shape, strides: strides, offset: offset, storage: storage)
    }

    /// An array of `values` in row-major order, reshaped to `shape` (by default 1-D).
    public init<T: Element>(_ values: [T], shape: [Int]? = nil) {
        do {
            try self.init(validating: values, shape: shape)
        } catch {
            fatalError("NDArray: \(error)")
        }
    }

    /// An array of `values` in row-major order, reshaped to `shape` (by default 1-D); throws
    /// when the values do not fill the shape exactly (for data from outside the program).
    public init<T: Element>(validating values: [T], shape: [Int]? = nil) throws {
        let shape = shape ?? [values.count]
        func failure(_ reason: String) -> TheanoError {
            .invalidArgument(function: "NDArray(validating:shape:)", reason: reason, location: .unknown)
        }
        guard NDArray.byteCount(of: shape, dtype: T.dtype).map({ $0 / T.dtype.byteSize }) == values.count else {
            throw failure("\(values.count) values do not fill shape \(shapeText(shape))")
        }
        do {
            self = try NDArray.allocate(shape, dtype: T.dtype, zeroed: false)
        } catch {
            throw failure("\(error)")
        }
        withUnsafeMutablePointer(to: T.self) { base in
            values.withUnsafeBufferPointer { if let source = $0.baseAddress { base.initialize(from: source, count: values.count) } }
        }
    }

    /// A 0-d array holding `value`.
    public init<T: Element>(scalar value: T) { self.init([value], shape: []) }

    /// A 0-d array of `dtype` holding `value` converted as a C cast would.
    public init(scalar value: Double, dtype: DType) {
        struct Store: ElementVisitor {
            package let value: Double
            package func visit<T: Element>(_: T.Type) -> NDArray { NDArray(scalar: T(doubleValue: value)) }
        }
        self = dtype.visit(Store(value: value))
    }

    /// The number of dimensions.
    public var ndim: Int { shape.count }
    /// The number of elements.
    public var count: Int { shape.reduce(1, *) }

    /// Whether the elements are laid out row-major without gaps (a view may not be).
    public var isContiguous: Bool {
        var step = 1
        for d in shape.indices.reversed() {
            guard strides[d] == step else { return count <= 1 }
            step *= Swift.max(shape[d], 1)
        }
        return true
    }

    package static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var step = 1
        for d in shape.indices.reversed() {
            strides[d] = step
            step *= Swift.max(shape[d], 1)
        }
        return strides
    }

    /// Stands for a value a lazy branch did not compute (see ``LazyBranchingOp``).
    package static let notComputed = NDArray(zeros: [0], dtype: .bool)

    /// Whether this array holds the only reference to its memory: no copy of it and no
    /// other view of its storage exists.
    mutating func hasUniqueStorage() -> Bool { isKnownUniquelyReferenced(&header) && isKnownUniquelyReferenced(&header.storage) }

    /// Ensures `storage` is not shared, so it may be written in place.
    mutating func makeUnique() {
        if !hasUniqueStorage() || !isContiguous {
            self = contiguousCopy()
        }
    }

    /// A contiguous copy of the elements (always a new storage).
    public func contiguousCopy() -> NDArray {
        struct Copy: LayoutVisitor {
            package let source: NDArray
            package func visit<T>(_: T.Type) -> NDArray { source.copiedElements(T.self) }
        }
        return dtype.visitLayout(Copy(source: self))
    }

    /// The same elements laid out contiguously: `self` when already so.
    public func contiguous() -> NDArray { isContiguous ? self : contiguousCopy() }

    /// The elements converted to `dtype` (a copy, or `self` if the dtype already matches).
    public func cast(to dtype: DType) -> NDArray {
        if dtype == self.dtype { return self }
        struct From: ElementVisitor {
            package let source: NDArray, target: DType
            package func visit<S: Element>(_: S.Type) -> NDArray { target.visit(To<S>(source: source)) }
        }
        struct To<S: Element>: ElementVisitor {
            package let source: NDArray
            package func visit<D: Element>(_: D.Type) -> NDArray { map1(source) { (x: S) in D(converting: x) } }
        }
        return self.dtype.visit(From(source: self, target: dtype))
    }
}

// MARK: - Scoped access to the memory
//
// The only ways to the memory of an array: each hands `body` an address that is valid while
// `body` runs, because the storage is kept alive until it returns. No pointer may leave
// `body` — a pointer taken from an array Swift has already released (a temporary copy after
// its last use) reads freed memory.

extension NDArray {
    /// Calls `body` with the address of the first element (`offset` applied).
    @inline(__always) @inlinable package func withUnsafeRawPointer<R>(_ body: (UnsafeRawPointer) throws -> R) rethrows -> R {
        try storage.withAddress(at: offset * dtype.byteSize) { try body(UnsafeRawPointer($0)) }
    }

    /// Calls `body` with the writable address of the first element. The caller must own the
    /// memory it writes (a fresh output, a copy made unique, a planned in-place target):
    /// copy-on-write is not applied here.
    @inline(__always) @inlinable package func withUnsafeMutableRawPointer<R>(_ body: (UnsafeMutableRawPointer) throws -> R) rethrows -> R {
        try storage.withAddress(at: offset * dtype.byteSize, body)
    }

    /// Calls `body` with a typed pointer to the first element (`T` must have the dtype's layout).
    @inline(__always) @inlinable package func withUnsafePointer<T, R>(to _: T.Type, _ body: (UnsafePointer<T>) throws -> R) rethrows -> R {
        try withUnsafeRawPointer { try body($0.assumingMemoryBound(to: T.self)) }
    }

    /// Calls `body` with a writable typed pointer to the first element; the caller must own
    /// the memory, as for ``withUnsafeMutableRawPointer(_:)``.
    @inline(__always) @inlinable package func withUnsafeMutablePointer<T, R>(to _: T.Type, _ body: (UnsafeMutablePointer<T>) throws -> R) rethrows -> R {
        try withUnsafeMutableRawPointer { try body($0.assumingMemoryBound(to: T.self)) }
    }

    /// Calls `body` with the bytes of a contiguous array.
    package func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        guard isContiguous else { preconditionFailure("NDArray.withBytes on a strided array") }
        return try withUnsafeRawPointer { try body(UnsafeRawBufferPointer(start: $0, count: count * dtype.byteSize)) }
    }

    /// The address of the first element as a number: it tells which memory an array uses
    /// (tests of in-place work compare it), and is never turned back into a pointer.
    var firstElementAddress: Int { withUnsafeRawPointer { Int(bitPattern: $0) } }

    /// Whether `self` and `other` start at the same address (one array, or views of one
    /// memory starting at the same element).
    package func startsAtSameAddress(as other: NDArray) -> Bool {
        storage === other.storage && offset * dtype.byteSize == other.offset * other.dtype.byteSize
    }
}

/// Calls `body` with the address of the first element of each of `arrays`, in order, all
/// kept alive until `body` returns.
@inlinable package func withUnsafeRawPointers<R>(to arrays: [NDArray], _ body: (UnsafePointer<UnsafeRawPointer?>) throws -> R) rethrows -> R {
    try withExtendedLifetime(arrays) {
        try withUnsafeTemporaryAllocation(of: UnsafeRawPointer?.self, capacity: Swift.max(arrays.count, 1)) { pointers in
            for (i, array) in arrays.enumerated() {
                // Valid after the closure returns because `arrays` keeps every storage alive.
                pointers[i] = array.withUnsafeRawPointer { $0 }
            }
            return try body(UnsafePointer(pointers.baseAddress!))
        }
    }
}

/// Stops the program with `message` unless `condition` holds: for misuse of the array API
/// that the caller could have checked (an index outside the shape). Unlike `precondition`,
/// the message is kept in release builds.
@inline(__always)
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError(message()) }
}
