import TheanoCore

/// One entry of a ``DimShuffle`` pattern: a dimension of the input, or a new broadcastable
/// dimension. Integer literals stand for input dimensions: `x.dimshuffle(1, .newAxis, 0)`.
public enum DimPattern: Hashable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    /// The input's dimension of that number.
    case input(Int)
    /// A new dimension of size 1 (Theano's `'x'`).
    case newAxis

    public init(integerLiteral value: Int) { self = .input(value) }
    public var description: String {
        switch self {
        case .input(let d): "\(d)"
        case .newAxis: "x"
        }
    }
}

/// Reorders dimensions, inserts broadcastable ones and drops broadcastable ones: Theano's
/// `dimshuffle`. The result is a view of the input.
public struct DimShuffle: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    /// Where each dimension of the result comes from, in order.
    public let pattern: [DimPattern]

    package init(pattern: [DimPattern]) {
        self.pattern = pattern
    }
    public var description: String { "dimshuffle{\(pattern.map(\.description).joined(separator: ","))}" }

    /// Input dimensions the pattern leaves out (each must be of static size 1).
    package func dropped(ndim: Int) -> [Int] {
        (0..<ndim).filter { !pattern.contains(.input($0)) }
    }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let input = inputs[0]
        let used = pattern.compactMap { if case .input(let d) = $0 { d } else { nil } }
        guard used.allSatisfy({ (0..<input.ndim).contains($0) }), Set(used).count == used.count else {
            throw OpError("pattern \(pattern) does not list distinct dimensions of a \(input.ndim)-d tensor")
        }
        let dropped = dropped(ndim: input.ndim)
        guard dropped.allSatisfy({ input.shape[$0] == 1 }) else {
            throw OpError("pattern \(pattern) drops dimensions \(dropped) that are not broadcastable (static size 1)")
        }
        return [TensorType(input.dtype, shape: pattern.map { entry in
            if case .input(let d) = entry { input.shape[d] } else { 1 }
        })]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let x = inputs[0]
        guard dropped(ndim: x.ndim).allSatisfy({ x.shape[$0] == 1 }) else {
            throw OpError("dimensions dropped by \(pattern) must have size 1")
        }
        return [x.expanded(pattern.map { if case .input(let d) = $0 { d } else { nil } })]
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0], node.inputs[0].dtype.isFloat else { return [nil] }
        let x = node.inputs[0]
        // Sum over the new axes, then put the input's dimensions back in place.
        let newAxes = pattern.indices.filter { pattern[$0] == .newAxis }
        let summed = newAxes.isEmpty ? g : try sum(g, axis: Axes(newAxes))
        let remaining = pattern.filter { $0 != .newAxis }
        let inverse: [DimPattern] = (0..<x.ndim).map { d in
            remaining.firstIndex(of: .input(d)).map { .input($0) } ?? .newAxis
        }
        return [try DimShuffle(pattern: inverse)([summed], at: node.location)]
    }

    /// The tangent shuffled the same way.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        try linearPushforward(node, inputTangents: inputTangents, linear: [0])
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        [pattern.map { entry in
            if case .input(let d) = entry { inputShapes[0][d] } else { constant(1, dtype: .int64) }
        }]
    }
}

extension Variable {
    /// The dimensions reordered, new broadcastable dimensions (`.newAxis`) inserted, and
    /// broadcastable ones left out: `x.dimshuffle(1, .newAxis, 0)`.
    public func dimshuffle(_ pattern: DimPattern..., fileID: String = #fileID, line: Int = #line) throws -> Variable {
        try DimShuffle(pattern: pattern)([self], at: .resolve(fileID: fileID, line: line))
    }

    /// ``dimshuffle(_:fileID:line:)-(DimPattern...,_,_)`` with a pattern built at run time.
    public func dimshuffle(_ pattern: [DimPattern], fileID: String = #fileID, line: Int = #line) throws -> Variable {
        try DimShuffle(pattern: pattern)([self], at: .resolve(fileID: fileID, line: line))
    }

    /// The dimensions permuted (`nil`: reversed).
    public func transpose(_ axes: [Int]? = nil, fileID: String = #fileID, line: Int = #line) throws -> Variable {
        let axes = axes ?? Array((0..<ndim).reversed())
        return try DimShuffle(pattern: axes.map(DimPattern.input))([self], at: .resolve(fileID: fileID, line: line))
    }

    /// The dimensions reversed: the matrix transpose.
    public var T: Variable {
        get throws { try DimShuffle(pattern: (0..<ndim).reversed().map(DimPattern.input))([self], at: .operatorCaller()) }
    }

    /// `self` with broadcastable dimensions added in front up to `rank` dimensions.
    package func padded(toRank rank: Int, at location: SourceLocation) throws -> Variable {
        let pattern = [DimPattern](repeating: .newAxis, count: rank - ndim) + (0..<ndim).map(DimPattern.input)
        return try DimShuffle(pattern: pattern)([self], at: location)
    }

    /// `self` with new broadcastable dimensions at `axes` of the result (as a reduction
    /// over `axes` without keepDims removed them).
    func insertingAxes(_ axes: [Int]) throws -> Variable {
        var next = 0
        let pattern: [DimPattern] = (0..<(ndim + axes.count)).map { d in
            if axes.contains(d) { return .newAxis }
            defer { next += 1 }
            return .input(next)
        }
        return try DimShuffle(pattern: pattern)([self], at: SourceLocation.attributed ?? location)
    }
}

/// `x` with a new broadcastable dimension at `axis`.
public func expandDims(_ x: Variable, axis: Int, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    let position = axis < 0 ? axis + x.ndim + 1 : axis
    guard (0...x.ndim).contains(position) else {
        throw TheanoError.invalidArgument(function: "expandDims", reason: "axis \(axis) out of range for a \(x.ndim)-d tensor", location: location)
    }
    var pattern = (0..<x.ndim).map(DimPattern.input)
    pattern.insert(.newAxis, at: position)
    return try DimShuffle(pattern: pattern)([x], at: location)
}

/// `x` without its broadcastable dimensions (all, or those of `axis`).
public func squeeze(_ x: Variable, axis: Axes = .all, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    let candidates = try axis.resolved(ndim: x.ndim, function: "squeeze", location: location)
    let dropped = axis == .all ? candidates.filter { x.staticShape[$0] == 1 } : candidates
    let pattern = (0..<x.ndim).filter { !dropped.contains($0) }.map(DimPattern.input)
    return try DimShuffle(pattern: pattern)([x], at: location)
}
