/// Matrix products of a sequence's element by a loop-invariant matrix, taken out of a
/// scan's step: `dot(x_t, W)` in the step becomes the element `t` of a new sequence
/// `dot(x, W)`, computed before the loop as one large product (and, in the gradient, `Wᵀ`'s
/// and `x`'s gradients become one large product each). Theano's tutorials do this by hand;
/// here it happens when the loop is built, before any gradient is taken.
struct LoopInvariantProducts {
    /// The new sequences (the products over whole sequences), with their sequences' taps.
    let sequences: [ScanSequence]
    /// The step's arguments for the new sequences' taps, in order.
    let arguments: [Variable]
    /// The step's results reading those arguments instead of computing the products.
    let results: [Variable]

    /// - Parameters:
    ///   - sequenceArguments: each sequence tap's argument, its sequence and its tap.
    ///   - nonSequenceArguments: each given non-sequence's argument and outer variable.
    ///   - arguments: all the step's arguments (anything depending on one is not invariant).
    init(results: [Variable], sequenceArguments: [(argument: Variable, sequence: ScanSequence, tap: Int)],
         nonSequenceArguments: [(argument: Variable, outer: Variable)], arguments: [Variable], location: SourceLocation) throws {
        let order = topologicalOrder(of: results, stoppingAt: Set(arguments))
        var dependent = Set(arguments)
        for node in order where node.inputs.contains(where: dependent.contains) { dependent.formUnion(node.outputs) }
        let outerOf = Dictionary(nonSequenceArguments.map { ($0.argument, $0.outer) }) { first, _ in first }
        var sequences: [ScanSequence] = [], newArguments: [Variable] = [], replacements: [Variable: Variable] = [:]
        var hoisted: [[ObjectIdentifier]: Int] = [:]  // one new sequence per sequence and matrix
        for node in order where node.op is Dot {
            guard let (_, sequence, tap) = sequenceArguments.first(where: { $0.argument === node.inputs[0] }),
                  node.inputs[1].ndim == 2 else { continue }
            let matrix = node.inputs[1]
            guard let outerMatrix = outerOf[matrix] ?? (dependent.contains(matrix) ? nil : matrix) else { continue }
            let key = [ObjectIdentifier(sequence.variable), ObjectIdentifier(outerMatrix)]
            if hoisted[key] == nil {
                hoisted[key] = sequences.count
                let product = try SourceLocation.attributing(to: location) { try dot(sequence.variable, outerMatrix) }
                sequences.append(ScanSequence(product, taps: sequence.taps))
                let element = TensorType(product.dtype, shape: Array(product.staticShape.dropFirst()))
                let name = "\(matrix.name ?? "W")·\(sequence.variable.name ?? "x")"
                newArguments += sequence.taps.map { _ in Variable(type: element, name: "\(name)[t]", location: location) }
            }
            let first = sequences[..<hoisted[key]!].reduce(0) { $0 + $1.taps.count }
            replacements[node.outputs[0]] = newArguments[first + sequence.taps.firstIndex(of: tap)!]
        }
        self.sequences = sequences
        self.arguments = newArguments
        self.results = replacements.isEmpty ? results : try substituting(replacements, in: results)
    }
}
