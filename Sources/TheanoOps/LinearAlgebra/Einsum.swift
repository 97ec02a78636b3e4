import TheanoCore

/// Einstein summation, as NumPy's `einsum`: `subscripts` names each operand's dimensions with
/// letters (indices), and the result multiplies the operands along equal indices and sums
/// the indices the output leaves out.
///
/// ```swift
/// let c = try einsum("ij,jk->ik", a, b)          // dot(a, b)
/// let t = try einsum("ii", m)                    // the trace
/// let d = try einsum("ii->i", m)                 // the diagonal
/// let o = try einsum("i,j->ij", u, v)            // the outer product
/// let s = try einsum("bij,bjk->bik", x, y)       // a batch of matrix products
/// let e = try einsum("...ij,...jk", x, y)        // broadcast over the leading dimensions
/// ```
///
/// - Terms are separated by commas, one per operand (an empty term for a scalar); after
///   `->` comes the output. Without `->` the output is `...` followed by the indices that
///   appear once, in alphabetical order (capitals first). Spaces are ignored.
/// - An index repeated within one operand takes the diagonal (`"ii->i"`); an index absent
///   from the output is summed; an index in several operands must have the same size in
///   each, or size 1 (statically), which broadcasts.
/// - `...` stands for the dimensions an operand has beyond its letters, broadcast across
///   operands as elementwise operations broadcast; the output must have `...` when those
///   dimensions exist.
/// - The result has the operands' common dtype (NumPy's result type): booleans compute in
///   `int64` and give `bool` (whether some product is `true`); integers wrap as NumPy's do.
///
/// No op computes `einsum`: it is lowered to the ops of the library, so gradients and both
/// backends come with it. Indices that only one operand carries are summed first; the
/// operands are then multiplied two at a time in the order that costs the fewest
/// multiply-adds (every order tried for up to four operands, the cheapest next pair beyond;
/// left to right where sizes are unknown). A pair sharing no summed index is an elementwise
/// product; one that sums indices is a matrix product (``dot(_:_:fileID:line:)``), or a
/// ``BatchedDot`` when it also shares indices the output keeps. Diagonals are gathers of
/// the positions `(i, i)`.
///
/// - Throws: ``TheanoError/invalidArgument(function:reason:location:)`` for subscripts that
///   do not parse (a character other than letters, `,`, `...` and `->`; an output index
///   repeated or absent from the inputs) and ``TheanoError/typeMismatch(op:inputs:reason:location:)``
///   when they do not fit the operands (a term per operand, a letter per dimension, one size
///   per index).
public func einsum(_ subscripts: String, _ operands: Variable..., fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try einsum(subscripts, operands, fileID: fileID, line: line)
}

/// ``einsum(_:_:fileID:line:)`` of operands in an array.
public func einsum(_ subscripts: String, _ operands: [Variable], fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    let equation = try EinsumEquation(subscripts, operands: operands, location: location)
    return try SourceLocation.attributing(to: location) {
        var lowering = try EinsumLowering(equation, operands: operands, location: location)
        return try lowering.result()
    }
}

// MARK: - Subscripts

/// The subscripts of an `einsum`, parsed and checked against the operands' types: the index
/// of each dimension of each operand and of the result. A letter is the index of its
/// character code; the dimensions an ellipsis stands for are the indices 128, 129, …,
/// aligned at the right as broadcasting aligns dimensions.
struct EinsumEquation {
    /// Each operand's indices, one per dimension (repeated for a diagonal).
    let inputs: [[Int]]
    /// The result's indices, distinct.
    let output: [Int]
    /// The static size of each index, where some operand fixes one other than 1 (or all
    /// operands carrying it fix 1).
    let sizes: [Int: Int]

    /// The first index an ellipsis dimension gets.
    static let ellipsisBase = 128

