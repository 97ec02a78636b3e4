import TheanoCore

/// Combines the elements along some axes into one: sum, product, maximum, minimum, all, any.
public struct Reduce: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    /// How the elements are combined: their sum, product, maximum, minimum, logical and, or
    /// logical or.
    public enum Kind: String, Sendable {
        /// The sum (0 for no elements).
        case sum
        /// The product (1 for no elements).
        case prod
        /// The largest element (NaN when one is NaN).
        case max
        /// The smallest element (NaN when one is NaN).
        case min
        /// Whether every element is nonzero (true for no elements).
        case all
        /// Whether some element is nonzero (false for no elements).
        case any
    }

    /// How the elements are combined.
    public let kind: Kind
    /// Sorted, distinct axes of the input.
    public let axes: [Int]
    /// Whether reduced axes stay as dimensions of size 1.
    public let keepDims: Bool

    package init(kind: Kind, axes: [Int], keepDims: Bool) {
        self.kind = kind
        self.axes = axes
        self.keepDims = keepDims
    }

    public var description: String { "\(kind){axes=\(axes)\(keepDims ? ", keepdims" : "")}" }

    /// NumPy's result dtypes: sums and products of booleans and integers are `int64`
    /// (`uint8` stays unsigned in NumPy; here it widens to `int64` too), `all`/`any` give `bool`.
    package func outputDType(_ input: DType) -> DType {
        switch kind {
        case .sum, .prod: input.isFloat ? input : .int64
        case .max, .min: input
        case .all, .any: .bool
        }
    }

    package func outputShape<D>(_ shape: [D], one: D) -> [D] {
        keepDims ? shape.indices.map { axes.contains($0) ? one : shape[$0] }
            : shape.indices.filter { !axes.contains($0) }.map { shape[$0] }
    }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let input = inputs[0]
        guard axes.allSatisfy({ $0 < input.ndim }) else { throw OpError("axes \(axes) out of range") }
        if kind == .max || kind == .min, input.dtype == .bool { throw OpError("\(kind) of booleans; use any/all") }
        return [TensorType(outputDType(input.dtype), shape: outputShape(input.shape, one: 1))]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let x = inputs[0]
        if (kind == .max || kind == .min), axes.contains(where: { x.shape[$0] == 0 }) {
            throw OpError("\(kind) of an empty axis has no identity")
        }
        let blocks = x.groupedForReduction(axes: axes)
        let outShape = outputShape(x.shape, one: 1)
        let result: NDArray
        switch kind {
        case .all, .any:
            let bools = blocks.array.cast(to: .bool)
            result = ReduceLoop.run(bools, blockSize: blocks.size, shape: outShape) { (values: UnsafeBufferPointer<Bool>) in
                kind == .all ? values.allSatisfy { $0 } : values.contains(true)
            }
        case .sum where !x.dtype.isFloat, .prod where !x.dtype.isFloat:
            // Read in the input's own dtype and accumulated in int64: no widened copy of the
            // input (a sum over billions of uint8 would otherwise need eight bytes each).
            result = x.dtype.visit(WideningReduction(kind: kind, source: blocks.array, blockSize: blocks.size, shape: outShape))
        case .sum, .prod, .max, .min:
            let source = blocks.array
            result = source.dtype.visitNumeric(NumericReduction(kind: kind, source: source, blockSize: blocks.size, shape: outShape))!
        }
        return [result]
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard let g = outputGradients[0], node.inputs[0].dtype.isFloat else { return [nil] }
        let x = node.inputs[0]
        let expandedGradient = keepDims ? g : try g.insertingAxes(axes)
        switch kind {
        case .sum:
            return [try broadcast(expandedGradient, like: x)]
        case .prod:
            return [try expandedGradient * productOfOthers(x)]
        case .max, .min:
            return [try sharedAmongExtrema(expandedGradient, node)]
        case .all, .any:
            return [nil]
        }
    }

    /// The same reduction's sum of the tangent, weighted by the partial derivatives: 1 for
    /// sum, the product of the other elements for prod, each extremum's share for max and min.
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        guard let t = inputTangents[0] else { return [nil] }
        let x = node.inputs[0]
        let summed = Reduce(kind: .sum, axes: axes, keepDims: keepDims)
        switch kind {
        case .sum:
            return [try summed([t], at: node.location)]
        case .prod:
            return [try summed([t * productOfOthers(x)], at: node.location)]
        case .max, .min:
            return [try summed([sharedAmongExtrema(t, node)], at: node.location)]
        case .all, .any:
            return [nil]
        }
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        [outputShape(inputShapes[0], one: constant(1, dtype: .int64))]
    }

    /// For max and min: `v` shared equally among the elements equal to their block's
    /// extremum — `v / k` at each of `k` tied ones — and 0 elsewhere, and everywhere in a
    /// block whose extremum is NaN. As JAX and TensorFlow: the shares add up to one, so
    /// `max(stack([x, x]), axis: 0)` has derivative 1, as `maximum(x, x)` does. (PyTensor
    /// gives each tied element the whole gradient, which makes that derivative 2.)
    private func sharedAmongExtrema(_ v: Variable, _ node: Apply) throws -> Variable {
        let x = node.inputs[0]
        let extremum = keepDims ? node.output(0) : try node.output(0).insertingAxes(axes)
        let isExtremum = try eq(x, extremum)
        let count = try Reduce(kind: .sum, axes: axes, keepDims: true)([cast(isExtremum, to: x.dtype)], at: node.location)
        return try (v / count).kept(where: isExtremum)
    }

    /// For each element, the product of the other elements of its reduced block: the
    /// derivative of the product. It never divides by a zero element, and stays exact to
    /// second order where a block holds one or two zeros: a zero element's value enters
    /// symbolically (through `zeroSum`, which is 0 but not constant), so gradients of this
    /// gradient see it.
    private func productOfOthers(_ x: Variable) throws -> Variable {
        let sum = Reduce(kind: .sum, axes: axes, keepDims: true), product = Reduce(kind: .prod, axes: axes, keepDims: true)
        let isZero = try eq(x, 0)
        let zeros = try sum([cast(isZero, to: .int64)], at: x.location)
        let safe = try `switch`(isZero, onesLike(x), x)
        let nonzeroProduct = try product([safe], at: x.location)
        let zeroSum = try sum([`switch`(isZero, x, zerosLike(x))], at: x.location)
        let noZero = try nonzeroProduct / safe
        let oneZero = try `switch`(isZero, nonzeroProduct, zeroSum * nonzeroProduct / safe)
        let twoZeros = try `switch`(isZero, (zeroSum - x) * nonzeroProduct, zerosLike(x))
        return try `switch`(eq(zeros, 0), noZero, `switch`(eq(zeros, 1), oneZero, `switch`(eq(zeros, 2), twoZeros, zerosLike(x))))
    }
}

