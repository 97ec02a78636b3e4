import TheanoCore

/// One float64 matrix in column-major order, the layout LAPACK takes.
struct DenseMatrix {
    var rows: Int, columns: Int
    var elements: [Double]

    init(rows: Int, columns: Int, elements: [Double]) {
        (self.rows, self.columns, self.elements) = (rows, columns, elements)
    }

    init(zeros rows: Int, _ columns: Int) {
        self.init(rows: rows, columns: columns, elements: Array(repeating: 0, count: rows * columns))
    }

    static func identity(_ size: Int) -> DenseMatrix {
        var identity = DenseMatrix(zeros: size, size)
        for i in 0..<size { identity[i, i] = 1 }
        return identity
    }

    subscript(row: Int, column: Int) -> Double {
        get { elements[column * rows + row] }
        set { elements[column * rows + row] = newValue }
    }

    /// The main diagonal.
    var diagonal: [Double] { (0..<Swift.min(rows, columns)).map { self[$0, $0] } }

    /// The first `count` columns.
    func leadingColumns(_ count: Int) -> DenseMatrix {
        DenseMatrix(rows: rows, columns: count, elements: Array(elements[0..<(rows * count)]))
    }

    /// The first `count` rows.
    func leadingRows(_ count: Int) -> DenseMatrix {
        var result = DenseMatrix(zeros: count, columns)
        for j in 0..<columns { for i in 0..<count { result[i, j] = self[i, j] } }
        return result
    }

    /// The matrix with the triangle on the other side of the diagonal set to zero.
    func triangle(lower: Bool) -> DenseMatrix {
        var result = self
        for j in 0..<columns { for i in 0..<rows where lower ? i < j : i > j { result[i, j] = 0 } }
        return result
    }

    /// The symmetric matrix whose both triangles are this matrix's `lower` (or upper) one.
    func symmetrized(fromLower lower: Bool) -> DenseMatrix {
        var result = self
        for j in 0..<columns { for i in 0..<j { if lower { result[i, j] = self[j, i] } else { result[j, i] = self[i, j] } } }
        return result
    }
}

/// The matrices along the last two axes of an array (a single matrix for a 2-d array), in
/// float64, with the leading axes as the batch.
struct MatrixStack {
    let batchShape: [Int]
    let rows: Int, columns: Int
    private let values: [Double]

    /// The stack of `array`, which has at least 2 dimensions.
    init(_ array: NDArray) {
        batchShape = Array(array.shape.dropLast(2))
        (rows, columns) = (array.shape[array.ndim - 2], array.shape[array.ndim - 1])
        values = array.cast(to: .float64).contiguous().elements(as: Double.self)
    }

    /// The number of matrices.
    var count: Int { batchShape.reduce(1, *) }

    /// Matrix `index` of the stack, in column-major order.
    func matrix(_ index: Int) -> DenseMatrix {
        var matrix = DenseMatrix(zeros: rows, columns)
        let start = index * rows * columns
        for i in 0..<rows { for j in 0..<columns { matrix[i, j] = values[start + i * columns + j] } }
        return matrix
    }

    /// Every matrix of the stack.
    var matrices: [DenseMatrix] { (0..<count).map(matrix) }

    /// `transform` of each matrix (all results `rows`×`columns`), stacked as `dtype`.
    func map(rows: Int, columns: Int, dtype: DType, _ transform: (DenseMatrix) throws -> DenseMatrix) rethrows -> NDArray {
        NDArray(matrices: try matrices.map(transform), batchShape: batchShape, rows: rows, columns: columns, dtype: dtype)
    }
}

extension NDArray {
    /// The matrices (all of one shape) stacked over `batchShape`, as `dtype`.
    init(matrices: [DenseMatrix], batchShape: [Int], rows: Int, columns: Int, dtype: DType) {
        var values = [Double]()
        values.reserveCapacity(matrices.count * rows * columns)
        for matrix in matrices { for i in 0..<rows { for j in 0..<columns { values.append(matrix[i, j]) } } }
        self = NDArray(values, shape: batchShape + [rows, columns]).cast(to: dtype)
    }

    /// The vectors (all of one length) stacked over `batchShape`, as `dtype`.
    init(vectors: [[Double]], batchShape: [Int], length: Int, dtype: DType) {
        self = NDArray(vectors.flatMap { $0 }, shape: batchShape + [length]).cast(to: dtype)
    }

    /// One number per matrix of a stack, over `batchShape`, as `dtype`.
    init(scalars: [Double], batchShape: [Int], dtype: DType) {
        self = NDArray(scalars, shape: batchShape).cast(to: dtype)
    }
}
