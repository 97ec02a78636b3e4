import TheanoCore
import TheanoOps

/// Rules of the shape phase: sizes are computed from the inputs' sizes rather than from the
/// tensors themselves (so `x.shape` never computes `x`), and reshapes, dimshuffles,
/// subtensors, allocs, casts and switches that do nothing disappear.
package let shapeRules: [Rewrite] = [
    shapeOfKnownDimension, shapeFromInputs, shapeToSizes,
    uselessReshape, reshapeOfReshape, uselessDimShuffle, dimShuffleOfDimShuffle,
    uselessSubtensor, elementOfMakeVector, uselessAlloc, uselessCast, switchOfConstantCondition, switchOfEqualBranches, ifElseOfConstantCondition,
]

/// `shape(x)[i]` where `x`'s type knows dimension `i`: a constant.
let shapeOfKnownDimension = Rewrite.node("shape_of_known_dimension", on: [ShapeAt.self]) { node, _ in
    let axis = (node.op as! ShapeAt).axis
    return node.inputs[0].staticShape[axis].map { [Constant(NDArray(scalar: Int64($0)), location: node.location)] }
}

/// `shape(f(a, b))[i]` from `f`'s shape inference over the sizes of `a` and `b`.
let shapeFromInputs = Rewrite.node("shape_from_inputs", on: [ShapeAt.self]) { node, _ in
    let axis = (node.op as! ShapeAt).axis
    guard let producer = node.inputs[0].owner, let op = producer.op as? any ShapeInferringOp else { return nil }
    let shapes = try op.inferShape(producer, inputShapes: producer.inputs.map { try $0.dimensionSizes() })
    return [shapes[node.inputs[0].outputIndex][axis]]
}

/// `shape(x)` as a vector of the separate sizes, which the rules above then simplify.
let shapeToSizes = Rewrite.node("shape_to_sizes", on: [Shape.self]) { node, _ in
    let sizes = try node.inputs[0].dimensionSizes()
    return [try MakeVector(dtype: .int64)(sizes, at: node.location)]
}

/// Whether `size` is known to equal dimension `axis` of `x`: the same constant as `x`'s
/// static size, or `shape(x)[axis]` itself.
private func size(_ size: Variable, equalsDimension axis: Int, of x: Variable) -> Bool {
    if let known = x.staticShape[axis], size.constantScalar == Double(known) { return true }
    guard let node = size.owner, let op = node.op as? ShapeAt else { return false }
    return op.axis == axis && node.inputs[0] === x
}

/// A reshape to the shape the tensor already has.
let uselessReshape = Rewrite.node("useless_reshape", on: [Reshape.self]) { node, _ in
    let x = node.inputs[0], sizes = Array(node.inputs.dropFirst())
    guard sizes.count == x.ndim else { return nil }
    let unmatched = sizes.indices.filter { !size(sizes[$0], equalsDimension: $0, of: x) }
    // One size may be -1: it is then the remaining one.
    guard unmatched.isEmpty || (unmatched.count == 1 && sizes[unmatched[0]].constantScalar == -1) else { return nil }
    return [x]
}

/// `reshape(reshape(x, a), b)` is `reshape(x, b)`: row-major order is kept throughout.
let reshapeOfReshape = Rewrite.node("reshape_of_reshape", on: [Reshape.self]) { node, _ in
    guard let inner = node.inputs[0].owner, inner.op is Reshape else { return nil }
    return [try node.op([inner.inputs[0]] + node.inputs.dropFirst(), at: node.location)]
}

/// A dimshuffle that keeps every dimension in place.
let uselessDimShuffle = Rewrite.node("useless_dimshuffle", on: [DimShuffle.self]) { node, _ in
    let pattern = (node.op as! DimShuffle).pattern
    return pattern == (0..<node.inputs[0].ndim).map(DimPattern.input) ? [node.inputs[0]] : nil
}

/// Two dimshuffles in a row become one.
let dimShuffleOfDimShuffle = Rewrite.node("dimshuffle_of_dimshuffle", on: [DimShuffle.self]) { node, _ in
    guard let inner = node.inputs[0].owner, let first = inner.op as? DimShuffle else { return nil }
    let second = (node.op as! DimShuffle).pattern
    let composed: [DimPattern] = second.map { entry in
        if case .input(let d) = entry { first.pattern[d] } else { .newAxis }
    }
    return [try DimShuffle(pattern: composed)([inner.inputs[0]], at: node.location)]
}

/// A subscript of full slices only.
let uselessSubtensor = Rewrite.node("useless_subtensor", on: [Subtensor.self]) { node, _ in
    let entries = (node.op as! Subtensor).entries
    let isFull: (SubtensorEntry) -> Bool = { entry in
        guard case .slice(let start, let stop, let step) = entry else { return false }
        return start == .none && stop == .none && (step == .none || step == .constant(1))
    }
    return entries.allSatisfy(isFull) ? [node.inputs[0]] : nil
}

/// `make_vector(a, b, c)[1]` is `b` (so `x.shape[1]` becomes the size itself, which the
/// rules above and the stabilize phase's pattern matching can then follow).
let elementOfMakeVector = Rewrite.node("element_of_make_vector", on: [Subtensor.self]) { node, _ in
    guard let producer = node.inputs[0].owner, producer.op is MakeVector,
          case .index(.constant(let index))? = (node.op as! Subtensor).entries.first, (node.op as! Subtensor).entries.count == 1
    else { return nil }
    let count = producer.inputs.count
    guard (-count..<count).contains(index) else { return nil }
    return [producer.inputs[index < 0 ? index + count : index]]
}

/// An alloc that broadcasts nothing: the value already has every size.
let uselessAlloc = Rewrite.node("useless_alloc", on: [Alloc.self]) { node, _ in
    let value = node.inputs[0], sizes = Array(node.inputs.dropFirst())
    guard value.ndim == sizes.count, sizes.indices.allSatisfy({ size(sizes[$0], equalsDimension: $0, of: value) }) else { return nil }
    return [value]
}

/// A cast to the dtype the tensor already has.
let uselessCast = Rewrite.node("useless_cast", on: [Cast.self]) { node, _ in
    (node.op as! Cast).dtype == node.inputs[0].dtype ? [node.inputs[0]] : nil
}

/// `switch(c, a, b)` with a constant condition is the branch it picks (when that branch
/// already has the result's shape).
let switchOfConstantCondition = Rewrite.node("switch_of_constant_condition", on: [Switch.self]) { node, _ in
    guard let condition = node.inputs[0].constantScalar else { return nil }
    let branch = node.inputs[condition != 0 ? 1 : 2]
    return node.outputTypes[0].fits(branch.type) ? [branch] : nil
}

/// `ifelse(c, a, b)` with a constant condition is the branch it picks.
let ifElseOfConstantCondition = Rewrite.node("ifelse_of_constant_condition", on: [IfElse.self]) { node, _ in
    guard let condition = node.inputs[0].constantScalar else { return nil }
    let count = node.outputs.count
    let branch = Array(node.inputs[(condition != 0 ? 1 : 1 + count)...].prefix(count))
    return zip(node.outputTypes, branch).allSatisfy({ $0.fits($1.type) }) ? branch : nil
}

/// `switch(c, a, a)` is `a`.
let switchOfEqualBranches = Rewrite.node("switch_of_equal_branches", on: [Switch.self]) { node, _ in
    node.inputs[1] === node.inputs[2] && node.outputTypes[0].fits(node.inputs[1].type) ? [node.inputs[1]] : nil
}
