import Foundation
import TheanoCore

/// A source of random draws inside graphs (Theano's `RandomStreams`): each call of
/// ``uniform(shape:low:high:dtype:fileID:line:)``, ``normal(shape:mean:std:dtype:fileID:line:)``
/// and the others adds a draw to the graph, whose values change from one call of a compiled
/// function to the next.
///
/// ```swift
/// let streams = RandomStreams(seed: 42)
/// let noise = try streams.normal(shape: .like(x), std: 0.1)
/// let f = try function(inputs: [x], outputs: [x + noise])   // new noise on every call
/// ```
///
/// The stream's state is a shared variable, `[seed, call]`, whose default update adds one
/// to `call`: every compiled function that draws advances it after each call (unless
/// compiled with `noDefaultUpdates: true`). Draws are counter-based (``Philox``): a value
/// depends only on the seed, the draw (the order in which the program made its draws), the
/// call counter and the element's position — so the same seed gives the same numbers in
/// every process, on both backends, with any number of threads, and two draws of one graph
/// are independent however alike they look.
public final class RandomStreams: @unchecked Sendable {
    /// The state, `[seed, call]` (`int64`); a function drawing from the stream advances it.
    public let state: SharedVariable
    private let lock = NSLock()
    /// How many draws the stream has made: the next draw's number.
    private var draws: UInt64 = 0

    /// A stream whose draws are determined by `seed`.
    public init(seed: UInt64 = 0, name: String = "random_state", fileID: String = #fileID, line: Int = #line) {
        let location = SourceLocation.resolve(fileID: fileID, line: line)
        state = SharedVariable(Self.initialState(seed: seed), type: TensorType(.int64, shape: [2]), name: name, location: location)
        let advance = Constant(NDArray([0, 1] as [Int64]), location: location)
        state.defaultUpdate = try! SourceLocation.attributing(to: location) { try state + advance }
    }

    private static func initialState(seed: UInt64) -> NDArray { NDArray([Int64(bitPattern: seed), 0]) }

    /// Starts the stream again from `seed`: compiled functions draw the sequence of `seed`
    /// from their next call on.
    public func seed(_ seed: UInt64) { try! state.setValue(Self.initialState(seed: seed)) }

    /// The graph `body` builds for a call written at `fileID`/`line`: its nodes, and errors
    /// of shapes and types, are attributed to that line.
    private func building(fileID: String, line: Int, _ body: (SourceLocation) throws -> Variable) throws -> Variable {
        let location = SourceLocation.resolve(fileID: fileID, line: line)
        return try SourceLocation.attributing(to: location) { try body(location) }
    }

    /// The error of a call of `RandomStreams.function` with a bad argument.
    private func invalid(_ function: String, _ reason: String, at location: SourceLocation) -> TheanoError {
        .invalidArgument(function: "RandomStreams.\(function)", reason: reason, location: location)
    }

    /// Standard variates of `distribution`, a new draw of this stream.
    private func standard(_ distribution: RandomDraw.Distribution, shape: DrawShape, dtype: DType, at location: SourceLocation) throws -> Variable {
        guard dtype.isFloat else {
            throw invalid("\(distribution)", "draws float32 or float64 values, not \(dtype)", at: location)
        }
        let sizes = try shape.sizes(location)
        let draw = lock.withLock { () -> UInt64 in
            defer { draws += 1 }
            return draws
        }
        return try RandomDraw(distribution: distribution, dtype: dtype, draw: draw, staticShape: staticSizes(sizes))([state] + sizes, at: location)
    }

    /// Values uniform on `[low, high)`; `low` and `high` broadcast like elementwise operands,
    /// and the result's gradient reaches them (`low + (high - low) · u`).
    public func uniform(shape: DrawShape, low: some DrawParameter = 0, high: some DrawParameter = 1, dtype: DType = .defaultFloat,
                        fileID: String = #fileID, line: Int = #line) throws -> Variable {
        try building(fileID: fileID, line: line) { location in
            let (low, high) = (low.variable(dtype: dtype, at: location), high.variable(dtype: dtype, at: location))
            return try low + (high - low) * standard(.uniform, shape: shape, dtype: dtype, at: location)
        }
    }

