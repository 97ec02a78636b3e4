import TheanoCore
import TheanoOps

/// A size known symbolically, traced back through shape inference to where it comes from:
/// a constant, or a dimension of a variable no op can say more about (an input). Two sizes
/// that trace back to the same origin are equal whatever the inputs.
enum SymbolicSize: Equatable {
    case constant(Int)
    case dimension(ObjectIdentifier, axis: Int)
    /// Computed in a way this tracing does not follow.
    case opaque(ObjectIdentifier)

    /// The origin of dimension `axis` of `variable`.
    package init(of variable: Variable, axis: Int) {
        if let size = variable.staticShape[axis] {
            self = .constant(size)
            return
        }
        guard let node = variable.owner, let op = node.op as? any ShapeInferringOp,
              let shapes = try? op.inferShape(node, inputShapes: node.inputs.map { try $0.dimensionSizes() })
        else {
            self = .dimension(ObjectIdentifier(variable), axis: axis)
            return
        }
        self.init(shapes[variable.outputIndex][axis])
    }

    /// The origin of an `int64` scalar size.
    package init(_ size: Variable) {
        if let value = size.constantScalar {
            self = .constant(Int(value))
        } else if let node = size.owner, let shapeAt = node.op as? ShapeAt {
            self.init(of: node.inputs[0], axis: shapeAt.axis)
        } else if let node = size.owner, node.op is CheckEqualSizes {
            self.init(node.inputs[0])
        } else if let node = size.owner, let subtensor = node.op as? Subtensor, subtensor.entries.count == 1,
                  case .index(.constant(let index)) = subtensor.entries[0], let vector = node.inputs[0].owner {
            // `shape(x)[i]`, or `make_vector(a, b, …)[i]` (what the shape phase makes of it).
            let count = vector.op is Shape ? vector.inputs[0].ndim : vector.inputs.count
            let position = index < 0 ? index + count : index
            switch vector.op {
            case is Shape where (0..<count).contains(position): self.init(of: vector.inputs[0], axis: position)
            case is MakeVector where (0..<count).contains(position): self.init(vector.inputs[position])
            default: self = .opaque(ObjectIdentifier(size))
            }
        } else {
            self = .opaque(ObjectIdentifier(size))
        }
    }
}
