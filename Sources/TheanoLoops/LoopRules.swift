import TheanoCore
import TheanoOps
import TheanoOptimizer
import TheanoAutodiff

/// Rewrites of loops (``scan``), on the graph around them: parts of a loop nothing reads are
/// taken away, a history read only at its last row is kept as a window of its last rows,
/// loops over the same sequences become one, and gradient loops stop computing gradients
/// nothing reads. (Work that can leave the step leaves it when the loop is built:
/// ``LoopConstructionRewrite``.)
package let loopRewrites: [GraphPass] = [removeUnusedLoopParts, windowLoopHistories, mergeLoops, pruneLoopGradients]

/// Outputs of a loop that nothing reads, unless other outputs read them back, are no longer
/// computed; sequences and non-sequences the remaining step does not read are no longer
/// inputs (a sequence only when another one tells the same number of steps).
let removeUnusedLoopParts = GraphPass("scan_remove_unused") { graph in
    var changes = 0
    for node in graph.nodes where node.op is Scan && graph.contains(node) {
        var loop = LoopAssembly(node)
        var kept = Set(loop.outputs.indices.filter { isRead(node.outputs[$0], in: graph) })
        var read = Set<Variable>()
        while true {
            read = loop.argumentsRead(by: kept.map { loop.outputs[$0].result } + (loop.until.map { [$0] } ?? []))
            let more = loop.outputs.indices.filter { !kept.contains($0) && !read.isDisjoint(with: loop.outputs[$0].arguments) }
            if more.isEmpty { break }
            kept.formUnion(more)
        }
        let readSequences = loop.sequences.filter { !read.isDisjoint(with: $0.arguments) }
        let sequences = loop.sequences.filter { sequence in
            !read.isDisjoint(with: sequence.arguments) || !readSequences.contains { tellTheSameSteps($0, sequence) }
        }
        let nonSequences = loop.nonSequences.filter { read.contains($0.argument) }
        guard !kept.isEmpty, kept.count < loop.outputs.count || sequences.count < loop.sequences.count
                || nonSequences.count < loop.nonSequences.count else { continue }
        loop.outputs = loop.outputs.indices.filter(kept.contains).map { loop.outputs[$0] }
        (loop.sequences, loop.nonSequences) = (sequences, nonSequences)
        let rebuilt = try loop.build()
        for (output, new) in zip(loop.outputs, rebuilt.outputs) { try graph.replace(output.original, with: new) }
        changes += 1
    }
    return changes
}

/// A loop output read only at its last row (`h[-1]`, `h[k...][-1]`: a fold, a final state)
/// keeps only its last rows, so the loop needs memory for those rather than for every step.
let windowLoopHistories = GraphPass("scan_history_window") { graph in
    var changes = 0
    for node in graph.nodes where node.op is Scan && graph.contains(node) {
        var loop = LoopAssembly(node)
        var lastRowReads: [Int: [Apply]] = [:]
        for (j, output) in loop.outputs.enumerated() where !output.windowed {
            if let reads = lastRowReaders(of: output.original, in: graph) { lastRowReads[j] = reads }
        }
        guard !lastRowReads.isEmpty else { continue }
        for j in lastRowReads.keys { loop.outputs[j].windowed = true }
        let rebuilt = try loop.build()
        for (j, output) in loop.outputs.enumerated() {
            guard let reads = lastRowReads[j] else {
                try graph.replace(output.original, with: rebuilt.outputs[j])
                continue
            }
            for read in reads {
                let last = try read.op.apply([rebuilt.outputs[j]] + read.inputs.dropFirst(), at: read.location).output(0)
                try graph.replace(read.output(0), with: last)
            }
        }
        changes += 1
    }
    return changes
}

/// Two loops walking sequences of the same length (one at least, with taps of the same
/// extent), with the same number of steps and in the same direction, neither reading the
/// other, without `until`: one loop computing the outputs of both (Theano's scan merge).
/// Each step reads a sequence both loops walk once.
let mergeLoops = GraphPass("scan_merge") { graph in
    var changes = 0
    merging: while true {
        let loops = graph.nodes.filter { node in (node.op as? Scan).map { !$0.body.signature.hasUntil } ?? false }
        for (index, a) in loops.enumerated() {
            for b in loops[(index + 1)...] {
                guard let merged = joined(LoopAssembly(a), LoopAssembly(b)), !reads(b, a), !reads(a, b) else { continue }
                let rebuilt = try merged.build()
                for (output, new) in zip(merged.outputs, rebuilt.outputs) { try graph.replace(output.original, with: new) }
                changes += 1
                continue merging
            }
        }
        return changes
    }
}