    /// Values of a normal distribution of mean `mean` and standard deviation `std`
    /// (reparameterized: `mean + std · z`, so gradients reach both).
    public func normal(shape: DrawShape, mean: some DrawParameter = 0, std: some DrawParameter = 1, dtype: DType = .defaultFloat,
                       fileID: String = #fileID, line: Int = #line) throws -> Variable {
        try building(fileID: fileID, line: line) { location in
            let (mean, std) = (mean.variable(dtype: dtype, at: location), std.variable(dtype: dtype, at: location))
            return try mean + std * standard(.normal, shape: shape, dtype: dtype, at: location)
        }
    }

    /// Values of a normal distribution of mean `mean` and standard deviation `std`
    /// truncated to `[mean + low · std, mean + high · std]` (±2 standard deviations by
    /// default, as in JAX and TensorFlow): the inverse distribution function of a uniform
    /// draw between the bounds' probabilities, `√2 · erfinv(2u − 1)` with `u` between
    /// `Φ(low)` and `Φ(high)`. Reparameterized, so gradients reach `mean` and `std`; bounds
    /// far in one tail (beyond about 5) lose precision.
    public func truncatedNormal(shape: DrawShape, mean: some DrawParameter = 0, std: some DrawParameter = 1, low: Double = -2, high: Double = 2,
                                dtype: DType = .defaultFloat, fileID: String = #fileID, line: Int = #line) throws -> Variable {
        try building(fileID: fileID, line: line) { location in
            guard low < high else { throw invalid("truncatedNormal", "needs low < high, not \(low) ..< \(high)", at: location) }
            let (mean, std) = (mean.variable(dtype: dtype, at: location), std.variable(dtype: dtype, at: location))
            let cdf = { (x: Double) in 0.5 * erfc(-x / 2.squareRoot()) }
            let (lower, upper) = (cdf(low), cdf(high))
            let u = try lower + (upper - lower) * standard(.uniform, shape: shape, dtype: dtype, at: location)
            let z = try clip(2.squareRoot() * erfinv(2 * u - 1), low, high)
            return try mean + std * z
        }
    }

    /// 1 with probability `p`, else 0, in `dtype` (`p`'s float dtype by default, so that
    /// `x * mask` needs no cast). No gradient reaches `p`.
    public func bernoulli(shape: DrawShape, p: some DrawParameter, dtype: DType? = nil,
                          fileID: String = #fileID, line: Int = #line) throws -> Variable {
        try building(fileID: fileID, line: line) { location in
            let p = p.variable(dtype: .defaultFloat, at: location)
            let u = try standard(.uniform, shape: shape, dtype: p.dtype.isFloat ? p.dtype : .defaultFloat, at: location)
            return try cast(lt(u, p), to: dtype ?? u.dtype)
        }
    }

    /// The number of successes in `n` trials of probability `p` (a constant `n`, drawn as
    /// `n` Bernoulli variates summed), in `dtype`.
    public func binomial(shape: DrawShape, n: Int, p: some DrawParameter, dtype: DType = .int64,
                         fileID: String = #fileID, line: Int = #line) throws -> Variable {
        try building(fileID: fileID, line: line) { location in
            guard n >= 0 else { throw invalid("binomial", "n must not be negative, not \(n)", at: location) }
            let trials = DrawShape { [Constant(NDArray(scalar: Int64(n)), location: $0)] + (try shape.sizes($0)) }
            let successes = try bernoulli(shape: trials, p: p, dtype: .int64, fileID: fileID, line: line)
            return try cast(sum(successes, axis: 0), to: dtype)
        }
    }

