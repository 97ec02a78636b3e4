/// The order in which ``einsum(_:_:fileID:line:)`` multiplies its operands two at a time.
///
/// Each step multiplies two operands and sums the indices that nothing after it needs (not
/// in the output, not in another operand). A step costs the product of the sizes of every
/// index its two operands carry (its multiply-adds). With every size known the path is the
/// cheapest of all orders for up to four operands, and greedy beyond: the cheapest next pair
/// among those that share an index (outer products only when no pair shares one). Where a
/// size is not known the operands are multiplied left to right.
struct EinsumPath: Equatable {
    /// One multiplication: the operands at `first` and `second` (`first < second`) of the list
    /// as it stands before the step; their product takes the place of `first` and `second`
    /// is removed.
    struct Step: Equatable, CustomStringConvertible {
        let first: Int, second: Int

        var description: String { "(\(first), \(second))" }
    }

    /// The multiplications, in order.
    let steps: [Step]
    /// The estimated multiply-adds of all steps; `nil` when some size is unknown.
    let cost: Double?

    /// Operands with the (distinct) indices `terms`, of which `output` are kept; `sizes`
    /// holds the size of each index known when the graph is built.
    init(terms: [[Int]], output: [Int], sizes: [Int: Int]) {
        let sets = terms.map(Set.init), kept = Set(output)
        guard sets.allSatisfy({ $0.allSatisfy { sizes[$0] != nil } }) else {
            steps = Array(repeating: Step(first: 0, second: 1), count: Swift.max(terms.count - 1, 0))
            cost = nil
            return
        }
        let planner = Planner(output: kept, sizes: sizes)
        (steps, cost) = terms.count <= 4 ? planner.cheapest(sets) : planner.greedy(sets)
    }
}

/// The cost model of ``EinsumPath`` and its two searches.
private struct Planner {
    let output: Set<Int>
    let sizes: [Int: Int]

    /// The multiply-adds of multiplying `a` and `b`.
    func cost(_ a: Set<Int>, _ b: Set<Int>) -> Double {
        a.union(b).reduce(1.0) { $0 * Double(sizes[$1]!) }
    }

    /// The operands after multiplying those at `i` and `j`: their product keeps the indices
    /// the output or another operand needs.
    func contracting(_ terms: [Set<Int>], _ i: Int, _ j: Int) -> [Set<Int>] {
        let needed = terms.indices.filter { $0 != i && $0 != j }.reduce(output) { $0.union(terms[$1]) }
        var rest = terms
        rest[i] = terms[i].union(terms[j]).intersection(needed)
        rest.remove(at: j)
        return rest
    }

    /// Every order tried: the cheapest.
    func cheapest(_ terms: [Set<Int>]) -> (steps: [EinsumPath.Step], cost: Double) {
        guard terms.count > 1 else { return ([], 0) }
        var best: (steps: [EinsumPath.Step], cost: Double)?
        for i in terms.indices {
            for j in (i + 1)..<terms.count {
                let rest = cheapest(contracting(terms, i, j))
                let total = cost(terms[i], terms[j]) + rest.cost
                if best == nil || total < best!.cost { best = ([EinsumPath.Step(first: i, second: j)] + rest.steps, total) }
            }
        }
        return best!
    }

    /// At each step the cheapest pair sharing an index (any pair when none does).
    func greedy(_ start: [Set<Int>]) -> (steps: [EinsumPath.Step], cost: Double) {
        var terms = start, steps: [EinsumPath.Step] = [], total = 0.0
        while terms.count > 1 {
            let pairs = terms.indices.flatMap { i in ((i + 1)..<terms.count).map { (i, $0) } }
            let sharing = pairs.filter { !terms[$0.0].isDisjoint(with: terms[$0.1]) }
            let candidates = sharing.isEmpty ? pairs : sharing
            let (i, j) = candidates.min { cost(terms[$0.0], terms[$0.1]) < cost(terms[$1.0], terms[$1.1]) }!
            total += cost(terms[i], terms[j])
            steps.append(EinsumPath.Step(first: i, second: j))
            terms = contracting(terms, i, j)
        }
        return (steps, total)
    }
}