private struct NumericReduction: NumericVisitor {
    let kind: Reduce.Kind, source: NDArray, blockSize: Int, shape: [Int]
    func visit<T: NumericElement>(_: T.Type) -> NDArray {
        switch kind {
        case .sum where T.dtype.isFloat:
            // Floats accumulate in double precision: exact to the last bit that float32 keeps.
            ReduceLoop.run(source, blockSize: blockSize, shape: shape) { (v: UnsafeBufferPointer<T>) in
                T(doubleValue: v.reduce(0.0) { $0 + $1.doubleValue })
            }
        case .sum: ReduceLoop.run(source, blockSize: blockSize, shape: shape) { (v: UnsafeBufferPointer<T>) in v.reduce(T.zero, T.add) }
        case .prod: ReduceLoop.run(source, blockSize: blockSize, shape: shape) { (v: UnsafeBufferPointer<T>) in v.reduce(T.one, T.multiply) }
        case .max: ReduceLoop.run(source, blockSize: blockSize, shape: shape) { (v: UnsafeBufferPointer<T>) in v.dropFirst().reduce(v[0], T.maximum) }
        default: ReduceLoop.run(source, blockSize: blockSize, shape: shape) { (v: UnsafeBufferPointer<T>) in v.dropFirst().reduce(v[0], T.minimum) }
        }
    }
}