    init(_ subscripts: String, operands: [Variable], location: SourceLocation) throws {
        func invalid(_ reason: String) -> TheanoError {
            .invalidArgument(function: "einsum", reason: "subscripts \"\(subscripts)\" \(reason)", location: location)
        }
        func mismatch(_ reason: String) -> TheanoError {
            .typeMismatch(op: "einsum", inputs: operands.map(\.type), reason: "subscripts \"\(subscripts)\": \(reason)", location: location)
        }
        guard !operands.isEmpty else { throw invalid("need at least one operand") }
        let characters = Array(subscripts.unicodeScalars).filter { !$0.properties.isWhitespace }
        if let bad = characters.first(where: { !Self.isLetter($0) && !".,->".unicodeScalars.contains($0) }) {
            throw invalid("contain '\(bad)': indices must be letters (a-z, A-Z)")
        }
        // The one "->", if any: a '-' or '>' elsewhere is an error.
        var arrow: Int?
        for (i, c) in characters.enumerated() where c == "-" || c == ">" {
            let opensArrow = c == "-" && i + 1 < characters.count && characters[i + 1] == ">"
            guard opensArrow || (c == ">" && i > 0 && characters[i - 1] == "-") else { throw invalid("have a '\(c)' that is not part of '->'") }
            if opensArrow {
                guard arrow == nil else { throw invalid("have more than one '->'") }
                arrow = i
            }
        }
        let inputText = characters[..<(arrow ?? characters.count)]
        let terms = try inputText.split(separator: ",", omittingEmptySubsequences: false).enumerated().map { n, text in
            guard let term = Term(text) else { throw invalid("have a '.' that is not part of one ellipsis ('...') in operand \(n)") }
            return term
        }
        guard terms.count == operands.count else {
            throw mismatch("\(terms.count) term\(terms.count == 1 ? "" : "s") for \(operands.count) operand\(operands.count == 1 ? "" : "s")")
        }
        // The dimensions of each operand's ellipsis.
        let ellipsisDims = try zip(terms, operands).enumerated().map { n, pair in
            let (term, operand) = pair
            let extra = operand.ndim - term.letters.count
            guard extra >= 0, term.ellipsis != nil || extra == 0 else {
                let letters = "\(term.letters.count) ind\(term.letters.count == 1 ? "ex" : "ices")"
                throw mismatch("operand \(n) (\(operand.type)) has \(operand.ndim) dimension\(operand.ndim == 1 ? "" : "s") "
                               + "for \(letters)\(term.ellipsis == nil ? " and no '...'" : "")")
            }
            return extra
        }
        let broadcastRank = ellipsisDims.max()!
        let ellipsisIndices = Array(Self.ellipsisBase..<(Self.ellipsisBase + broadcastRank))
        let inputs = zip(terms, ellipsisDims).map { term, extra in term.indices(ellipsis: Array(ellipsisIndices.suffix(extra))) }
        self.inputs = inputs

        let appearances = Dictionary(inputs.joined().map { ($0, 1) }, uniquingKeysWith: +)
        if let arrow {
            guard let term = Term(characters[(arrow + 2)...]), !characters[(arrow + 2)...].contains(",") else {
                throw invalid("have an output that is not letters and at most one ellipsis ('...')")
            }
            if let repeated = term.letters.first(where: { letter in term.letters.filter { $0 == letter }.count > 1 }) {
                throw invalid("repeat the output index '\(Self.name(repeated))'")
            }
            if let unknown = term.letters.first(where: { appearances[$0] == nil }) {
                throw invalid("have the output index '\(Self.name(unknown))', which no operand has")
            }
            guard term.ellipsis != nil || broadcastRank == 0 else {
                throw mismatch("the operands' '...' stands for \(broadcastRank) dimension\(broadcastRank == 1 ? "" : "s"), but the output has no '...'")
            }
            output = term.indices(ellipsis: ellipsisIndices)
        } else {
            output = ellipsisIndices + appearances.filter { $0.key < Self.ellipsisBase && $0.value == 1 }.keys.sorted()
        }

        // One size per index: equal within an operand (a diagonal), equal or 1 across them.
        var sizes: [Int: Int] = [:], carriers: [Int: (operand: Int, size: Int)] = [:]
        for (n, indices) in inputs.enumerated() {
            var own: [Int: Int] = [:]
            for (d, index) in indices.enumerated() {
                guard let size = operands[n].staticShape[d] else { continue }
                if let other = own[index], other != size {
                    throw mismatch("index \(Self.describe(index)) of operand \(n) (\(operands[n].type)) takes a diagonal of dimensions of sizes \(other) and \(size)")
                }
                own[index] = size
            }
            for (index, size) in own {
                if let (m, other) = carriers[index], other != size, other != 1, size != 1 {
                    throw mismatch("index \(Self.describe(index)) has size \(other) in operand \(m) (\(operands[m].type)) "
                                   + "and \(size) in operand \(n) (\(operands[n].type))")
                }
                if size != 1 || carriers[index] == nil { carriers[index] = (n, size) }
            }
        }
        for (index, carrier) in carriers {
            // An index of static size 1 somewhere and unknown elsewhere has no static size.
            let unknown = inputs.indices.contains { n in inputs[n].indices.contains { inputs[n][$0] == index && operands[n].staticShape[$0] == nil } }
            if carrier.size != 1 || !unknown { sizes[index] = carrier.size }
        }
        self.sizes = sizes
    }

