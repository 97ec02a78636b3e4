import TheanoCore

// Matrix functions built from other ops, so they differentiate through them.

/// The Kronecker product of `a` and `b` (NumPy's `kron`): blocks `a[i, j]·b` laid out as
/// `a`'s elements are. The operand with fewer dimensions gets leading size-1 dimensions.
public func kron(_ a: Variable, _ b: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    return try SourceLocation.attributing(to: location) {
        let ndim = Swift.max(a.ndim, b.ndim)
        let left = try reshape(a, sizes: leadingOnes(ndim - a.ndim, location) + a.dimensionSizes(), at: location)
        let right = try reshape(b, sizes: leadingOnes(ndim - b.ndim, location) + b.dimensionSizes(), at: location)
        // a's axes at even positions, b's at odd ones, then each pair merged.
        let spreadA = try left.dimshuffle((0..<ndim).flatMap { [DimPattern.input($0), .newAxis] })
        let spreadB = try right.dimshuffle((0..<ndim).flatMap { [DimPattern.newAxis, .input($0)] })
        let (sizesA, sizesB) = (try left.dimensionSizes(), try right.dimensionSizes())
        let merged = try (0..<ndim).map { try sizeProduct([sizesA[$0], sizesB[$0]], at: location) }
        return try reshape(spreadA * spreadB, sizes: merged, at: location)
    }
}

private func leadingOnes(_ count: Int, _ location: SourceLocation) -> [Variable] {
    Array(repeating: Constant(NDArray(scalar: Int64(1)), location: location), count: count)
}

/// Each square matrix of `a` raised to the integer power `n` (NumPy's `matrix_power`): by
/// repeated squaring; `n = 0` gives identities and a negative `n` powers of the inverse.
public func matrixPower(_ a: Variable, _ n: Int, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    guard a.ndim >= 2 else {
        throw TheanoError.invalidArgument(function: "matrixPower", reason: "needs a stack of square matrices, not a \(a.ndim)-d tensor", location: location)
    }
    return try SourceLocation.attributing(to: location) {
        if n == 0 { return try identity(like: a, at: location) + zerosLike(a) }
        var base = n < 0 ? try inv(a, fileID: fileID, line: line) : a
        var result: Variable?
        var exponent = n.magnitude
        while exponent > 0 {
            if exponent & 1 == 1 { result = try result.map { try matmul($0, base) } ?? base }
            exponent >>= 1
            if exponent > 0 { base = try matmul(base, base) }
        }
        return result!
    }
}

/// Which norm ``norm(_:order:axis:keepDims:fileID:line:)`` computes (NumPy's `ord`).
public enum NormOrder: Hashable, Sendable, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral {
    /// For vectors `(Σ|x|ᵖ)^(1/p)`, with `∞` the largest `|x|`, `−∞` the smallest and 0 the
    /// count of nonzeros; for matrices 1, −1 (largest, smallest column sum of `|x|`), ∞, −∞
    /// (row sums), 2 and −2 (largest, smallest singular value).
    case p(Double)
    /// The square root of the sum of squares (the default for matrices).
    case frobenius
    /// The sum of the singular values.
    case nuclear

    public init(integerLiteral value: Int) { self = .p(Double(value)) }
    public init(floatLiteral value: Double) { self = .p(value) }

    public static let infinity = NormOrder.p(.infinity)
    public static let negativeInfinity = NormOrder.p(-.infinity)
}

