import TheanoCore

/// `then` when the scalar condition is true (nonzero), else `else`, for one or more outputs
/// at once — evaluated lazily: the nodes only one branch needs run only when that branch is
/// taken (see `LazySchedule`). Unlike ``switch(_:_:_:fileID:line:)``, which picks element by element
/// and computes both sides, `ifelse` picks whole values.
public struct IfElse: DifferentiableOp, ForwardDifferentiableOp, LazyBranchingOp {
    /// How many values each branch gives.
    public let count: Int

    package init(count: Int) {
        self.count = count
    }

    public var description: String { "if_else" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs.count == 1 + 2 * count else { throw OpError("expects a condition and \(count) values per branch") }
        guard inputs[0].ndim == 0 else { throw OpError("the condition must be a scalar, not \(inputs[0])") }
        return try (0..<count).map { i in
            let (then, other) = (inputs[1 + i], inputs[1 + count + i])
            guard then.dtype == other.dtype, then.ndim == other.ndim else {
                throw OpError("branch values \(i) differ: \(then) and \(other)")
            }
            return TensorType(then.dtype, shape: zip(then.shape, other.shape).map { $0 == $1 ? $0 : nil })
        }
    }

    /// Whether the branch taken is `then`.
    static func takesThen(_ condition: NDArray) -> Bool { condition.scalar(as: Double.self) != 0 }

    /// `then`'s values, then `else`'s.
    package var branches: [Range<Int>] { [1..<(1 + count), (1 + count)..<(1 + 2 * count)] }

    package func branch(takenFor condition: NDArray) -> Int { Self.takesThen(condition) ? 0 : 1 }

    /// Inputs of the branch not taken are `NDArray.notComputed`: the lazy schedule skipped them.
    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let first = Self.takesThen(inputs[0]) ? 1 : 1 + count
        return Array(inputs[first..<(first + count)])
    }

    /// Each branch's values get the output gradients when taken, zeros otherwise.
    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        let condition = node.inputs[0]
        var then: [Variable?] = [], other: [Variable?] = []
        for gradient in outputGradients {
            guard let gradient else {
                then.append(nil)
                other.append(nil)
                continue
            }
            let zeros = try zerosLike(gradient)
            then.append(try ifelse(condition, gradient, zeros))
            other.append(try ifelse(condition, zeros, gradient))
        }
        return [nil] + then + other
    }

    /// The tangent of the branch taken.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        try (0..<count).map { i in
            let (then, other) = (inputTangents[1 + i], inputTangents[1 + count + i])
            if then == nil && other == nil { return nil }
            return try ifelse(node.inputs[0], then ?? zerosLike(node.inputs[1 + i]), other ?? zerosLike(node.inputs[1 + count + i]))
        }
    }
}

/// `then` if the scalar `condition` is true (nonzero), else `otherwise`; only the branch
/// taken is computed (Theano's `ifelse`). The gradient flows through the branch taken.
public func ifelse(_ condition: Variable, _ then: Variable, _ otherwise: Variable,
                   fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try ifelse(condition, [then], [otherwise], fileID: fileID, line: line)[0]
}

/// Several values chosen by one condition: `then` if it is true, else `otherwise` (the same
/// number of values, each pair of the same dtype and rank).
public func ifelse(_ condition: Variable, _ then: [Variable], _ otherwise: [Variable],
                   fileID: String = #fileID, line: Int = #line) throws -> [Variable] {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    guard then.count == otherwise.count, !then.isEmpty else {
        throw TheanoError.invalidArgument(function: "ifelse", reason: "the branches give \(then.count) and \(otherwise.count) values", location: location)
    }
    return try IfElse(count: then.count).apply([condition] + then + otherwise, at: location).outputs
}