    /// Whether `c` is an ASCII letter.
    static func isLetter(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("A"..."Z").contains(c) }

    /// The letter of a letter index.
    static func name(_ index: Int) -> String { String(Character(Unicode.Scalar(UInt8(index)))) }

    /// A letter index as `'j'`, an ellipsis one as `'...' (broadcast dimension k)`.
    static func describe(_ index: Int) -> String {
        index < ellipsisBase ? "'\(name(index))'" : "'...' (broadcast dimension \(index - ellipsisBase))"
    }

    /// One term: its letters' indices, and where among them its ellipsis stands.
    private struct Term {
        let letters: [Int]
        let ellipsis: Int?

        /// `nil` unless the dots of `text` are one `...`.
        init?(_ text: some Collection<Unicode.Scalar>) {
            let dots = text.enumerated().filter { $0.element == "." }.map(\.offset)
            guard dots.isEmpty || (dots.count == 3 && dots[2] - dots[0] == 2) else { return nil }
            letters = text.filter { $0 != "." }.map { Int($0.value) }
            ellipsis = dots.first
        }

        /// The term's indices with the ellipsis replaced by `expansion`.
        func indices(ellipsis expansion: [Int]) -> [Int] {
            guard let ellipsis else { return letters }
            return Array(letters[..<ellipsis]) + expansion + Array(letters[ellipsis...])
        }
    }
}

// MARK: - Lowering

/// Builds an `einsum` from the ops of the library: diagonals, early sums, then pairwise
/// products in the order ``EinsumPath`` chooses, and a final transpose and cast.
struct EinsumLowering {
    /// An operand on the way: a tensor and the index of each of its dimensions.
    struct Term {
        var value: Variable
        var indices: [Int]
    }

    private(set) var terms: [Term]
    let equation: EinsumEquation
    let location: SourceLocation
    /// The dtype the operands are multiplied in, and the dtype of the result.
    let working: DType, resultType: DType

    init(_ equation: EinsumEquation, operands: [Variable], location: SourceLocation) throws {
        (self.equation, self.location) = (equation, location)
        resultType = DType.promote(operands.map(\.dtype))
        let working: DType = resultType == .bool ? .int64 : resultType
        self.working = working
        terms = try zip(operands, equation.inputs).map { operand, indices in
            Term(value: try cast(operand, to: working, at: location), indices: indices)
        }
    }

    /// The result: every operand's diagonals taken, size-1 dimensions broadcast, indices
    /// only one operand carries summed, then the pairwise products and the output's order.
    mutating func result() throws -> Variable {
        terms = try terms.map(diagonals)
        try broadcastSizeOneDimensions()
        for n in terms.indices {
            let needed = terms.indices.filter { $0 != n }.reduce(Set(equation.output)) { $0.union(terms[$1].indices) }
            terms[n] = try summed(terms[n], keeping: needed)
        }
        let path = EinsumPath(terms: terms.map(\.indices), output: equation.output, sizes: equation.sizes)
        for step in path.steps {
            let (a, b) = (terms[step.first], terms[step.second])
            terms.remove(at: step.second)
            terms.remove(at: step.first)
            let kept = terms.reduce(Set(equation.output)) { $0.union($1.indices) }
            terms.insert(try product(a, b, keeping: kept), at: step.first)
        }
        let last = terms[0]
        let order = equation.output.compactMap { last.indices.firstIndex(of: $0) }
        guard order.count == last.indices.count, order.count == equation.output.count else {
            throw TheanoError.invalidArgument(function: "einsum", reason: "lowering left indices \(last.indices) for the output \(equation.output)", location: location)
        }
        return try cast(arranged(last.value, order), to: resultType, at: location)
    }

