import TheanoCore

/// The lower (or upper) triangle of each matrix of a stack, the rest set to zero: NumPy's
/// `tril` and `triu`. `offset` moves the diagonal that bounds the triangle: positive above
/// the main one, negative below. Linear, so its gradient and tangent are the op itself.
public struct Triangle: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    public let lower: Bool
    public let offset: Int

    package init(lower: Bool, offset: Int) {
        (self.lower, self.offset) = (lower, offset)
    }

    public var description: String { "\(lower ? "tril" : "triu")(k=\(offset))" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        _ = try inputs[0].matrixStack()
        return [inputs[0]]
    }

    /// Whether element (`row`, `column`) is kept.
    func keeps(row: Int, column: Int) -> Bool { lower ? column - row <= offset : column - row >= offset }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        struct Keep: ElementVisitor {
            let source: NDArray, op: Triangle
            func visit<T: Element>(_: T.Type) -> NDArray {
                var values = source.contiguous().elements(as: T.self)
                let (rows, columns) = (source.shape[source.ndim - 2], source.shape[source.ndim - 1])
                for start in stride(from: 0, to: values.count, by: Swift.max(1, rows * columns)) {
                    for i in 0..<rows { for j in 0..<columns where !op.keeps(row: i, column: j) { values[start + i * columns + j] = T(doubleValue: 0) } }
                }
                return NDArray(values, shape: source.shape)
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
