import TheanoCore

/// Elementwise ops fused into one: a small scalar program applied to every element, the
/// unit the native backend turns into one C loop (Theano's `Composite`). The fusion phase
/// builds it after reverse-mode differentiation, so it needs no pullback; its pushforward
/// goes through its operations.
///
/// Values `0 ..< inputDTypes.count` are the inputs; operation `i` computes value
/// `inputDTypes.count + i` from earlier values; the last operation's value is the output.
public struct Composite: ShapeInferringOp {
    /// One operation of the program: an elementwise op applied to earlier values.
    public struct Operation: Hashable, Sendable {
        /// The elementwise op the operation applies.
        public let op: any CElementwiseOp
        /// The numbers of the values the op is applied to (inputs first, then operations).
        public let operands: [Int]
        /// Where the user built the node this operation was fused from (not part of equality: two
        /// programs computing the same are one).
        public var location: SourceLocation = .unknown

        /// An operation applying `op` to the values numbered `operands`, fused from a node built at
        /// `location`.
        public init(op: any CElementwiseOp, operands: [Int], location: SourceLocation = .unknown) {
            (self.op, self.operands, self.location) = (op, operands, location)
        }

        public static func == (a: Operation, b: Operation) -> Bool { a.operands == b.operands && a.op.isEqual(to: b.op) }
        public func hash(into hasher: inout Hasher) {
            hasher.combine(AnyHashable(op))
            hasher.combine(operands)
        }
    }

    /// The most operations fusion puts into one composite (one C loop).
    public static let maximumFusedOperations = 64
    /// The most inputs fusion gives one composite (the C compiler's time grows quickly with
    /// the number of streams a loop reads).
    public static let maximumFusedInputs = 24

    /// The dtype of each input.
    public let inputDTypes: [DType]
    /// The program, in order of computation.
    public let operations: [Operation]
    /// The dtype of each value (inputs, then operations).
    package let valueDTypes: [DType]

    package init(inputDTypes: [DType], operations: [Operation]) throws {
        var dtypes = inputDTypes
        for operation in operations { dtypes.append(try operation.op.outputDType(operation.operands.map { dtypes[$0] })) }
        self.inputDTypes = inputDTypes
        self.operations = operations
        valueDTypes = dtypes
    }

    /// The program that returns its one input.
    package static func identity(_ dtype: DType) -> Composite { try! Composite(inputDTypes: [dtype], operations: []) }

    public static func == (a: Composite, b: Composite) -> Bool { a.inputDTypes == b.inputDTypes && a.operations == b.operations }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(inputDTypes)
        hasher.combine(operations)
    }

    /// `composite{tanh((i0 + i1))}`.
    public var description: String {
        var texts = inputDTypes.indices.map { "i\($0)" }
        for operation in operations {
            let operands = operation.operands.map { texts[$0] }
            texts.append(operands.count == 2 && operation.op.isInfix ? "(\(operands[0]) \(operation.op.infixSymbol!) \(operands[1]))"
                         : "\(operation.op)(\(operands.joined(separator: ", ")))")
        }
        return "composite{\(texts.last!)}"
    }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs.map(\.dtype) == inputDTypes else { throw OpError("expects inputs of dtypes \(inputDTypes)") }
        let ndim = inputs[0].ndim
        guard inputs.allSatisfy({ $0.ndim == ndim }) else { throw OpError("operands have different numbers of dimensions") }
        let shape = try (0..<ndim).map { d in try broadcastDimension(inputs.map { $0.shape[d] }, axis: d) }
        return [TensorType(valueDTypes.last!, shape: shape)]
    }

    public func validate(_ inputs: [NDArray], node: Apply) throws {
        try checkShapes(inputs.map(\.shape), types: node.inputs.map(\.type))
    }

    /// Throws unless arrays of `shapes` (the inputs') broadcast as `types` allow, naming the
    /// fused operation whose operands do not fit — the user's `add` and its line, not the
    /// composite.
    package func checkShapes(_ shapes: [[Int]], types: [TensorType]) throws {
        // Each value's static shape too: an intermediate's dimension is statically 1 only when
        // all its operands' are, so it stretches at run time no more than they could.
        var valueShapes = shapes, staticShapes = types.map(\.shape)
        for operation in operations {
            let operandShapes = operation.operands.map { valueShapes[$0] }
            do {
                let shape = try broadcastShape(operandShapes)
                let operandStatics = operation.operands.map { staticShapes[$0] }
                try checkStaticBroadcasting(shapes: operandShapes, staticShapes: operandStatics, to: shape)
                valueShapes.append(shape)
                staticShapes.append(shape.indices.map { d in
                    let sizes = operandStatics.map { $0[d] }
                    return sizes.allSatisfy { $0 == 1 } ? 1 : sizes.first { $0 != nil && $0 != 1 } ?? nil
                })
            } catch let error as OpError {
                throw TheanoError.runtime(op: "\(operation.op) (fused into \(self))", inputShapes: operandShapes, reason: error.description,
                                          location: operation.location)
            }
        }
    }

    /// Runs the operations one after the other with the ops' reference implementations.
    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        var values = inputs
        for operation in operations {
            let operands = operation.operands.map { values[$0] }
            values.append(operation.op.evaluate(operands, shape: try broadcastShape(operands.map(\.shape))))
        }
        return [values.last!]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        [try broadcastSizes(of: node, inputShapes: inputShapes)]
    }

    /// The program as C: a statement per operation, and the expression of the output.
    package func cBody(_ inputs: [CExpression]) -> (statements: [any CStatement], result: CExpression)? {
        var values = inputs
        var statements: [any CStatement] = []
        for (index, operation) in operations.enumerated() {
            let type = valueDTypes[inputDTypes.count + index].cType
            guard let expression = operation.op.cExpression(operation.operands.map { values[$0] }, output: type) else { return nil }
            let name = "v\(index)"
            statements.append(CDeclare(.value(type), name, expression.text))
            values.append(.name(name, type))
        }
        return (statements, values.last!)
    }
}

extension ElementwiseOp {
    /// The operator symbol when the op prints as `a + b`.
    var infixSymbol: String? {
        switch self {
        case is Add: "+"
        case is Subtract: "-"
        case is Multiply: "*"
        case is Divide: "/"
        default: nil
        }
    }

    var isInfix: Bool { infixSymbol != nil }
}

/// `node` as a composite when it is one or is an elementwise op C can compute for its types.
package func fusible(_ node: Apply) -> Composite? {
    if let composite = node.op as? Composite { return composite }
    guard let op = node.op as? any CElementwiseOp else { return nil }
    let operands = node.inputs.enumerated().map { CExpression.name("i\($0)", $1.dtype.cType) }
    guard op.cExpression(operands, output: node.outputTypes[0].dtype.cType) != nil else { return nil }
    return try? Composite(inputDTypes: node.inputs.map(\.dtype), operations: [.init(op: op, operands: Array(node.inputs.indices), location: node.location)])
}