    /// Integers uniform on `low ..< high` (`int64`): the floor of a 53-bit uniform scaled to
    /// the range, exact for ranges below 2⁵³.
    public func integers(shape: DrawShape, low: Int, high: Int, fileID: String = #fileID, line: Int = #line) throws -> Variable {
        try building(fileID: fileID, line: line) { location in
            guard low < high else { throw invalid("integers", "needs low < high, not \(low) ..< \(high)", at: location) }
            let u = try standard(.uniform, shape: shape, dtype: .float64, at: location)
            return try cast(floor(u * Double(high - low)), to: .int64) + low
        }
    }

    /// Values of an exponential distribution of rate `rate`: `-log(1 - u) / rate`.
    public func exponential(shape: DrawShape, rate: some DrawParameter = 1, dtype: DType = .defaultFloat,
                            fileID: String = #fileID, line: Int = #line) throws -> Variable {
        try building(fileID: fileID, line: line) { location in
            let u = try standard(.uniform, shape: shape, dtype: dtype, at: location)
            return try -log1p(-u) / rate.variable(dtype: dtype, at: location)
        }
    }

    /// Values of a standard Gumbel distribution, `-log(-log(u))` for `u` in `(0, 1)`.
    public func gumbel(shape: DrawShape, dtype: DType = .defaultFloat, fileID: String = #fileID, line: Int = #line) throws -> Variable {
        try building(fileID: fileID, line: line) { location in
            // 1 - u is in (0, 1]: its logarithm is finite.
            let u = try 1 - standard(.uniform, shape: shape, dtype: dtype, at: location)
            return try -log(-log(u))
        }
    }

    /// A category per row of `logits` (the last axis holds the categories), drawn with
    /// probabilities `softmax(logits)`: the Gumbel-max trick, `argmax(logits + g)`.
    public func categorical(logits: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
        try building(fileID: fileID, line: line) { location in
            guard logits.ndim >= 1, logits.dtype.isFloat else {
                throw invalid("categorical", "needs float logits with a category axis, not \(logits.type)", at: location)
            }
            return try argmax(logits + gumbel(shape: .like(logits), dtype: logits.dtype, fileID: fileID, line: line), axis: logits.ndim - 1)
        }
    }

    /// A random permutation of `0 ..< n` (`int64`), every order equally likely: the order
    /// that sorts `n` 53-bit uniform keys (two equal keys, with probability below n²/2⁵⁴,
    /// keep their positions' order).
    public func permutation(_ n: Int, fileID: String = #fileID, line: Int = #line) throws -> Variable {
        try building(fileID: fileID, line: line) { location in
            guard n >= 0 else { throw invalid("permutation", "n must not be negative, not \(n)", at: location) }
            return try argsort(standard(.uniform, shape: [n], dtype: .float64, at: location))
        }
    }

    /// The rows of `x` in a random order (NumPy's `permutation(x)`).
    public func permutation(of x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
        try building(fileID: fileID, line: line) { location in
            guard x.ndim >= 1 else { throw invalid("permutation", "needs a tensor with rows, not \(x.type)", at: location) }
            let keys = try standard(.uniform, shape: .sizes([x.dimensionSizes()[0]]), dtype: .float64, at: location)
            return try x[argsort(keys)]
        }
    }

