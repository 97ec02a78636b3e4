import TheanoCore
import TheanoOps

/// Common-subexpression elimination: constants with equal values become one, and nodes
/// applying equal ops to the same inputs become one (Theano's `MergeOptimizer`).
package let mergeEquivalentNodes = GraphPass("merge") { graph in
    var replacements = 0
    // Constants first, so that nodes reading equal constants become identical.
    var constants: [ConstantKey: Constant] = [:]
    for node in graph.nodes {
        for case let constant as Constant in node.inputs {
            let key = ConstantKey(constant)
            if let kept = constants[key], kept !== constant {
                try graph.replace(constant, with: kept)
                replacements += 1
            } else {
                constants[key] = constant
            }
        }
    }
    var seen: [NodeKey: Apply] = [:]
    for node in graph.nodes where graph.contains(node) {
        let key = NodeKey(node)
        guard let kept = seen[key] else {
            seen[key] = node
            continue
        }
        for (old, new) in zip(node.outputs, kept.outputs) { try graph.replace(old, with: new) }
        replacements += 1
    }
    return replacements
}

/// Identifies a constant by dtype, shape, storage format and bytes (a sparse matrix's: its
/// values, then its indices and index pointers).
private struct ConstantKey: Hashable {
    let dtype: DType, shape: [Int], format: StorageFormat, bytes: [UInt8]
    init(_ constant: Constant) {
        let value = constant.value
        (dtype, shape, format) = (value.dtype, value.shape, value.format)
        if let sparse = value.sparse {
            bytes = sparse.data.withBytes { Array($0) } + (sparse.indices + [-1] + sparse.indptr).withUnsafeBytes { Array($0) }
        } else {
            bytes = value.contiguous().withBytes { Array($0) }
        }
    }
}

/// Identifies a computation by its op and the identity of its inputs.
private struct NodeKey: Hashable {
    let op: AnyHashable, inputs: [ObjectIdentifier]
    init(_ node: Apply) {
        op = AnyHashable(node.op)
        inputs = node.inputs.map(ObjectIdentifier.init)
    }
}
