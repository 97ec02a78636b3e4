import TheanoCore
import TheanoOps

/// Rules of the fusion phase: chains of elementwise ops become one `Composite`, which the
/// native backend compiles into one loop (one pass over memory instead of one per op); then
/// (``reductionFusion``) the composites that only feed a reduction go into it.
package let fusionRules: [Rewrite] = [elementwiseFusion]

/// Merges an elementwise producer into its elementwise consumer when the consumer is its
/// only reader and the producer is not broadcast into it (fusing a broadcast producer would
/// compute it again for every stretched element). Repeated to a fixpoint, whole chains fuse
/// — into composites of at most ``Composite/maximumFusedOperations`` operations and
/// ``Composite/maximumFusedInputs`` inputs, so that a chain of ten thousand ops becomes a
/// few hundred loops of a few kinds, which the C compiler handles quickly, rather than one
/// function it takes minutes over.
let elementwiseFusion = Rewrite.node("elementwise_fusion") { node, context in
    guard let consumer = fusible(node) else { return nil }
    let output = node.outputTypes[0]
    for (position, input) in node.inputs.enumerated() {
        guard let producerNode = input.owner, let producer = fusible(producerNode), context.readerCount(of: input) == 1,
              input.type.broadcastable == output.broadcastable,
              producer.operations.count + consumer.operations.count <= Composite.maximumFusedOperations else { continue }
        // New inputs: the consumer's other inputs, then the producer's not already there.
        var inputs = node.inputs
        inputs.remove(at: position)
        var producerValue: [Int] = []
        for variable in producerNode.inputs {
            if let existing = inputs.firstIndex(where: { $0 === variable }) {
                producerValue.append(existing)
            } else {
                inputs.append(variable)
                producerValue.append(inputs.count - 1)
            }
        }
        var operations: [Composite.Operation] = []
        // The producer's operations, renumbered after the new inputs.
        func renumbered(_ value: Int, base: [Int], firstOperation: Int, inputCount: Int) -> Int {
            value < inputCount ? base[value] : firstOperation + value - inputCount
        }
        for operation in producer.operations {
            operations.append(.init(op: operation.op, operands: operation.operands.map {
                renumbered($0, base: producerValue, firstOperation: inputs.count, inputCount: producer.inputDTypes.count)
            }, location: operation.location))
        }
        let producerResult = inputs.count + operations.count - 1
        // The consumer's inputs: the fused one is the producer's result, the others moved up.
        let consumerBase = node.inputs.indices.map { $0 == position ? producerResult : ($0 < position ? $0 : $0 - 1) }
        let consumerStart = inputs.count + operations.count
        for operation in consumer.operations {
            operations.append(.init(op: operation.op, operands: operation.operands.map {
                renumbered($0, base: consumerBase, firstOperation: consumerStart, inputCount: consumer.inputDTypes.count)
            }, location: operation.location))
        }
        guard inputs.count <= Composite.maximumFusedInputs else { continue }
        let fused = try Composite(inputDTypes: inputs.map(\.dtype), operations: operations)
        return [try fused(inputs, at: node.location)]
    }
    return nil
}

/// Merges an elementwise producer into the float sum, product, maximum or minimum that is its
/// only reader, when the reduced axes are one run and no operand of the producer is broadcast
/// (other than a single element): one loop computes and reduces, and the values in between
/// are never stored. Runs after ``elementwiseFusion`` has finished, on whole chains.
package let reductionFusion = Rewrite.node("reduction_fusion") { node, context in
    guard let reduce = node.op as? Reduce, [.sum, .prod, .max, .min].contains(reduce.kind), reduce.runOfAxes != nil,
          let producerNode = node.inputs[0].owner, let producer = fusible(producerNode), producer.valueDTypes.last!.isFloat,
          context.readerCount(of: node.inputs[0]) == 1,
          producerNode.inputs.allSatisfy({ $0.type.broadcastable == node.inputs[0].type.broadcastable || $0.staticShape.allSatisfy { $0 == 1 } })
    else { return nil }
    return [try ElementwiseReduce(reduce: reduce, program: producer)(producerNode.inputs, at: node.location)]
}

/// Moves the elementwise work that reads a random draw into the draw's loop
/// (``FusedDraw``): `x * (u < p) / p` fills its output straight from the generator, without
/// storing `u`. It applies when the elementwise node is the draw's only reader and each of
/// its other operands is a single element or provably of the draw's shape (the same
/// symbolic sizes), so the loop reads them at the draw's positions.
package let drawFusion = Rewrite.node("draw_fusion") { node, context in
    guard let epilogue = fusible(node) else { return nil }
    for (position, input) in node.inputs.enumerated() {
        guard let drawNode = input.owner, let draw = drawNode.op as? RandomDraw, context.readerCount(of: input) == 1,
              node.inputs.filter({ $0 === input }).count == 1, node.outputs[0].ndim == input.ndim else { continue }
        let sizes = drawNode.inputs.dropFirst().map(SymbolicSize.init)
        let operands = node.inputs.indices.filter { $0 != position }
        let single = Set(operands.filter { node.inputs[$0].staticShape.allSatisfy { $0 == 1 } })
        let fits = operands.allSatisfy { i in
            single.contains(i) || sizes.indices.allSatisfy { d in SymbolicSize(of: node.inputs[i], axis: d) == sizes[d] }
        }
        guard fits else { continue }
        let fused = FusedDraw(draw: draw, epilogue: epilogue, drawOperand: position, singleOperands: single)
        return [try fused(drawNode.inputs + operands.map { node.inputs[$0] }, at: node.location)]
    }
    return nil
}
