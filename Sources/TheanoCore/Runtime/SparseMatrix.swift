/// A sparse matrix in compressed form, as SciPy's `csr_matrix` and `csc_matrix` store one:
/// CSR compresses by rows (the stored elements of row `i` are `data[indptr[i] ..< indptr[i + 1]]`,
/// in the columns `indices[…]`), CSC by columns.
///
/// The positions stored are the matrix's *structure*: an explicitly stored zero stays stored,
/// and the structured operations (``SparseOp``) keep structures as Theano's do. A value of this
/// type travels through compiled functions inside an ``NDArray`` (``NDArray/init(sparse:)``).
public struct SparseMatrix: Sendable, Equatable, CustomStringConvertible {
    /// `.csr` or `.csc`.
    public let format: StorageFormat
    /// `[rows, columns]`.
    public let shape: [Int]
    /// The stored values, in order of the major axis (rows for CSR), then as `indices` says.
    public let data: NDArray
    /// The minor-axis position (the column, for CSR) of each stored value.
    public let indices: [Int]
    /// Where each line of the major axis starts in `data`, and where the last ends.
    public let indptr: [Int]

    /// The matrix from its compressed parts; throws unless they describe one: a 1-d `data`
    /// and `indices` of one length, `indptr` of one more than the major size, nondecreasing from
    /// 0 to that length, and every index in range.
    public init(format: StorageFormat, shape: [Int], data: NDArray, indices: [Int], indptr: [Int]) throws {
        guard format != .dense else { throw OpError("a sparse matrix is CSR or CSC") }
        guard shape.count == 2, shape.allSatisfy({ $0 >= 0 }) else { throw OpError("a sparse matrix has two sizes, not \(shape)") }
        let (major, minor) = format == .csr ? (shape[0], shape[1]) : (shape[1], shape[0])
        guard data.ndim == 1, data.count == indices.count else {
            throw OpError("\(indices.count) indices for data of shape \(shapeText(data.shape))")
        }
        guard indptr.count == major + 1, indptr.first == 0, indptr.last == indices.count,
              zip(indptr, indptr.dropFirst()).allSatisfy({ $0 <= $1 }) else {
            throw OpError("indptr must rise from 0 to \(indices.count) in \(major + 1) steps")
        }
        if let bad = indices.first(where: { !(0..<minor).contains($0) }) {
            throw OpError("index \(bad) is outside the \(minor) \(format == .csr ? "columns" : "rows")")
        }
        self.init(unchecked: format, shape: shape, data: data.contiguous(), indices: indices, indptr: indptr)
    }

    package init(unchecked format: StorageFormat, shape: [Int], data: NDArray, indices: [Int], indptr: [Int]) {
        (self.format, self.shape, self.data, self.indices, self.indptr) = (format, shape, data, indices, indptr)
    }

    /// The nonzero elements of the 2-d array `dense` (NaNs included), in `format`.
    public init(dense: NDArray, format: StorageFormat = .csr) throws {
        guard dense.ndim == 2, dense.format == .dense else { throw OpError("expects a dense matrix, not \(shapeText(dense.shape))") }
        guard format != .dense else { throw OpError("a sparse matrix is CSR or CSC") }
        let byMajor = format == .csr ? dense : dense.transposed()
        let values = byMajor.cast(to: .float64).contiguous().elements(as: Double.self)
        let (major, minor) = (byMajor.shape[0], byMajor.shape[1])
        var indices: [Int] = [], kept: [Int] = [], indptr = [0]
        for line in 0..<major {
            for position in 0..<minor where values[line * minor + position] != 0 {
                indices.append(position)
                kept.append(line * minor + position)
            }
            indptr.append(indices.count)
        }
        let data = byMajor.contiguous().reshaped([major * minor]).gathered(kept)
        self.init(unchecked: format, shape: dense.shape, data: data, indices: indices, indptr: indptr)
    }

    /// The matrix of `shape` whose element `(rows[t], columns[t])` is `values[t]` (SciPy's
    /// `coo_matrix((values, (rows, columns)), shape).asformat(format)`): repeated positions add
    /// up, and a zero given is stored. Throws for a position outside `shape` or lists of
    /// different lengths.
    public init(format: StorageFormat, shape: [Int], rows: [Int], columns: [Int], values: NDArray) throws {
        self = try SparseMatrix.assembling(format: format, shape: shape, rows: rows, columns: columns, values: values).matrix
    }