/// Sums and products of integers or booleans, each block read in its own dtype and
/// combined in `int64` (wrapping, as NumPy).
private struct WideningReduction: ElementVisitor {
    let kind: Reduce.Kind, source: NDArray, blockSize: Int, shape: [Int]
    func visit<T: Element>(_: T.Type) -> NDArray {
        kind == .sum
            ? ReduceLoop.run(source, blockSize: blockSize, shape: shape) { (v: UnsafeBufferPointer<T>) in v.reduce(Int64(0)) { $0 &+ Int64(converting: $1) } }
            : ReduceLoop.run(source, blockSize: blockSize, shape: shape) { (v: UnsafeBufferPointer<T>) in v.reduce(Int64(1)) { $0 &* Int64(converting: $1) } }
    }
}

/// Reduces each run of `blockSize` contiguous elements of `source` to one element.
enum ReduceLoop {
    @inline(__always)
    package static func run<T: Element, R: Element>(_ source: NDArray, blockSize: Int, shape: [Int],
                                            _ combine: (UnsafeBufferPointer<T>) -> R) -> NDArray {
        let out = NDArray(uninitialized: shape, dtype: R.dtype)
        out.withUnsafeMutablePointer(to: R.self) { po in
            source.withUnsafePointer(to: T.self) { ps in
                for i in 0..<out.count { po[i] = combine(UnsafeBufferPointer(start: ps + i * blockSize, count: blockSize)) }
            }
        }
        return out
    }
}

extension NDArray {
    /// A contiguous copy with the kept axes first and `axes` last, so each output element
    /// reduces one contiguous block of `size` elements.
    func groupedForReduction(axes: [Int]) -> (array: NDArray, size: Int) {
        let kept = (0..<ndim).filter { !axes.contains($0) }
        let permuted = transposed(kept + axes)
        return (permuted.contiguous(), axes.reduce(1) { $0 * shape[$1] })
    }
}

// MARK: - Builders

package func reduction(_ kind: Reduce.Kind, _ x: Variable, axis: Axes, keepDims: Bool, function: String,
            at location: SourceLocation) throws -> Variable {
    let axes = try axis.resolved(ndim: x.ndim, function: function, location: location)
    return try Reduce(kind: kind, axes: axes, keepDims: keepDims)([x], at: location)
}

/// The sum of the elements over `axis` (all by default); of a sparse matrix, ``sparseSum(_:axis:keepDims:fileID:line:)``.
public func sum(_ x: Variable, axis: Axes = .all, keepDims: Bool = false, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    if x.isSparse { return try sparseSum(x, axis: axis, keepDims: keepDims, fileID: fileID, line: line) }
    return try reduction(.sum, x, axis: axis, keepDims: keepDims, function: "sum", at: .resolve(fileID: fileID, line: line))
}

/// The product of the elements over `axis`.
public func prod(_ x: Variable, axis: Axes = .all, keepDims: Bool = false, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try reduction(.prod, x, axis: axis, keepDims: keepDims, function: "prod", at: .resolve(fileID: fileID, line: line))
}

/// The largest element over `axis`.
public func max(_ x: Variable, axis: Axes = .all, keepDims: Bool = false, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try reduction(.max, x, axis: axis, keepDims: keepDims, function: "max", at: .resolve(fileID: fileID, line: line))
}

/// The smallest element over `axis`.
public func min(_ x: Variable, axis: Axes = .all, keepDims: Bool = false, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try reduction(.min, x, axis: axis, keepDims: keepDims, function: "min", at: .resolve(fileID: fileID, line: line))
}

/// Whether every element over `axis` is nonzero.
public func all(_ x: Variable, axis: Axes = .all, keepDims: Bool = false, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try reduction(.all, x, axis: axis, keepDims: keepDims, function: "all", at: .resolve(fileID: fileID, line: line))
}

/// Whether any element over `axis` is nonzero.
public func any(_ x: Variable, axis: Axes = .all, keepDims: Bool = false, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try reduction(.any, x, axis: axis, keepDims: keepDims, function: "any", at: .resolve(fileID: fileID, line: line))
}
