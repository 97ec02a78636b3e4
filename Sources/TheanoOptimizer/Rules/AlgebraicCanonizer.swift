import TheanoCore
import TheanoOps

/// Theano's add and mul canonizers: a tree of `+ - neg` (or `* / reciprocal`) is read as a
/// list of signed terms (or factors above and below a fraction bar), equal terms on both
/// sides cancel (`x - x`, `x * y / x`), constants are gathered into one, a constant 0 term
/// (or 1 factor) disappears, and the tree is rebuilt. Subtrees read elsewhere are kept
/// whole, so no work is duplicated.
struct AlgebraicCanonizer {
    /// Which family of ops: additive (`+ - neg`) or multiplicative (`* / reciprocal`).
    enum Family { case additive, multiplicative }

    package let family: Family

    package init(family: Family) {
        self.family = family
    }

    /// A term (or factor) and whether it is added (or in the numerator).
    private struct Term {
        let value: Variable
        let positive: Bool
    }

    package func rewrite(_ node: Apply, _ context: RewriteContext) throws -> [Variable]? {
        let root = node.output(0)
        // A tree is read once, from its root: a node whose one reader is of the family is part
        // of that reader's tree (reading it again from every node would make a pass over a
        // chain of n additions cost n²).
        if context.readerCount(of: root) == 1, let reader = context.graph.readers(of: root).first, isInFamily(reader.node.op) {
            return nil
        }
        let terms = collect(root, context)
        var kept: [Term] = []
        let identity = NDArray(scalar: family == .additive ? 0 : 1, dtype: root.dtype)
        var constant = identity
        var constantCount = 0
        for term in terms {
            if let value = term.value.constantElement, term.value.ndim <= root.ndim {
                // Folded in the dtype's own arithmetic, so integers wrap as they would have.
                constant = try combine(constant, value.cast(to: root.dtype), term.positive)
                constantCount += 1
            } else {
                kept.append(term)
            }
        }
        let cancelled = cancel(&kept)
        let isIdentity = constant == identity
        // A lone identity constant is dropped unless it is the numerator of `1 / x`.
        let droppable = constantCount == 1 && isIdentity && (family == .additive || kept.contains(where: \.positive))
        guard cancelled || constantCount > 1 || droppable else { return nil }
        guard constant.scalar(as: Double.self).isFinite || kept.isEmpty else { return nil }
        // The driver broadcasts the result back if a cancelled term gave the output its size.
        return [try rebuild(kept, constant: isIdentity ? nil : constant, like: root)]
    }

    private func combine(_ total: NDArray, _ value: NDArray, _ positive: Bool) throws -> NDArray {
        let op: any ElementwiseOp = switch (family, positive) {
        case (.additive, true): Add()
        case (.additive, false): Subtract()
        case (.multiplicative, true): Multiply()
        case (.multiplicative, false): Divide()
        }
        return try op.perform([total, value])[0]
    }

    private func isInFamily(_ op: any Op) -> Bool {
        switch family {
        case .additive: op is Add || op is Subtract || op is Negate
        case .multiplicative: op is Multiply || op is Divide || op is Reciprocal
        }
    }

    /// Flattens the tree under `root`, descending only into nodes of the family read by
    /// nobody else; the terms in the order they appear from left to right. (A loop with a
    /// stack of its own: a tree can be a chain a hundred thousand deep.)
    private func collect(_ root: Variable, _ context: RewriteContext) -> [Term] {
        var terms: [Term] = []
        var pending = [(variable: root, positive: true)]
        while let (variable, positive) = pending.popLast() {
            guard let node = variable.owner, variable === root || context.readerCount(of: variable) == 1 else {
                terms.append(Term(value: variable, positive: positive))
                continue
            }
            switch (family, node.op) {
            case (.additive, is Add), (.multiplicative, is Multiply):
                pending += [(node.inputs[1], positive), (node.inputs[0], positive)]
            case (.additive, is Subtract), (.multiplicative, is Divide):
                pending += [(node.inputs[1], !positive), (node.inputs[0], positive)]
            case (.additive, is Negate), (.multiplicative, is Reciprocal):
                pending.append((node.inputs[0], !positive))
            default:
                terms.append(Term(value: variable, positive: positive))
            }
        }
        return terms
    }

    /// Removes pairs of the same variable on opposite sides (each term pairs with the
    /// earliest unpaired one of the other sign before it); whether any was removed.
    private func cancel(_ terms: inout [Term]) -> Bool {
        var unpaired: [ObjectIdentifier: (positive: [Int], negative: [Int])] = [:]
        var removed = Set<Int>()
        for (index, term) in terms.enumerated() {
            let key = ObjectIdentifier(term.value)
            var open = unpaired[key] ?? ([], [])
            if term.positive, !open.negative.isEmpty {
                removed.formUnion([open.negative.removeFirst(), index])
            } else if !term.positive, !open.positive.isEmpty {
                removed.formUnion([open.positive.removeFirst(), index])
            } else if term.positive {
                open.positive.append(index)
            } else {
                open.negative.append(index)
            }
            unpaired[key] = open
        }
        guard !removed.isEmpty else { return false }
        terms = terms.indices.filter { !removed.contains($0) }.map { terms[$0] }
        return true
    }

    /// The terms put back together: the positive ones combined, then the negative ones
    /// applied, then the constant.
    private func rebuild(_ terms: [Term], constant: NDArray?, like root: Variable) throws -> Variable {
        let constantTerm = constant.map { Constant($0, location: root.location) }
        let positives = terms.filter(\.positive).map(\.value) + (constantTerm.map { [$0] } ?? [])
        let negatives = terms.filter { !$0.positive }.map(\.value)
        let identity = Constant(NDArray(scalar: family == .additive ? 0 : 1, dtype: root.dtype), location: root.location)
        var result: Variable = try positives.dropFirst().reduce(positives.first ?? identity) { try apply($0, $1, positive: true) }
        if positives.isEmpty, let first = negatives.first, family == .additive {
            result = try -negatives.dropFirst().reduce(first) { try $0 + $1 }
            return result
        }
        for negative in negatives { result = try apply(result, negative, positive: false) }
        return result
    }

    private func apply(_ a: Variable, _ b: Variable, positive: Bool) throws -> Variable {
        switch (family, positive) {
        case (.additive, true): try a + b
        case (.additive, false): try a - b
        case (.multiplicative, true): try a * b
        case (.multiplicative, false): try a / b
        }
    }
}
