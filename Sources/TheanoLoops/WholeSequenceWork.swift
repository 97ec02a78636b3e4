import TheanoCore
import TheanoOps
import TheanoOptimizer
import TheanoAutodiff

/// Work of a scan's step that depends only on sequence elements and loop-invariant values,
/// taken out of the step and done on whole sequences before the loop: `dot(x_t, W)` becomes
/// the element `t` of a new sequence `dot(x, W)` (one large product instead of one per step,
/// and in the gradient one large product for `W`'s and one for `x`'s), and elementwise work
/// on such values (`tanh(dot(x_t, W) + b)`, `2 * x_t`) follows it out. Theano's tutorials do
/// this by hand; here it happens when the loop is built, before any gradient is taken.
///
/// Work is taken out when every element it reads comes from one sequence at one tap; the new
/// sequence has that sequence's length and taps, so the loop's steps are unchanged.
struct WholeSequenceWork {
    /// The new sequences (values over whole sequences), with their sequences' taps.
    package let sequences: [ScanSequence]
    /// The step's arguments for the new sequences' taps, in order.
    package let arguments: [Variable]
    /// The step's results reading those arguments instead of doing the work.
    package let results: [Variable]

    /// A value of the step computed over a whole sequence: the outer value, the sequence it
    /// comes from and the tap it is read at.
    private struct WholeValue {
        let outer: Variable
        let sequence: ScanSequence
        let tap: Int
    }

    /// The step's results as they are, with no work taken out.
    package init(unchanged results: [Variable]) {
        (sequences, arguments, self.results) = ([], [], results)
    }

    /// - Parameters:
    ///   - sequenceArguments: each sequence tap's argument, its sequence and its tap.
    ///   - arguments: all the step's arguments (anything depending on one is not invariant).
    package init(results: [Variable], sequenceArguments: [(argument: Variable, sequence: ScanSequence, tap: Int)],
         arguments: [Variable], location: SourceLocation) throws {
        let order = topologicalOrder(of: results, stoppingAt: Set(arguments))
        var dependent = Set(arguments)
        for node in order where node.inputs.contains(where: dependent.contains) { dependent.formUnion(node.outputs) }
        var whole: [Variable: WholeValue] = [:]
        for (argument, sequence, tap) in sequenceArguments { whole[argument] = WholeValue(outer: sequence.variable, sequence: sequence, tap: tap) }
        var computed: [Variable] = []  // in the order they were taken out
        try SourceLocation.attributing(to: location) {
            for node in order where node.outputs.count == 1 {
                guard let value = try Self.wholeValue(of: node, whole: whole, dependent: dependent) else { continue }
                whole[node.outputs[0]] = value
                computed.append(node.outputs[0])
            }
        }
        // Only the values the step still needs become sequences: those read by work left in
        // the step, or results.
        let isComputed = Set(computed)
        var needed = Set(results.filter(isComputed.contains))
        for node in order where !node.outputs.contains(where: isComputed.contains) { needed.formUnion(node.inputs.filter(isComputed.contains)) }
        var sequences: [ScanSequence] = [], newArguments: [Variable] = [], replacements: [Variable: Variable] = [:]
        for variable in computed where needed.contains(variable) {
            let value = whole[variable]!
            let element = TensorType(value.outer.dtype, shape: Array(value.outer.staticShape.dropFirst()))
            let taps = value.sequence.taps
            let name = variable.name ?? "f(\(value.sequence.variable.name ?? "x"))"
            let tapArguments = taps.map { Variable(type: element, name: "\(name)[t\(tapText($0))]", location: location) }
            sequences.append(ScanSequence(value.outer, taps: taps))
            newArguments += tapArguments
            replacements[variable] = tapArguments[taps.firstIndex(of: value.tap)!]
        }
        self.sequences = sequences
        self.arguments = newArguments
        self.results = replacements.isEmpty ? results : try substituting(replacements, in: results)
    }

    /// `node` computed over a whole sequence, when it can be: a product of an element by an
    /// invariant matrix, or elementwise work on elements of one sequence at one tap and
    /// invariant values (which gain a leading broadcastable axis).
    private static func wholeValue(of node: Apply, whole: [Variable: WholeValue], dependent: Set<Variable>) throws -> WholeValue? {
        let read = node.inputs.compactMap { whole[$0] }
        guard let first = read.first, read.allSatisfy({ $0.sequence.variable === first.sequence.variable && $0.tap == first.tap }),
              node.inputs.allSatisfy({ whole[$0] != nil || !dependent.contains($0) }) else { return nil }
        if node.op is Dot {
            guard whole[node.inputs[0]] != nil, whole[node.inputs[1]] == nil, node.inputs[1].ndim == 2 else { return nil }
            return WholeValue(outer: try dot(first.outer, node.inputs[1]), sequence: first.sequence, tap: first.tap)
        }
        guard node.op is any ElementwiseOp else { return nil }
        let inputs = try node.inputs.map { input in
            try whole[input]?.outer ?? input.padded(toRank: input.ndim + 1, at: node.location)
        }
        return WholeValue(outer: try node.op.apply(inputs, at: node.location).output(0), sequence: first.sequence, tap: first.tap)
    }
}