    /// `count` positions in `0 ..< n` (`int64`), drawn with probabilities `p` (a vector of `n`
    /// probabilities summing to one; uniform when `nil`), with or without replacement, as
    /// NumPy's `choice`. With replacement each is a categorical draw (Gumbel-max); without,
    /// they are the `count` largest of `log p + g` for Gumbel noise `g`, in decreasing order,
    /// which draws them one after another, each in proportion to `p` among those left.
    public func choice(_ n: Int, count: Int, replace: Bool = true, p: Variable? = nil,
                       fileID: String = #fileID, line: Int = #line) throws -> Variable {
        try building(fileID: fileID, line: line) { location in
            guard n > 0, count >= 0, replace || count <= n else {
                throw invalid("choice", "cannot choose \(count) of \(n) \(replace ? "with" : "without") replacement", at: location)
            }
            if let p, p.ndim != 1 || !p.dtype.isFloat || (p.staticShape[0].map { $0 != n } ?? false) {
                throw invalid("choice", "needs a float vector of \(n) probabilities, not \(p.type)", at: location)
            }
            if replace {
                guard let p else { return try integers(shape: [count], low: 0, high: n, fileID: fileID, line: line) }
                let logits = try expandDims(log(p), axis: 0) + gumbel(shape: [count, n], dtype: p.dtype, fileID: fileID, line: line)
                return try argmax(logits, axis: 1)
            }
            let keys = try p.map { try log($0) + gumbel(shape: [n], dtype: $0.dtype, fileID: fileID, line: line) }
                ?? standard(.uniform, shape: [n], dtype: .float64, at: location)
            return try argsort(-keys)[0..<count]
        }
    }

    /// How many of `n` draws fall in each category of `pvals`' last axis (probabilities that
    /// sum to one along it), as `int64` counts of `pvals`' shape: each draw by the Gumbel-max
    /// trick, then counted. The number of categories must be known when the graph is built.
    public func multinomial(n: Int, pvals: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
        try building(fileID: fileID, line: line) { location in
            guard n >= 0 else { throw invalid("multinomial", "n must not be negative, not \(n)", at: location) }
            guard pvals.ndim >= 1, pvals.dtype.isFloat, let categories = pvals.staticShape.last ?? nil else {
                throw invalid("multinomial", "needs float probabilities with a category axis of static size, not \(pvals.type)", at: location)
            }
            let draws = DrawShape { [Constant(NDArray(scalar: Int64(n)), location: $0)] + (try pvals.dimensionSizes()) }
            let chosen = try argmax(log(pvals) + gumbel(shape: draws, dtype: pvals.dtype, fileID: fileID, line: line), axis: pvals.ndim)
            return try sum(oneHot(chosen, classes: categories, dtype: .int64), axis: 0)
        }
    }
}

/// The shape of a draw: sizes known when the graph is built (`[64, 10]`), those of another
/// tensor (`.like(x)`), or symbolic `int64` scalars (`.sizes([n, m])`).
public struct DrawShape: ExpressibleByArrayLiteral {
    /// The sizes, as `int64` scalars, built at a location.
    let sizes: (SourceLocation) throws -> [Variable]

    init(_ sizes: @escaping (SourceLocation) throws -> [Variable]) { self.sizes = sizes }

    public init(arrayLiteral sizes: Int...) {
        self.init { location in sizes.map { Constant(NDArray(scalar: Int64($0)), location: location) } }
    }

    /// The shape of `x`.
    public static func like(_ x: Variable) -> DrawShape { DrawShape { _ in try x.dimensionSizes() } }

    /// Symbolic sizes (integer scalars).
    public static func sizes(_ sizes: [Variable]) -> DrawShape { DrawShape { _ in sizes } }
}

/// A parameter of a distribution: a number, or a tensor that broadcasts against the draw.
public protocol DrawParameter {
    /// The parameter as a variable of `dtype` (a number) or as it is (a tensor).
    func variable(dtype: DType, at location: SourceLocation) -> Variable
}

extension Variable: DrawParameter {
    public func variable(dtype: DType, at location: SourceLocation) -> Variable { self }
}

extension Double: DrawParameter {
    public func variable(dtype: DType, at location: SourceLocation) -> Variable {
        Constant(NDArray(scalar: self, dtype: dtype), location: location)
    }
}

extension Int: DrawParameter {
    public func variable(dtype: DType, at location: SourceLocation) -> Variable { Double(self).variable(dtype: dtype, at: location) }
}
