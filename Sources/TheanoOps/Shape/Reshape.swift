import TheanoCore

/// The elements of a tensor in row-major order with a new shape. The first input is the
/// tensor, the others the new sizes (`int64` scalars; one of them may be -1, inferred).
public struct Reshape: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    /// The new shape as far as the size inputs are constants (-1 stays unknown).
    public let staticShape: [Int?]

    package init(staticShape: [Int?]) {
        self.staticShape = staticShape
    }
    public var description: String { "reshape{\(staticShape.count)}" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let x = inputs[0]
        guard inputs.dropFirst().allSatisfy({ $0.ndim == 0 && $0.dtype.isInteger }) else {
            throw OpError("sizes must be integer scalars")
        }
        var shape = staticShape.map { $0 == -1 ? nil : $0 }
        guard staticShape.filter({ $0 == -1 }).count <= 1, staticShape.allSatisfy({ $0 == nil || $0! >= -1 }) else {
            throw OpError("invalid target shape \(staticShape.map { $0.map(String.init) ?? "?" })")
        }
        if let total = x.staticSize {
            let known = staticShape.compactMap { $0 }.filter { $0 >= 0 }.reduce(1, *)
            if staticShape.allSatisfy({ $0 != nil && $0! >= 0 }), known != total {
                throw OpError("cannot reshape \(total) elements to \(staticShape.map { String($0!) }.joined(separator: "×"))")
            }
            if let hole = staticShape.firstIndex(of: -1), staticShape.allSatisfy({ $0 != nil }) {
                guard known > 0, total % known == 0 else { throw OpError("cannot reshape \(total) elements to \(staticShape.map { String($0!) })") }
                shape[hole] = total / known
            }
        }
        return [TensorType(x.dtype, shape: shape)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let x = inputs[0]
        var shape = inputs.dropFirst().map { Int($0.scalar(as: Int64.self)) }
        let known = shape.filter { $0 != -1 }.reduce(1, *)
        if let hole = shape.firstIndex(of: -1) {
            guard known > 0, x.count % known == 0 else {
                throw OpError("cannot reshape array of shape \(shapeText(x.shape)) to \(shapeText(shape))")
            }
            shape[hole] = x.count / known
        }
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == x.count else {
            throw OpError("cannot reshape array of shape \(shapeText(x.shape)) (\(x.count) elements) to \(shapeText(shape))")
        }
        return [x.reshaped(shape)]
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        let x = node.inputs[0]
        guard let g = outputGradients[0], x.dtype.isFloat else { return node.inputs.map { _ in nil } }
        return [try reshape(g, sizes: x.dimensionSizes(), at: node.location)] + node.inputs.dropFirst().map { _ in nil }
    }

    /// The tangent reshaped the same way.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        try linearPushforward(node, inputTangents: inputTangents, linear: [0])
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        guard staticShape.contains(-1) else { return [Array(node.inputs.dropFirst())] }
        // The inferred size is the element count over the product of the others.
        let total = try inputShapes[0].reduce(constant(1, dtype: .int64)) { try $0 * $1 }
        let sizes = Array(node.inputs.dropFirst())
        let hole = staticShape.firstIndex(of: -1)!
        let others = try sizes.indices.filter { $0 != hole }.reduce(constant(1, dtype: .int64)) { try $0 * sizes[$1] }
        var result = sizes
        result[hole] = try intDiv(total, others)
        return [result]
    }
}

package func reshape(_ x: Variable, sizes: [Variable], at location: SourceLocation) throws -> Variable {
    try Reshape(staticShape: staticSizes(sizes))([x] + sizes, at: location)
}

package func reshape(_ x: Variable, _ shape: [Int], at location: SourceLocation) throws -> Variable {
    try reshape(x, sizes: shape.map { Constant(NDArray(scalar: Int64($0)), location: location) }, at: location)
}

/// `x`'s elements in row-major order with shape `shape`; one size may be -1 (inferred).
public func reshape(_ x: Variable, _ shape: [Int], fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try reshape(x, shape, at: .resolve(fileID: fileID, line: line))
}

/// `x` reshaped to symbolic sizes (`int64` scalars, e.g. from `shape(y)`).
public func reshape(_ x: Variable, sizes: [Variable], fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try reshape(x, sizes: sizes, at: .resolve(fileID: fileID, line: line))
}

/// `x` with its trailing dimensions merged so that `ndim` remain (1: a flat vector).
public func flatten(_ x: Variable, ndim: Int = 1, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    guard ndim >= 1, ndim <= Swift.max(x.ndim, 1) else {
        throw TheanoError.invalidArgument(function: "flatten", reason: "cannot flatten a \(x.ndim)-d tensor to \(ndim) dimensions", location: location)
    }
    let kept = try SourceLocation.attributing(to: location) { try Array(x.dimensionSizes().prefix(ndim - 1)) }
    // The merged size is static when the merged dimensions are.
    let merged = x.staticShape.dropFirst(ndim - 1).reduce(Int?.some(1)) { acc, d in acc.flatMap { a in d.map { a * $0 } } }
    return try reshape(x, sizes: kept + [Constant(NDArray(scalar: Int64(merged ?? -1)), location: location)], at: location)
}

extension Variable {
    /// `self` reshaped to `shape` (one size may be -1).
    public func reshape(_ shape: [Int], fileID: String = #fileID, line: Int = #line) throws -> Variable {
        try TheanoOps.reshape(self, shape, at: .resolve(fileID: fileID, line: line))
    }
}
