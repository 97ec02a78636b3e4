import TheanoCore

// Subscripts of sparse matrices, as SciPy's: rows and columns by position, slice or list of
// positions give a sparse submatrix; one row and one column give the element.

/// The submatrix of a sparse matrix that a subscript selects along each axis, a sparse matrix
/// of the same format (SciPy's `s[rows, columns]`): one position keeps its axis with size 1,
/// a slice keeps what it selects, a list of positions (an integer vector input, negative
/// positions counting from the end, repeats allowed) keeps those lines in its order.
///
/// Its second output is, for each stored value of the submatrix, the entry of the input's
/// stored values it copies: the gradient scatters the submatrix's gradient back through it,
/// at the input's structure.
public struct SparseSelection: DifferentiableOp, ForwardDifferentiableOp, SparseOp {
    /// What a subscript keeps along one axis.
    public enum Lines: Hashable, Sendable, CustomStringConvertible {
        /// A position or a slice, with its symbolic bounds as scalar inputs.
        case entry(SubtensorEntry)
        /// The positions an integer vector input lists.
        case list

        public var description: String {
            switch self {
            case .entry(let entry): entry.description
            case .list: "[…]"
            }
        }

        /// How many inputs this axis's selection reads.
        var inputCount: Int {
            switch self {
            case .entry(let entry): entry.symbolicCount
            case .list: 1
            }
        }
    }

    public let rows: Lines, columns: Lines

    package init(rows: Lines, columns: Lines) { (self.rows, self.columns) = (rows, columns) }

    public var description: String { "sparse_selection[\(rows), \(columns)]" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let s = inputs[0]
        guard s.isSparse, inputs.count == 1 + rows.inputCount + columns.inputCount else {
            throw OpError("selects from a sparse matrix with the bounds and lists its subscript names")
        }
        let operands = inputs.dropFirst()
        guard operands.allSatisfy({ $0.dtype.isInteger && !$0.isSparse }) else { throw OpError("positions must be integers") }
        var next = operands.startIndex
        let sizes = try [rows, columns].enumerated().map { axis, lines -> Int? in
            defer { next += lines.inputCount }
            switch lines {
            case .list:
                guard operands[next].ndim == 1 else { throw OpError("a list of positions is an integer vector") }
                return operands[next].shape[0]
            case .entry(.index): return 1
            case .entry(.slice(let start, let stop, let step)):
                guard let size = s.shape[axis], start != .symbolic, stop != .symbolic, step != .symbolic else { return nil }
                func value(_ bound: IndexBound) -> Int? { if case .constant(let v) = bound { v } else { nil } }
                return sliceExtent(start: value(start), stop: value(stop), step: value(step) ?? 1, size: size).count
            }
        }
        return [TensorType(s.dtype, shape: sizes, format: s.format), TensorType(.int64, shape: [nil])]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let s = try sparseOperand(inputs[0])
        var next = 1
        let selected = try [rows, columns].enumerated().map { axis, lines -> [Int]? in
            defer { next += lines.inputCount }
            return try positions(lines, inputs[next..<(next + lines.inputCount)], axis: axis, size: s.shape[axis])
        }
        let (submatrix, sources) = s.selecting(rows: selected[0], columns: selected[1])
        return [NDArray(sparse: submatrix), NDArray(sources.map(Int64.init))]
    }

    /// The positions `lines` selects along an axis of `size` (`nil`: every one, in order).
    private func positions(_ lines: Lines, _ operands: ArraySlice<NDArray>, axis: Int, size: Int) throws -> [Int]? {
        switch lines {
        case .list:
            return try wrappedPositions(operands.first!, axis: axis, size: size)
        case .entry(let entry):
            if entry == .slice(.none, .none, .none) { return nil }
            let scalars = operands.map { Int($0.cast(to: .int64).elements(as: Int64.self)[0]) }
            // Resolved against a 1-d extent, the entry's own axis.
            switch try resolve([entry], scalars: scalars, shape: [size])[0] {
            case .index(let position): return [position]
            case .slice(let start, let count, let step): return (0..<count).map { start + $0 * step }
            }
        }
    }

    public func isConnected(toInput index: Int) -> Bool { index == 0 }

    /// The submatrix's gradient, added into zeros at the entries it copies (repeats add up).
    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        let nothing = [Variable?](repeating: nil, count: node.inputs.count)
        guard let g = outputGradients[0] else { return nothing }
        let (s, location) = (node.inputs[0], node.location)
        return try SourceLocation.attributing(to: location) {
            let stored = try zerosLike(SparseValues()(s, at: location))
            let scattered = try incSubtensor(stored[node.output(1)], SparseValues()(g, at: location))
            return [try SparseWithValues()([s, scattered], at: location)] + nothing.dropFirst()
        }
    }

    /// Linear in the matrix: a tangent of its structure selects as the matrix does.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        guard let ds = inputTangents[0] else { return [nil, nil] }
        return [try apply([ds] + node.inputs.dropFirst(), at: node.location).output(0), nil]
    }
}

