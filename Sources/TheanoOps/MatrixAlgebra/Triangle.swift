import TheanoCore

/// The lower (or upper) triangle of each matrix of a stack, the rest set to zero: NumPy's
/// `tril` and `triu`. `offset` moves the diagonal that bounds the triangle: positive above
/// the main one, negative below. The gradients of the matrix-algebra ops also scale the
/// main diagonal (`diagonalScale`, 1 for `tril` and `triu`). Linear and self-adjoint, so its
/// gradient and tangent are the op itself.
public struct Triangle: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    public let lower: Bool
    public let offset: Int
    public let diagonalScale: Double

    package init(lower: Bool, offset: Int, diagonalScale: Double = 1) {
        (self.lower, self.offset, self.diagonalScale) = (lower, offset, diagonalScale)
    }

    public var description: String {
        "\(lower ? "tril" : "triu")(k=\(offset)\(diagonalScale == 1 ? "" : ", diagonal×\(diagonalScale)"))"
    }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        _ = try inputs[0].matrixStack()
        return [inputs[0]]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        struct Keep: ElementVisitor {
            let source: NDArray, op: Triangle
            func visit<T: Element>(_: T.Type) -> NDArray {
                let result = source.contiguousCopy(), zero = T(doubleValue: 0)
                let (rows, columns) = (source.shape[source.ndim - 2], source.shape[source.ndim - 1])
                result.withUnsafeMutablePointer(to: T.self) { values in
                    for start in stride(from: 0, to: result.count, by: Swift.max(1, rows * columns)) {
                        for i in 0..<rows {
                            // Row i keeps columns up to i + offset (lower) or from it (upper).
                            let bound = Swift.min(Swift.max(i + op.offset + (op.lower ? 1 : 0), 0), columns)
                            for j in op.lower ? bound..<columns : 0..<bound { values[start + i * columns + j] = zero }
                            let keepsDiagonal = op.lower ? op.offset >= 0 : op.offset <= 0
                            if op.diagonalScale != 1, keepsDiagonal, i < columns {
                                let diagonal = values + start + i * columns + i
                                diagonal.pointee = T(doubleValue: diagonal.pointee.doubleValue * op.diagonalScale)
                            }
                        }
                    }
                }
                return result
            }
        }
        return [inputs[0].dtype.visit(Keep(source: inputs[0], op: self))]
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        [try outputGradients[0].map { try self($0, at: node.location) }]
    }

    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        try linearPushforward(node, inputTangents: inputTangents, linear: [0])
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { inputShapes }
}

/// The lower triangle of each matrix of `x` (on and below diagonal `k`), zeros above
/// (NumPy's `tril`).
public func tril(_ x: Variable, k: Int = 0, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try Triangle(lower: true, offset: k)(x, at: SourceLocation.resolve(fileID: fileID, line: line))
}

/// The upper triangle of each matrix of `x` (on and above diagonal `k`), zeros below
/// (NumPy's `triu`).
public func triu(_ x: Variable, k: Int = 0, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try Triangle(lower: false, offset: k)(x, at: SourceLocation.resolve(fileID: fileID, line: line))
}
