import TheanoCore

// Building blocks of the ops' pushforward rules: most ops are linear in their tensor inputs
// (shapes, subscripts, joins) or linear in each of several factors (products), and their
// tangents follow from that alone.

extension Op {
    /// The pushforward of an op linear in its inputs at `linear` (the other inputs — sizes,
    /// indices — only parameterize it): the op itself applied to the tangents, zeros standing
    /// for the linear inputs that do not change. No tangents when none of them changes.
    func linearPushforward(_ node: Apply, inputTangents: [Variable?], linear: some Sequence<Int>) throws -> [Variable?] {
        var operands = node.inputs
        var changes = false
        for index in linear {
            if let tangent = inputTangents[index] {
                operands[index] = tangent
                changes = true
            } else {
                operands[index] = try zerosLike(node.inputs[index])
            }
        }
        guard changes else { return node.outputs.map { _ in nil } }
        return try apply(operands, at: node.location).outputs
    }
}

/// The tangent of `product(factors)` for a map linear in each factor separately (a dot
/// product, `α·A·B`): the sum, over the factors that change, of the map with that factor
/// replaced by its tangent — the product rule. `nil` when no factor changes.
func productRule(_ factors: [Variable], tangents: [Variable?], _ product: ([Variable]) throws -> Variable) throws -> Variable? {
    var total: Variable?
    for (index, tangent) in tangents.enumerated() {
        guard let tangent else { continue }
        var replaced = factors
        replaced[index] = tangent
        total = try total.adding(product(replaced))
    }
    return total
}

extension Optional<Variable> {
    /// `self + term`, or `term` when there is nothing yet: how contributions from several
    /// paths or operands add up.
    package func adding(_ term: Variable) throws -> Variable {
        try map { try $0 + term } ?? term
    }
}