extension SparseMatrix {
    /// The submatrix of the rows `rows` and columns `columns` (`nil`: all, in order), repeats
    /// included, and for each of its stored values the entry of this matrix it copies.
    func selecting(rows: [Int]?, columns: [Int]?) -> (SparseMatrix, sources: [Int]) {
        let (lines, positions) = format == .csr ? (rows, columns) : (columns, rows)
        let (major, minor) = majorMinor
        // Where each minor position of this matrix lands in the submatrix (one list per position).
        var landing: [[Int]]? = nil
        if let positions {
            var lists = [[Int]](repeating: [], count: minor)
            for (new, old) in positions.enumerated() { lists[old].append(new) }
            landing = lists
        }
        var indices: [Int] = [], sources: [Int] = [], indptr = [0]
        var line: [(position: Int, source: Int)] = []
        for old in lines ?? Array(0..<major) {
            let entries = self.indptr[old]..<self.indptr[old + 1]
            if let landing {
                line.removeAll(keepingCapacity: true)
                for entry in entries { for new in landing[self.indices[entry]] { line.append((new, entry)) } }
                line.sort { ($0.position, $0.source) < ($1.position, $1.source) }
                indices += line.map(\.position)
                sources += line.map(\.source)
            } else {
                indices += self.indices[entries]
                sources += entries
            }
            indptr.append(indices.count)
        }
        let newMajor = indptr.count - 1, newMinor = positions?.count ?? minor
        let selectedShape = format == .csr ? [newMajor, newMinor] : [newMinor, newMajor]
        return (SparseMatrix(unchecked: format, shape: selectedShape, data: data.gathered(sources), indices: indices, indptr: indptr), sources)
    }
}

/// The elements of a sparse matrix at the positions `(rows[t], columns[t])` (inputs: the
/// matrix and two integer vectors of one length, negative positions counting from the end),
/// a dense vector: zero where nothing is stored, the sum where a position is stored twice.
/// NumPy's and Theano's `s[rows, columns]` with two lists. Linear in the matrix; its adjoint
/// is ``SparseElementsAdjoint``.
public struct SparseElements: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp, SparseOp {
    package init() {}

    public var description: String { "sparse_elements" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        try elementPositionTypes(inputs[0], inputs[1], inputs[2])
        return [TensorType(inputs[0].dtype, shape: [inputs[1].shape[0] ?? inputs[2].shape[0]])]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let s = try sparseOperand(inputs[0])
        let positions = try elementPositions(inputs[1], inputs[2], shape: s.shape)
        let values = s.data.cast(to: .float64).elements(as: Double.self)
        var found = [Double](repeating: 0, count: positions.count)
        let lookups = s.lookups(positions)
        for (lookup, entry) in lookups { found[lookup] += values[entry] }
        return [NDArray(found, shape: [found.count]).cast(to: s.dtype)]
    }

    public func isConnected(toInput index: Int) -> Bool { index == 0 }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return [nil, nil, nil] }
        return [try SparseElementsAdjoint()([node.inputs[0], g, node.inputs[1], node.inputs[2]], at: node.location), nil, nil]
    }

    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        try linearPushforward(node, inputTangents: inputTangents, linear: [0])
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { [inputShapes[1]] }
}

/// The adjoint of ``SparseElements``: a sparse matrix of the structure of the first input
/// (whose values are not read) whose stored values are the sums of `values[t]` over the
/// positions `(rows[t], columns[t])` that name them (inputs: the matrix, the values, the rows
/// and the columns). Linear in the values.
public struct SparseElementsAdjoint: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp, SparseOp {
    package init() {}

    public var description: String { "sparse_elements_adjoint" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        try elementPositionTypes(inputs[0], inputs[2], inputs[3])
        guard inputs[1].ndim == 1, !inputs[1].isSparse else { throw OpError("expects a vector of values, one per position") }
        return [TensorType(inputs[1].dtype, shape: inputs[0].shape, format: inputs[0].format)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let s = try sparseOperand(inputs[0])
        let positions = try elementPositions(inputs[2], inputs[3], shape: s.shape)
        guard inputs[1].count == positions.count else { throw OpError("\(inputs[1].count) values for \(positions.count) positions") }
        let given = inputs[1].cast(to: .float64).contiguous().elements(as: Double.self)
        var sums = [Double](repeating: 0, count: s.storedCount)
        for (lookup, entry) in s.lookups(positions) { sums[entry] += given[lookup] }
        return [NDArray(sparse: s.withData(NDArray(sums, shape: [sums.count]).cast(to: inputs[1].dtype)))]
    }

    public func isConnected(toInput index: Int) -> Bool { index == 1 }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0] else { return [nil, nil, nil, nil] }
        return [nil, try SparseElements()([g, node.inputs[2], node.inputs[3]], at: node.location), nil, nil]
    }

    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        try linearPushforward(node, inputTangents: inputTangents, linear: [1])
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { [inputShapes[0]] }
}

