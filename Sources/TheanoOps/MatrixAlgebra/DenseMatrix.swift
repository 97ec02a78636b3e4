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

    /// The first `count` rows.
    func leadingRows(_ count: Int) -> DenseMatrix {
        var result = DenseMatrix(zeros: count, columns)
        for j in 0..<columns { for i in 0..<count { result[i, j] = self[i, j] } }
        return result
    }

    /// The matrix with the triangle on the other side of the diagonal set to zero.
    func triangle(lower: Bool) -> DenseMatrix {
        var result = self
        let rows = self.rows
        result.elements.withUnsafeMutableBufferPointer { elements in
            for j in 0..<columns {
                // Column j: rows above the diagonal (i < j) or below it (i > j).
                let range = lower ? 0..<Swift.min(j, rows) : Swift.min(j + 1, rows)..<rows
                for i in range { elements[j * rows + i] = 0 }
            }
        }
        return result
    }

    /// Calls `body` with the address of the elements, for LAPACK arguments it only reads
    /// (declared without `const` in Fortran's interface): no copy is made.
    func withReadOnlyPointer<R>(_ body: (UnsafeMutablePointer<Double>) throws -> R) rethrows -> R {
        var placeholder = 0.0
        return try elements.withUnsafeBufferPointer { buffer in
            // An empty matrix may have no address; LAPACK reads nothing of it but wants one.
            guard let address = buffer.baseAddress else { return try body(&placeholder) }
            return try body(UnsafeMutablePointer(mutating: address))
        }
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
    /// The elements, float64 and contiguous (row-major).
    private let values: NDArray

    /// The stack of `array`, which has at least 2 dimensions.
    init(_ array: NDArray) {
        batchShape = Array(array.shape.dropLast(2))
        (rows, columns) = (array.shape[array.ndim - 2], array.shape[array.ndim - 1])
        values = array.cast(to: .float64).contiguous()
    }

    /// The number of matrices.
    var count: Int { batchShape.reduce(1, *) }

    /// Matrix `index` of the stack, in column-major order.
    func matrix(_ index: Int) -> DenseMatrix {
        let (rows, columns) = (self.rows, self.columns), size = rows * columns
        let elements = [Double](unsafeUninitializedCapacity: size) { buffer, initialized in
            if let target = buffer.baseAddress, size > 0 {
                values.withUnsafePointer(to: Double.self) { source in transpose(source + index * size, rows: rows, columns: columns, into: target) }
            }
            initialized = size
        }
        return DenseMatrix(rows: rows, columns: columns, elements: elements)
    }

    /// Every matrix of the stack.
    var matrices: [DenseMatrix] { (0..<count).map(matrix) }

    /// `transform` of each matrix (all results `rows`×`columns`), stacked as `dtype`.
    func map(rows: Int, columns: Int, dtype: DType, _ transform: (DenseMatrix) throws -> DenseMatrix) rethrows -> NDArray {
        NDArray(matrices: try (0..<count).map { try transform(matrix($0)) }, batchShape: batchShape, rows: rows, columns: columns, dtype: dtype)
    }
}

extension NDArray {
    /// The matrices (all of one shape) stacked over `batchShape`, as `dtype`.
    init(matrices: [DenseMatrix], batchShape: [Int], rows: Int, columns: Int, dtype: DType) {
        let stacked = NDArray(uninitialized: batchShape + [rows, columns], dtype: .float64), size = rows * columns
        stacked.withUnsafeMutablePointer(to: Double.self) { target in
            for (index, matrix) in matrices.enumerated() {
                let start = target + index * size
                matrix.elements.withUnsafeBufferPointer { source in
                    if let source = source.baseAddress, size > 0 { transpose(source, rows: columns, columns: rows, into: start) }
                }
            }
        }
        self = stacked.cast(to: dtype)
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

/// Writes the transpose of the `rows`×`columns` row-major matrix at `source` to `target`
/// (`columns`×`rows`, row-major), in 8×8 tiles: a tile's eight rows share a cache set when
/// the row length is a power of two (512 doubles: 4 KiB apart), and eight fit its ways.
private func transpose(_ source: UnsafePointer<Double>, rows: Int, columns: Int, into target: UnsafeMutablePointer<Double>) {
    let tile = 8
    for rowStart in stride(from: 0, to: rows, by: tile) {
        let rowEnd = Swift.min(rowStart + tile, rows)
        for columnStart in stride(from: 0, to: columns, by: tile) {
            let columnEnd = Swift.min(columnStart + tile, columns)
            for j in columnStart..<columnEnd { for i in rowStart..<rowEnd { target[j * rows + i] = source[i * columns + j] } }
        }
    }
}