    // MARK: Single operands

    /// `term` with each repeated index reduced to one dimension: the diagonal, gathered at
    /// positions `(i, i, …)` after moving the repeated dimensions to the front.
    private func diagonals(_ term: Term) throws -> Term {
        var term = term
        while let index = term.indices.first(where: { i in term.indices.filter { $0 == i }.count > 1 }) {
            let repeated = term.indices.indices.filter { term.indices[$0] == index }
            let others = term.indices.indices.filter { term.indices[$0] != index }
            var x = try arranged(term.value, repeated + others)
            let size: Variable
            if let known = repeated.lazy.compactMap({ term.value.staticShape[$0] }).first {
                size = Constant(NDArray(scalar: Int64(known)), location: location)
            } else {
                size = try x.dimensionSizes()[0]
            }
            if repeated.contains(where: { term.value.staticShape[$0] == nil }) {
                // Sizes known only at run time: the repeated dimensions must be equal.
                let sizes = try x.dimensionSizes()
                x = try SpecifyShape()([x] + sizes.indices.map { $0 < repeated.count ? size : sizes[$0] }, at: location)
            }
            let positions = try arange(size)
            x = try subtensor(x, Array(repeating: .tensor(positions), count: repeated.count), at: location)
            term = Term(value: x, indices: [index] + others.map { term.indices[$0] })
        }
        return term
    }

    /// Drops the dimensions of static size 1 whose index another operand carries with a
    /// size that may not be 1: the operand is constant along it, and broadcasts.
    private mutating func broadcastSizeOneDimensions() throws {
        for n in terms.indices {
            let term = terms[n]
            let dropped = term.indices.indices.filter { d in
                term.value.staticShape[d] == 1 && terms.indices.contains { m in
                    m != n && terms[m].indices.indices.contains { terms[m].indices[$0] == term.indices[d] && terms[m].value.staticShape[$0] != 1 }
                }
            }
            guard !dropped.isEmpty else { continue }
            let kept = term.indices.indices.filter { !dropped.contains($0) }
            terms[n] = Term(value: try DimShuffle(pattern: kept.map(DimPattern.input))([term.value], at: location),
                            indices: kept.map { term.indices[$0] })
        }
    }

    /// `term` with the indices outside `needed` summed.
    private func summed(_ term: Term, keeping needed: Set<Int>) throws -> Term {
        let summed = term.indices.indices.filter { !needed.contains(term.indices[$0]) }
        guard !summed.isEmpty else { return term }
        let total = try reduction(.sum, term.value, axis: Axes(summed), keepDims: false, function: "einsum", at: location)
        return Term(value: try cast(total, to: working, at: location), indices: term.indices.filter(needed.contains))
    }

    // MARK: Pairs

    /// The product of `a` and `b` with the indices outside `kept` summed.
    private func product(_ a: Term, _ b: Term, keeping kept: Set<Int>) throws -> Term {
        let shared = a.indices.filter(b.indices.contains)
        let batch = shared.filter(kept.contains), inner = shared.filter { !kept.contains($0) }
        let rows = a.indices.filter { !shared.contains($0) }, columns = b.indices.filter { !shared.contains($0) }
        if inner.isEmpty { return try elementwiseProduct(a, b) }
        if batch.isEmpty { return try matrixProduct(a, b, rows: rows, inner: inner, columns: columns) }
        if rows.isEmpty && columns.isEmpty {
            // Dot products along the kept indices: one fused loop, not a stack of 1×1 products.
            return try summed(elementwiseProduct(a, b), keeping: kept)
        }
        return try batchedProduct(a, b, batch: batch, rows: rows, inner: inner, columns: columns)
    }

    /// `a * b` broadcast over the indices only one of them carries: `a`'s indices, then `b`'s others.
    private func elementwiseProduct(_ a: Term, _ b: Term) throws -> Term {
        let extra = b.indices.filter { !a.indices.contains($0) }
        let indices = a.indices + extra
        let left = extra.isEmpty ? a.value
            : try DimShuffle(pattern: a.indices.indices.map(DimPattern.input) + extra.map { _ in .newAxis })([a.value], at: location)
        let pattern = indices.map { index in b.indices.firstIndex(of: index).map(DimPattern.input) ?? .newAxis }
        let right = pattern == b.indices.indices.map(DimPattern.input) ? b.value : try DimShuffle(pattern: pattern)([b.value], at: location)
        return Term(value: try elementwise(Multiply(), [left, right], at: location), indices: indices)
    }