/// Checks the types of a sparse matrix and the two position vectors that name its elements.
private func elementPositionTypes(_ s: TensorType, _ rows: TensorType, _ columns: TensorType) throws {
    guard s.isSparse, [rows, columns].allSatisfy({ $0.ndim == 1 && $0.dtype.isInteger && !$0.isSparse }) else {
        throw OpError("expects a sparse matrix and two integer vectors of positions")
    }
    if let x = rows.shape[0], let y = columns.shape[0], x != y { throw OpError("\(x) rows and \(y) columns") }
}

/// The positions two vectors name in a matrix of `shape`, wrapped and checked.
private func elementPositions(_ rows: NDArray, _ columns: NDArray, shape: [Int]) throws -> [(row: Int, column: Int)] {
    guard rows.count == columns.count else { throw OpError("\(rows.count) rows and \(columns.count) columns") }
    let lists = try [rows, columns].enumerated().map { axis, list in try wrappedPositions(list, axis: axis, size: shape[axis]) }
    return Array(zip(lists[0], lists[1])).map { (row: $0, column: $1) }
}

/// The integer vector `list`'s positions along an axis of `size`, negative ones counted from
/// the end; throws for one outside.
private func wrappedPositions(_ list: NDArray, axis: Int, size: Int) throws -> [Int] {
    try list.cast(to: .int64).contiguous().elements(as: Int64.self).map { position in
        let wrapped = position < 0 ? Int(position) + size : Int(position)
        guard (0..<size).contains(wrapped) else { throw OpError("index \(position) is out of bounds for axis \(axis) with size \(size)") }
        return wrapped
    }
}

extension SparseMatrix {
    /// For each position looked up (by its number in `positions`), each stored entry at it.
    fileprivate func lookups(_ positions: [(row: Int, column: Int)]) -> [(lookup: Int, entry: Int)] {
        var found: [(lookup: Int, entry: Int)] = []
        for (lookup, position) in positions.enumerated() {
            let (line, minor) = format == .csr ? (position.row, position.column) : (position.column, position.row)
            for entry in indptr[line]..<indptr[line + 1] where indices[entry] == minor { found.append((lookup, entry)) }
        }
        return found
    }
}

/// A subscript of the sparse matrix `s`: positions (integers or integer scalars), slices and
/// integer vectors of positions along its two axes (missing axes take everything). Gives a
/// sparse matrix, as SciPy does (a position keeps its axis with size 1); the element when both
/// entries are positions; a dense vector of the elements at `(rows[t], columns[t])` when both
/// are vectors, as NumPy pairs them.
package func sparseSubscript(_ s: Variable, _ indices: [TensorIndex], at location: SourceLocation) throws -> Variable {
    func fail(_ reason: String) -> TheanoError { .invalidArgument(function: "subscript", reason: reason, location: location) }
    guard indices.count <= 2 else { throw fail("a sparse matrix takes at most two indices, not \(indices.count)") }
    if indices.count == 2, case .tensor(let rows) = indices[0], case .tensor(let columns) = indices[1],
       rows.ndim == 1, columns.ndim == 1, rows.dtype.isInteger, columns.dtype.isInteger {
        // Two lists pair up, as in NumPy: the elements at (rows[t], columns[t]).
        return try SparseElements()([s, cast(rows, to: .int64, at: location), cast(columns, to: .int64, at: location)], at: location)
    }
    var selections: [SparseSelection.Lines] = [], operands: [Variable] = [], positions = 0
    for (axis, index) in (indices + Array(repeating: TensorIndex.all, count: 2 - indices.count)).enumerated() {
        switch index {
        case .at(let position):
            if let size = s.type.shape[axis], position >= size || position < -size {
                throw fail("index \(position) is out of bounds for axis \(axis) with size \(size)")
            }
            selections.append(.entry(.index(.constant(position))))
            positions += 1
        case .slice(let start, let stop, let step):
            if step == 0 { throw fail("slice step cannot be zero") }
            let bound: (Int?) -> IndexBound = { $0.map(IndexBound.constant) ?? .none }
            selections.append(.entry(.slice(bound(start), bound(stop), bound(step))))
        case .tensor(let v) where v.dtype.isInteger && !v.isSparse && v.ndim <= 1:
            selections.append(v.ndim == 0 ? .entry(.index(.symbolic)) : .list)
            operands.append(try cast(v, to: .int64, at: location))
            if v.ndim == 0 { positions += 1 }
        case .tensor(let v):
            throw fail("a sparse matrix is indexed by integer scalars or vectors, not \(v.type)")
        case .expand:
            throw fail("a sparse matrix has no new axes")
        }
    }
    let selection = try SparseSelection(rows: selections[0], columns: selections[1]).apply([s] + operands, at: location).output(0)
    // One row and one column: the element (the sum of what is stored there, zero if nothing).
    return positions == 2 ? try reduction(.sum, SparseValues()(selection, at: location), axis: .all, keepDims: false, function: "subscript", at: location) : selection
}
