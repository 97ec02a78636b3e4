/// The static type of a symbolic tensor: its dtype and what is known of its shape.
///
/// Each dimension is either a known size or `nil` (unknown until run time). A dimension of
/// static size 1 is *broadcastable*: elementwise operations stretch it to the size of the
/// other operands. Broadcasting is decided here, at graph construction, never at run time.
///
/// A type's `format` says how its values are stored: dense arrays, or sparse matrices (CSR or
/// CSC, see ``SparseMatrix``) that only the ops conforming to ``SparseOp`` accept.
public struct TensorType: Hashable, Sendable, CustomStringConvertible {
    /// The element type.
    public var dtype: DType
    /// The static shape: each dimension's size, or `nil` where it is known only at run time.
    public var shape: [Int?]
    /// How the values are stored.
    public var format: StorageFormat

    /// The type of tensors of `dtype` with the static shape `shape`, stored as `format`.
    public init(_ dtype: DType, shape: [Int?], format: StorageFormat = .dense) {
        self.dtype = dtype
        self.shape = shape
        self.format = format
    }

    /// The number of dimensions.
    public var ndim: Int { shape.count }

    /// Whether values are sparse matrices.
    public var isSparse: Bool { format != .dense }

    /// For each dimension, whether its static size is 1 (a sparse matrix never broadcasts).
    public var broadcastable: [Bool] { shape.map { $0 == 1 && !isSparse } }

    /// The number of elements, when every dimension is known.
    public var staticSize: Int? {
        // A product beyond Int is as good as infinite here: `Int.max`.
        shape.reduce(Int?.some(1)) { acc, dim in
            acc.flatMap { a in dim.map { size in a.multipliedReportingOverflow(by: size).overflow ? Int.max : a * size } }
        }
    }

    /// The same shape with another dtype.
    public func with(dtype: DType) -> TensorType { TensorType(dtype, shape: shape, format: format) }

    /// Whether a variable of type `other` may stand where one of this type stood: same dtype,
    /// rank and broadcastable dimensions, and no known size contradicted.
    public func fits(_ other: TensorType) -> Bool {
        other.dtype == dtype && other.format == format && other.broadcastable == broadcastable
            && zip(shape, other.shape).allSatisfy { $0 == nil || $1 == nil || $0 == $1 }
    }

    /// Whether `value` may be given for a variable of this type: its dtype, storage format
    /// and shape.
    public func accepts(_ value: NDArray) -> Bool {
        value.dtype == dtype && value.format == format && accepts(shape: value.shape)
    }

    /// Whether a concrete shape is compatible with this type.
    public func accepts(shape concrete: [Int]) -> Bool {
        guard concrete.count == shape.count else { return false }
        for d in shape.indices where shape[d] != nil && shape[d] != concrete[d] { return false }
        return true
    }

    /// Renders as `float32[?, 784]`; a scalar is `float32[]`; a sparse matrix `csr float32[?, 784]`.
    public var description: String {
        (isSparse ? "\(format) " : "") + "\(dtype)[\(shape.map { $0.map(String.init) ?? "?" }.joined(separator: ", "))]"
    }
}

/// How a tensor's values are stored.
public enum StorageFormat: String, Hashable, Sendable, CustomStringConvertible {
    /// A strided array of every element (``NDArray``).
    case dense
    /// A sparse matrix, compressed by rows: each row's stored columns and values.
    case csr
    /// A sparse matrix, compressed by columns: each column's stored rows and values.
    case csc

    public var description: String { rawValue }
}