    /// The matrix from triplets, as ``init(format:shape:rows:columns:values:)``, and for each
    /// triplet the entry its value went into.
    package static func assembling(format: StorageFormat, shape: [Int], rows: [Int], columns: [Int], values: NDArray)
        throws -> (matrix: SparseMatrix, entries: [Int]) {
        guard format != .dense, shape.count == 2, shape.allSatisfy({ $0 >= 0 }) else {
            throw OpError("a sparse matrix is CSR or CSC, with two sizes, not \(shape)")
        }
        guard values.ndim == 1, rows.count == values.count, columns.count == values.count else {
            throw OpError("\(rows.count) rows and \(columns.count) columns for \(shapeText(values.shape)) values")
        }
        for (axis, positions) in [rows, columns].enumerated() {
            if let bad = positions.first(where: { !(0..<shape[axis]).contains($0) }) {
                throw OpError("\(axis == 0 ? "row" : "column") \(bad) is outside a matrix of shape \(shapeText(shape))")
            }
        }
        let (lines, positions) = format == .csr ? (rows, columns) : (columns, rows)
        let major = format == .csr ? shape[0] : shape[1]
        // The triplets in storage order: by line, then by position within it.
        let order = values.count == 0 ? [] : (0..<values.count).sorted { (lines[$0], positions[$0], $0) < (lines[$1], positions[$1], $1) }
        let given = values.cast(to: .float64).contiguous().elements(as: Double.self)
        var indices: [Int] = [], sums: [Double] = [], entries = [Int](repeating: 0, count: values.count)
        var indptr = [Int](repeating: 0, count: major + 1)
        var previous: (line: Int, position: Int)? = nil
        for triplet in order {
            let key = (line: lines[triplet], position: positions[triplet])
            if let previous, previous == key {
                sums[sums.count - 1] += given[triplet]
            } else {
                indices.append(key.position)
                sums.append(given[triplet])
                indptr[key.line + 1] += 1
                previous = key
            }
            entries[triplet] = indices.count - 1
        }
        for line in 0..<major { indptr[line + 1] += indptr[line] }
        let data = NDArray(sums, shape: [sums.count]).cast(to: values.dtype)
        return (SparseMatrix(unchecked: format, shape: shape, data: data, indices: indices, indptr: indptr), entries)
    }

    /// The matrix of this structure with other stored values (one per stored position, in
    /// storage order; the caller has checked the count).
    package func withData(_ values: NDArray) -> SparseMatrix {
        SparseMatrix(unchecked: format, shape: shape, data: values.contiguous(), indices: indices, indptr: indptr)
    }

    /// The element type.
    public var dtype: DType { data.dtype }
    /// How many values are stored.
    public var storedCount: Int { indices.count }
    /// The sizes along the compressed axis and the other.
    package var majorMinor: (major: Int, minor: Int) { format == .csr ? (shape[0], shape[1]) : (shape[1], shape[0]) }

    /// The dense matrix, zeros where nothing is stored (duplicates add up).
    public func dense() -> NDArray {
        let (major, minor) = majorMinor
        var values = [Double](repeating: 0, count: major * minor)
        let stored = data.cast(to: .float64).elements(as: Double.self)
        for line in 0..<major {
            for entry in indptr[line]..<indptr[line + 1] { values[line * minor + indices[entry]] += stored[entry] }
        }
        let byMajor = NDArray(values, shape: [major, minor]).cast(to: dtype)
        return format == .csr ? byMajor : byMajor.transposed().contiguousCopy()
    }

    /// The transpose: the same parts read along the other axis (CSR becomes CSC), no copy.
    public var transposed: SparseMatrix {
        SparseMatrix(unchecked: format == .csr ? .csc : .csr, shape: [shape[1], shape[0]], data: data, indices: indices, indptr: indptr)
    }

    /// The same matrix stored in `format`.
    public func converted(to format: StorageFormat) throws -> SparseMatrix {
        if format == self.format { return self }
        // Reading a CSR matrix by columns is sorting its entries by column: a counting sort.
        let (major, minor) = majorMinor
        var counts = [Int](repeating: 0, count: minor + 1)
        for index in indices { counts[index + 1] += 1 }
        for position in 0..<minor { counts[position + 1] += counts[position] }
        var next = counts, order = [Int](repeating: 0, count: storedCount), newIndices = order
        for line in 0..<major {
            for entry in indptr[line]..<indptr[line + 1] {
                let slot = next[indices[entry]]
                next[indices[entry]] += 1
                order[slot] = entry
                newIndices[slot] = line
            }
        }
        return SparseMatrix(unchecked: format, shape: shape, data: data.gathered(order), indices: newIndices, indptr: counts)
    }

    public static func == (a: SparseMatrix, b: SparseMatrix) -> Bool {
        a.format == b.format && a.shape == b.shape && a.indices == b.indices && a.indptr == b.indptr && a.data == b.data
    }

    /// SciPy's print: the shape, format and count, then `(row, column)  value` per stored value.
    public var description: String {
        let values = data.elementsText
        var lines = ["<\(shape[0])x\(shape[1]) sparse matrix of type \(dtype) with \(storedCount) stored elements in \(format == .csr ? "Compressed Sparse Row" : "Compressed Sparse Column") format>"]
        for line in 0..<majorMinor.major {
            for entry in indptr[line]..<indptr[line + 1] {
                let (row, column) = format == .csr ? (line, indices[entry]) : (indices[entry], line)
                lines.append("  (\(row), \(column))\t\(values[entry])")
            }
        }
        return lines.joined(separator: "\n")
    }
}

extension NDArray {
    /// The elements at the flat positions `positions` of this 1-d array, in order.
    package func gathered(_ positions: [Int]) -> NDArray {
        struct Gather: ElementVisitor {
            let source: NDArray, positions: [Int]
            func visit<T: Element>(_: T.Type) -> NDArray {
                let result = NDArray(uninitialized: [positions.count], dtype: T.dtype)
                source.contiguous().withUnsafePointer(to: T.self) { values in
                    result.withUnsafeMutablePointer(to: T.self) { gathered in
                        for (slot, position) in positions.enumerated() { gathered[slot] = values[position] }
                    }
                }
                return result
            }
        }
        return dtype.visit(Gather(source: self, positions: positions))
    }
}