/// A vector or matrix norm (NumPy's `linalg.norm`): over `axis` (one axis: vector norms,
/// two: matrix norms; `nil`: every axis of a vector or a matrix, the 2-norm of the flattened
/// tensor otherwise). `order` `nil` is the 2-norm of vectors and the Frobenius norm of
/// matrices.
public func norm(_ x: Variable, order: NormOrder? = nil, axis: [Int]? = nil, keepDims: Bool = false,
                 fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    func invalid(_ reason: String) -> TheanoError { .invalidArgument(function: "norm", reason: reason, location: location) }
    // Validated, but in the order given: a matrix norm's first axis holds the rows.
    let axes = try axis.map { given in
        _ = try Axes(given).resolved(ndim: x.ndim, function: "norm", location: location)
        return given.map { $0 < 0 ? $0 + x.ndim : $0 }
    } ?? (x.ndim <= 2 || order == nil ? Array(0..<x.ndim) : [])
    return try SourceLocation.attributing(to: location) {
        if axis == nil, order == nil, x.ndim > 2 || x.ndim == 0 {
            return try vectorNorm(flatten(x), 2, axes: [0], keepDims: false, location: location)
        }
        let magnitude = try abs(x)
        func keep(_ result: Variable) throws -> Variable {
            guard keepDims else { return result }
            var pattern = [DimPattern](), next = 0
            for position in 0..<x.ndim {
                if axes.contains(position) { pattern.append(.newAxis) } else { pattern.append(.input(next)); next += 1 }
            }
            return try result.dimshuffle(pattern)
        }
        switch (axes.count, order) {
        case (1, nil): return try vectorNorm(x, 2, axes: axes, keepDims: keepDims, location: location)
        case (1, .p(let p)?): return try vectorNorm(x, p, axes: axes, keepDims: keepDims, location: location)
        case (1, _): throw invalid("the Frobenius and nuclear norms are matrix norms; give two axes")
        case (2, nil), (2, .frobenius?): return try sqrt(sum(x * x, axis: Axes(axes), keepDims: keepDims))
        case (2, .nuclear?): return try keep(sum(svdvals(moving(axes, of: x)), axis: -1))
        case (2, .p(let p)?):
            switch p {
            case 2: return try keep(max(svdvals(moving(axes, of: x)), axis: -1))
            case -2: return try keep(min(svdvals(moving(axes, of: x)), axis: -1))
            case 1, -1, .infinity, -.infinity:
                // Column sums (1) add over the first axis, row sums (∞) over the second.
                let (summed, other) = Swift.abs(p) == 1 ? (axes[0], axes[1]) : (axes[1], axes[0])
                let sums = try sum(magnitude, axis: Axes([summed]), keepDims: true)
                let extreme = p > 0 ? try max(sums, axis: Axes([other]), keepDims: true) : try min(sums, axis: Axes([other]), keepDims: true)
                return keepDims ? extreme : try squeeze(extreme, axis: Axes(axes))
            default: throw invalid("\(p) is not a matrix norm order (1, -1, 2, -2, infinity, -infinity)")
            }
        default: throw invalid("takes one axis (vector norms) or two (matrix norms), not \(axes.count)")
        }
    }
}

/// `x` with `axes` moved to the end, in that order.
private func moving(_ axes: [Int], of x: Variable) throws -> Variable {
    try x.transpose((0..<x.ndim).filter { !axes.contains($0) } + axes)
}

/// The vector `p`-norm of `x` over `axes`.
private func vectorNorm(_ x: Variable, _ p: Double, axes: [Int], keepDims: Bool, location: SourceLocation) throws -> Variable {
    let magnitude = try abs(x)
    switch p {
    case .infinity: return try max(magnitude, axis: Axes(axes), keepDims: keepDims)
    case -.infinity: return try min(magnitude, axis: Axes(axes), keepDims: keepDims)
    case 0: return try sum(cast(neq(x, 0), to: matrixAlgebraDType(x.dtype), at: location), axis: Axes(axes), keepDims: keepDims)
    case 1: return try sum(magnitude, axis: Axes(axes), keepDims: keepDims)
    case 2: return try sqrt(sum(x * x, axis: Axes(axes), keepDims: keepDims))
    default: return try pow(sum(pow(magnitude, p), axis: Axes(axes), keepDims: keepDims), 1 / p)
    }
}

/// The inverse of `a` with respect to `tensordot` over `ind` axes (NumPy's `tensorinv`):
/// `a` reshaped to a square matrix (its first `ind` axes against the rest), inverted, and
/// shaped back to the remaining axes followed by the first `ind`.
public func tensorinv(_ a: Variable, ind: Int = 2, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    guard ind > 0, ind < a.ndim else {
        throw TheanoError.invalidArgument(function: "tensorinv", reason: "ind must be between 1 and \(a.ndim - 1), not \(ind)", location: location)
    }
    return try SourceLocation.attributing(to: location) {
        let sizes = try a.dimensionSizes(), one = Constant(NDArray(scalar: Int64(1)), location: location)
        let (outer, inner) = (Array(sizes[..<ind]), Array(sizes[ind...]))
        let square = try reshape(a, sizes: [sizeProduct([one] + outer, at: location), sizeProduct([one] + inner, at: location)], at: location)
        return try reshape(inv(square, fileID: fileID, line: line), sizes: inner + outer, at: location)
    }
}

/// The `x` with `tensordot(a, x, axes: x.ndim) = b` (NumPy's `tensorsolve` without `axes`):
/// `a` reshaped to a square matrix against `b`'s elements, solved, and shaped to `a`'s
/// last dimensions.
public func tensorsolve(_ a: Variable, _ b: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    guard b.ndim < a.ndim else {
        throw TheanoError.typeMismatch(op: "tensorsolve", inputs: [a.type, b.type], reason: "b must have fewer dimensions than a", location: location)
    }
    return try SourceLocation.attributing(to: location) {
        let sizes = try a.dimensionSizes(), one = Constant(NDArray(scalar: Int64(1)), location: location)
        let unknowns = Array(sizes[b.ndim...])
        let rows = try sizeProduct([one] + Array(sizes[..<b.ndim]), at: location)
        let square = try reshape(a, sizes: [rows, sizeProduct([one] + unknowns, at: location)], at: location)
        let solution = try solve(square, reshape(b, sizes: [rows], at: location), fileID: fileID, line: line)
        return try reshape(solution, sizes: unknowns, at: location)
    }
}