    /// One ``dot(_:_:fileID:line:)`` of `a` as a (rows × inner) matrix and `b` as an
    /// (inner × columns) one (vectors where rows or columns are none).
    private func matrixProduct(_ a: Term, _ b: Term, rows: [Int], inner: [Int], columns: [Int]) throws -> Term {
        let left = try arranged(a, rows + inner), right = try arranged(b, inner + columns)
        let product = try dot(merged(left, groups: [rows.count, inner.count]), merged(right, groups: [inner.count, columns.count]))
        let sizes = try sizes(of: rows, in: a) + sizes(of: columns, in: b)
        return Term(value: try split(product, [rows.count, columns.count], sizes: sizes), indices: rows + columns)
    }

    /// One ``BatchedDot`` of `a` as a stack of (rows × inner) matrices and `b` as a stack of
    /// (inner × columns) ones.
    private func batchedProduct(_ a: Term, _ b: Term, batch: [Int], rows: [Int], inner: [Int], columns: [Int]) throws -> Term {
        let left = try arranged(a, batch + rows + inner), right = try arranged(b, batch + inner + columns)
        let stackA = try merged(left, groups: [batch.count, rows.count, inner.count], keepingEmpty: true)
        let stackB = try merged(right, groups: [batch.count, inner.count, columns.count], keepingEmpty: true)
        let product = try BatchedDot()([stackA, stackB], at: location)
        let sizes = try sizes(of: batch + rows, in: a) + sizes(of: columns, in: b)
        return Term(value: try split(product, [batch.count, rows.count, columns.count], sizes: sizes, keepingEmpty: true),
                    indices: batch + rows + columns)
    }

    // MARK: Shapes

    /// `term`'s tensor with its dimensions in the order of `indices`.
    private func arranged(_ term: Term, _ indices: [Int]) throws -> Variable {
        try arranged(term.value, indices.map { term.indices.firstIndex(of: $0)! })
    }

    /// `x` with its dimensions in the order `order` (itself when that is its own).
    private func arranged(_ x: Variable, _ order: [Int]) throws -> Variable {
        order == Array(0..<x.ndim) ? x : try DimShuffle(pattern: order.map(DimPattern.input))([x], at: location)
    }

    /// The sizes of `indices` in `term`: constants where some operand fixes them.
    private func sizes(of indices: [Int], in term: Term) throws -> [Variable] {
        let own = try term.value.dimensionSizes()
        return indices.map { index in
            equation.sizes[index].map { Constant(NDArray(scalar: Int64($0)), location: location) } ?? own[term.indices.firstIndex(of: index)!]
        }
    }

    /// `x` with each run of consecutive dimensions counted by `groups` merged into one; an
    /// empty run becomes no dimension, or one of size 1 when `keepingEmpty`.
    private func merged(_ x: Variable, groups: [Int], keepingEmpty: Bool = false) throws -> Variable {
        if groups.allSatisfy({ $0 == 1 || ($0 == 0 && !keepingEmpty) }) { return x }
        let sizes = try x.dimensionSizes(), one = Constant(NDArray(scalar: Int64(1)), location: location)
        var start = 0, merged: [Variable] = []
        for count in groups {
            if count > 0 || keepingEmpty { merged.append(try sizeProduct([one] + sizes[start..<(start + count)], at: location)) }
            start += count
        }
        return try reshape(x, sizes: merged, at: location)
    }

    /// The inverse of ``merged(_:groups:keepingEmpty:)``: each merged dimension split into
    /// the `sizes` of its run.
    private func split(_ x: Variable, _ groups: [Int], sizes: [Variable], keepingEmpty: Bool = false) throws -> Variable {
        if groups.allSatisfy({ $0 == 1 || ($0 == 0 && !keepingEmpty) }) { return x }
        return try reshape(x, sizes: sizes, at: location)
    }
}