/// A gradient loop no longer computes the gradients of sequences or non-sequences nothing
/// reads (the data a network reads, for example): neither their per-step pullbacks nor
/// their sums.
let pruneLoopGradients = GraphPass("scan_gradient_unused") { graph in
    var changes = 0
    for node in graph.nodes where node.op is ScanGradient && graph.contains(node) {
        let op = node.op as! ScanGradient, signature = op.body.signature
        var types = node.inputs.map(\.type)[...]
        let sequenceTypes = types.takeFirst(signature.sequenceTaps.count)
        _ = types.takeFirst(signature.outputTaps.count)
        let nonSequenceTypes = types.takeFirst(signature.nonSequenceCount)
        let gradients = op.outputGradients(sequenceTypes: sequenceTypes, nonSequenceTypes: nonSequenceTypes)
        var pruned = op
        var readProducts = Set<Int>()
        for (gradient, output) in zip(gradients, node.outputs) {
            switch (gradient, isRead(output, in: graph)) {
            case (.sequence(let i), false): pruned.skipped.sequences.insert(i)
            case (.nonSequence(let k), false): pruned.skipped.nonSequences.insert(k)
            case (.product(let p), true): readProducts.insert(op.body.batchedProducts[p].nonSequence)
            default: break
            }
        }
        // A batched matrix's gradient is unread when none of its products' cotangents is read.
        for case .product(let p) in gradients where !readProducts.contains(op.body.batchedProducts[p].nonSequence) {
            pruned.skipped.nonSequences.insert(op.body.batchedProducts[p].nonSequence)
        }
        guard pruned != op else { continue }
        let rebuilt = try pruned.apply(node.inputs, at: node.location)
        let kept = pruned.outputGradients(sequenceTypes: sequenceTypes, nonSequenceTypes: nonSequenceTypes)
        for (gradient, output) in zip(kept, rebuilt.outputs) { try graph.replace(node.outputs[gradients.firstIndex(of: gradient)!], with: output) }
        changes += 1
    }
    return changes
}

/// Whether anything but the graph's outputs list reads `variable`, or it is an output.
private func isRead(_ variable: Variable, in graph: FunctionGraph) -> Bool {
    graph.isOutput(variable) || !graph.readers(of: variable).isEmpty
}

/// The nodes reading the last row of `history` (`history[-1, …]`, or through a slice
/// `history[k...]` read only that way), when they are all that read it.
private func lastRowReaders(of history: Variable, in graph: FunctionGraph) -> [Apply]? {
    func readsLastRow(_ node: Apply) -> Bool {
        guard let op = node.op as? Subtensor, case .index(.constant(-1)) = op.entries.first else { return false }
        return true
    }
    guard !graph.isOutput(history) else { return nil }
    var reads: [Apply] = []
    for reader in graph.readers(of: history) {
        guard reader.position == 0 else { return nil }
        if readsLastRow(reader.node) {
            reads.append(reader.node)
            continue
        }
        guard let op = reader.node.op as? Subtensor, op.entries.count == 1, case .slice(.constant(let start), .none, .none) = op.entries[0],
              start >= 0, !graph.isOutput(reader.node.output(0)) else { return nil }
        let readers = graph.readers(of: reader.node.output(0))
        guard readers.allSatisfy({ $0.position == 0 && readsLastRow($0.node) }) else { return nil }
        reads += readers.map(\.node)
    }
    return reads.isEmpty ? nil : reads
}

/// Whether two sequences allow the same number of steps: the same taps' extent and the
/// same length (equal static lengths, or both computed along their first axis from one
/// variable, as ``WholeSequenceWork`` computes its sequences).
private func tellTheSameSteps(_ a: LoopAssembly.Sequence, _ b: LoopAssembly.Sequence) -> Bool {
    guard a.taps.max()! - a.taps.min()! == b.taps.max()! - b.taps.min()! else { return false }
    if let length = a.outer.staticShape[0], length == b.outer.staticShape[0] { return true }
    return !firstAxisSources(of: a.outer).isDisjoint(with: firstAxisSources(of: b.outer))
}

/// The variables whose first axis is `x`'s: `x`, and through products by a matrix and
/// elementwise work, the values it was computed from along that axis.
private func firstAxisSources(of x: Variable) -> Set<Variable> {
    var sources: Set<Variable> = [x]
    guard let node = x.owner else { return sources }
    let alongFirstAxis: [Variable]
    if node.op is Dot {
        alongFirstAxis = [node.inputs[0]]
    } else if node.op is any ElementwiseOp {
        alongFirstAxis = node.inputs.filter { $0.staticShape[0] != 1 }
    } else {
        alongFirstAxis = []
    }
    for input in alongFirstAxis where input.ndim == x.ndim { sources.formUnion(firstAxisSources(of: input)) }
    return sources
}

/// Whether `reader` depends on an output of `loop`.
private func reads(_ reader: Apply, _ loop: Apply) -> Bool {
    topologicalOrder(of: reader.inputs).contains { $0 === loop }
}

/// One loop doing the work of `a` and `b`, when they walk the same sequences the same way.
private func joined(_ a: LoopAssembly, _ b: LoopAssembly) -> LoopAssembly? {
    guard a.stepCount === b.stepCount, a.goBackwards == b.goBackwards, a.truncateGradient == b.truncateGradient,
          a.until == nil, b.until == nil,
          a.sequences.contains(where: { s in b.sequences.contains { tellTheSameSteps(s, $0) } }) else { return nil }
    var merged = a
    for sequence in b.sequences {
        if let shared = merged.sequences.first(where: { $0.outer === sequence.outer && $0.taps == sequence.taps }) {
            for (argument, kept) in zip(sequence.arguments, shared.arguments) { merged.aliases[argument] = kept }
        } else {
            merged.sequences.append(sequence)
        }
    }
    // The values kept for the gradient stay last.
    merged.outputs = a.outputs.filter { !$0.saved } + b.outputs.filter { !$0.saved } + a.outputs.filter(\.saved) + b.outputs.filter(\.saved)
    merged.nonSequences += b.nonSequences
    merged.aliases.merge(b.aliases) { first, _ in first }
    merged.constructionReports += b.constructionReports
    return merged
}
