import Foundation
import Testing
@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoLoops
@testable import TheanoNative
@testable import TheanoOps
@testable import TheanoOptimizer

// MARK: - Value bounds

/// Bounds on the values of a tensor, carried along while a random graph is built so that
/// no op is applied where it overflows or is undefined (a division by something that may be
/// 0, `exp` of something large, …): there the optimized and unoptimized graphs could both be
/// right and still differ.
struct Interval: CustomStringConvertible {
    var lo: Double
    var hi: Double

    var magnitude: Double { Swift.max(Swift.abs(lo), Swift.abs(hi)) }
    var distanceFromZero: Double { lo > 0 ? lo : hi < 0 ? -hi : 0 }
    var isAwayFromZero: Bool { distanceFromZero >= 0.25 }

    /// The bounds of `f` over this interval, from a dense sampling (exact for the monotone
    /// and even functions used here).
    func map(_ f: (Double) -> Double) -> Interval {
        var samples = (0...64).map { lo + (hi - lo) * Double($0) / 64 }
        if lo < 0 && hi > 0 { samples.append(0) }
        let values = samples.map(f)
        return Interval(lo: values.min()!, hi: values.max()!)
    }

    /// The bounds of `f(a, b)` for a function monotone in each argument (`+ - * /` away from
    /// 0, `max`, `min`).
    static func combine(_ a: Interval, _ b: Interval, _ f: (Double, Double) -> Double) -> Interval {
        let values = [f(a.lo, b.lo), f(a.lo, b.hi), f(a.hi, b.lo), f(a.hi, b.hi)]
        return Interval(lo: values.min()!, hi: values.max()!)
    }

    func union(_ other: Interval) -> Interval { Interval(lo: Swift.min(lo, other.lo), hi: Swift.max(hi, other.hi)) }
    /// The bounds of a sum of `count` such values.
    func times(_ count: Int) -> Interval { Interval(lo: lo * Double(count), hi: hi * Double(count)) }

    var description: String { "[\(lo), \(hi)]" }
}

/// A tensor of the graph being built: the variable, the shape it has when the graph runs on
/// the generated inputs, and bounds on its values.
struct Term {
    let variable: Variable
    let shape: [Int]
    let range: Interval

    var ndim: Int { shape.count }
    var count: Int { shape.reduce(1, *) }
    var broadcastable: [Bool] { variable.type.broadcastable }

    /// The run-time shape of an elementwise op of `terms`, or `nil` when they do not
    /// broadcast: after padding on the left, each dimension must be equal or of static size
    /// 1 in all but one operand.
    static func broadcastShape(_ terms: [Term]) -> [Int]? {
        let ndim = terms.map(\.ndim).max() ?? 0
        var shape: [Int] = []
        for d in 0..<ndim {
            let sizes = Set(terms.compactMap { term -> Int? in
                let axis = d - (ndim - term.ndim)
                return axis >= 0 && !term.broadcastable[axis] ? term.shape[axis] : nil
            })
            guard sizes.count <= 1 else { return nil }
            shape.append(sizes.first ?? 1)
        }
        return shape
    }
}

// MARK: - Steps

/// An elementwise function of one tensor: how to build it and its value on `Double`s.
struct UnaryStep: Sendable {
    let name: String
    var allowed: @Sendable (Interval) -> Bool = { _ in true }
    let build: @Sendable (Variable) throws -> Variable
    let value: @Sendable (Double) -> Double
}

/// An elementwise function of two tensors.
struct BinaryStep: Sendable {
    let name: String
    var allowed: @Sendable (Interval, Interval) -> Bool = { _, _ in true }
    let build: @Sendable (Variable, Variable) throws -> Variable
    let value: @Sendable (Double, Double) -> Double
    /// Bounds of the result; by default from `value` at the corners.
    var range: (@Sendable (Interval, Interval) -> Interval)? = nil
}

enum Steps {
    static let unary: [UnaryStep] = [
        UnaryStep(name: "-x", build: { try -$0 }, value: { -$0 }),
        UnaryStep(name: "exp(x)", allowed: { $0.hi <= 5 }, build: { try exp($0) }, value: { Foundation.exp($0) }),
        UnaryStep(name: "log(abs(x) + 1)", build: { try log(abs($0) + 1) }, value: { Foundation.log1p(Swift.abs($0)) }),
        UnaryStep(name: "log(1 + abs(x))", build: { try log(1 + abs($0)) }, value: { Foundation.log1p(Swift.abs($0)) }),
        UnaryStep(name: "tanh(x)", build: { try tanh($0) }, value: { Foundation.tanh($0) }),
        UnaryStep(name: "sigmoid(x)", build: { try sigmoid($0) }, value: Exact.sigmoid),
        UnaryStep(name: "softplus(x)", build: { try softplus($0) }, value: Exact.softplus),
        UnaryStep(name: "sqr(x)", build: { try sqr($0) }, value: { $0 * $0 }),
        UnaryStep(name: "sqrt(abs(x))", build: { try sqrt(abs($0)) }, value: { Swift.abs($0).squareRoot() }),
        UnaryStep(name: "pow(x, 2)", build: { try pow($0, 2) }, value: { $0 * $0 }),
        UnaryStep(name: "pow(x, 3)", build: { try pow($0, 3) }, value: { $0 * $0 * $0 }),
        UnaryStep(name: "pow(x, 4)", build: { try pow($0, 4) }, value: { $0 * $0 * $0 * $0 }),
        UnaryStep(name: "pow(x, 1)", build: { try pow($0, 1) }, value: { $0 }),
        UnaryStep(name: "pow(x, -1)", allowed: \.isAwayFromZero, build: { try pow($0, -1) }, value: { 1 / $0 }),
        UnaryStep(name: "pow(x, -3)", allowed: \.isAwayFromZero, build: { try pow($0, -3) }, value: { 1 / ($0 * $0 * $0) }),
        UnaryStep(name: "pow(abs(x), 0.5)", build: { try pow(abs($0), 0.5) }, value: { Swift.abs($0).squareRoot() }),
        UnaryStep(name: "-(-x)", build: { try -(-$0) }, value: { $0 }),
        UnaryStep(name: "exp(x) - 1", allowed: { $0.hi <= 5 }, build: { try exp($0) - 1 }, value: { Foundation.expm1($0) }),
        UnaryStep(name: "1 / (1 + exp(-x))", allowed: { $0.lo >= -30 }, build: { try 1 / (1 + exp(-$0)) }, value: Exact.sigmoid),
        // Only where the naive forms lose no more than the tolerance to cancellation.
        UnaryStep(name: "log(sigmoid(x))", allowed: { $0.magnitude <= 3 }, build: { try log(sigmoid($0)) }, value: { -Exact.softplus(-$0) }),
        UnaryStep(name: "log(1 - sigmoid(x))", allowed: { $0.magnitude <= 3 }, build: { try log(1 - sigmoid($0)) },
                  value: { -Exact.softplus($0) }),
        UnaryStep(name: "x - x", build: { try $0 - $0 }, value: { _ in 0 }),
        UnaryStep(name: "x + x", build: { try $0 + $0 }, value: { 2 * $0 }),
        UnaryStep(name: "x * x", build: { try $0 * $0 }, value: { $0 * $0 }),
        UnaryStep(name: "x / x", allowed: \.isAwayFromZero, build: { try $0 / $0 }, value: { _ in 1 }),
        UnaryStep(name: "(x + 2) + 3", build: { try ($0 + 2) + 3 }, value: { $0 + 5 }),
        UnaryStep(name: "(2 * x) / 4", build: { try (2 * $0) / 4 }, value: { $0 / 2 }),
        UnaryStep(name: "tanh(x) + tanh(x), built twice", build: { try tanh($0) + tanh($0) }, value: { 2 * Foundation.tanh($0) }),
        UnaryStep(name: "abs(x)", build: { try abs($0) }, value: { Swift.abs($0) }),
    ]

    /// `x ∘ c` and `c ∘ x` for the constants the algebraic rules look for.
    static let literals: [UnaryStep] = [0.0, 1, -1, 2, 0.5].flatMap { c -> [UnaryStep] in
        [
            UnaryStep(name: "x + \(c)", build: { try $0 + c }, value: { $0 + c }),
            UnaryStep(name: "\(c) + x", build: { try c + $0 }, value: { c + $0 }),
            UnaryStep(name: "x - \(c)", build: { try $0 - c }, value: { $0 - c }),
            UnaryStep(name: "\(c) - x", build: { try c - $0 }, value: { c - $0 }),
            UnaryStep(name: "x * \(c)", build: { try $0 * c }, value: { $0 * c }),
            UnaryStep(name: "\(c) * x", build: { try c * $0 }, value: { c * $0 }),
            UnaryStep(name: "x / \(c)", allowed: { _ in c != 0 }, build: { try $0 / c }, value: { $0 / c }),
            UnaryStep(name: "\(c) / x", allowed: \.isAwayFromZero, build: { try c / $0 }, value: { c / $0 }),
            UnaryStep(name: "maximum(x, \(c))", build: { try maximum($0, constant(c, dtype: .float64)) }, value: { Swift.max($0, c) }),
            UnaryStep(name: "switch(lt(x, \(c)), \(c), x)", build: { try `switch`(lt($0, c), constant(c, dtype: .float64), $0) },
                      value: { Swift.max($0, c) }),
            UnaryStep(name: "x * fullLike(x, \(c))", build: { try $0 * fullLike($0, c) }, value: { $0 * c }),
        ]
    }

    static let binary: [BinaryStep] = [
        BinaryStep(name: "a + b", build: { try $0 + $1 }, value: { $0 + $1 }),
        BinaryStep(name: "a - b", build: { try $0 - $1 }, value: { $0 - $1 }),
        BinaryStep(name: "a * b", build: { try $0 * $1 }, value: { $0 * $1 }),
        BinaryStep(name: "a / b", allowed: { $1.isAwayFromZero }, build: { try $0 / $1 }, value: { $0 / $1 }),
        BinaryStep(name: "maximum(a, b)", build: { try maximum($0, $1) }, value: { Swift.max($0, $1) }),
        BinaryStep(name: "minimum(a, b)", build: { try minimum($0, $1) }, value: { Swift.min($0, $1) }),
        BinaryStep(name: "switch(gt(a, b), a, b)", build: { try `switch`(gt($0, $1), $0, $1) }, value: { Swift.max($0, $1) }),
        // Only switches that are continuous in their operands: where a comparison is decided by
        // rounding (mean(softmax(x)) < 0.5, …), both graphs are right and still differ.
        BinaryStep(name: "switch(lt(a, b), a, b)", build: { try `switch`(lt($0, $1), $0, $1) }, value: { Swift.min($0, $1) }),
        BinaryStep(name: "(a * b) / a", allowed: { a, _ in a.isAwayFromZero }, build: { try ($0 * $1) / $0 }, value: { _, b in b }),
        BinaryStep(name: "a + b - b", build: { try $0 + $1 - $1 }, value: { a, _ in a }),
        BinaryStep(name: "a * 2 - b + a", build: { try $0 * 2 - $1 + $0 }, value: { 3 * $0 - $1 }),
        BinaryStep(name: "-(a - b)", build: { try -($0 - $1) }, value: { $1 - $0 }),
        BinaryStep(name: "a - (b - a)", build: { try $0 - ($1 - $0) }, value: { 2 * $0 - $1 }),
        BinaryStep(name: "(a + b) - (a - b)", build: { try ($0 + $1) - ($0 - $1) }, value: { 2 * $1 }),
        BinaryStep(name: "a / b / a", allowed: { $0.isAwayFromZero && $1.isAwayFromZero }, build: { try $0 / $1 / $0 }, value: { 1 / $1 },
                   range: { _, b in b.map { 1 / $0 } }),
    ]
}

// MARK: - Random graphs

/// A random small graph over 1–3 float64 inputs, with input values where every op is
/// defined. Graph `index` is the same on every run.
struct RandomGraph {
    let index: Int
    let inputs: [Variable]
    let arguments: [NDArray]
    let outputs: [Variable]
    /// What was built, step by step (`t3 = tanh(t1)`), to rebuild a failing graph by hand.
    let recipe: [String]

    /// The seed graph `index` is generated from.
    static func seed(of index: Int) -> UInt64 { 0x7E57_0000 &+ UInt64(index) }

    init(index: Int) throws {
        self.index = index
        var generator = GraphGenerator(random: RandomState(seed: Self.seed(of: index)))
        let made = generator.makeInputs()
        inputs = made.inputs
        arguments = made.arguments
        let steps = Int.random(in: 3...12, using: &generator.random)
        for _ in 0..<steps { try generator.step() }
        outputs = generator.chooseOutputs(after: inputs.count)
        recipe = generator.recipe
    }
}

/// Builds a random graph one step at a time.
struct GraphGenerator {
    var random: RandomState
    var pool: [Term] = []
    var recipe: [String] = []

    /// Values stay below this, so nothing overflows.
    private let largest = 1e8

    mutating func chance(_ probability: Double) -> Bool { random.nextUnit() < probability }
    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &random)] }

    mutating func makeInputs() -> (inputs: [Variable], arguments: [NDArray]) {
        let base = (0..<3).map { _ in Int.random(in: 2...4, using: &random) }
        var inputs: [Variable] = [], arguments: [NDArray] = []
        for i in 0..<Int.random(in: 1...3, using: &random) {
            let rank = pick([0, 1, 1, 2, 2, 2, 3])
            let shape = base.suffix(rank).map { chance(0.25) ? 1 : $0 }
            // Size-1 dimensions are mostly broadcastable; other sizes known or not.
            let staticShape: [Int?] = shape.map { size in size == 1 ? (chance(0.8) ? 1 : nil) : (chance(0.5) ? size : nil) }
            let range = pick([Interval(lo: 0.5, hi: 2), Interval(lo: -2, hi: 2), Interval(lo: -2, hi: -0.5)])
            let variable = tensor("x\(i)", dtype: .float64, shape: staticShape)
            inputs.append(variable)
            arguments.append(NDArray.uniform(shape, low: range.lo, high: range.hi, dtype: .float64, using: &random))
            add(Term(variable: variable, shape: shape, range: range), "input \(variable.type) in \(range)")
        }
        return (inputs, arguments)
    }

    private mutating func add(_ term: Term, _ description: String) {
        recipe.append("t\(pool.count) = \(description)")
        pool.append(term)
    }

    /// `template` with its one-letter words replaced: `exp(x)` → `exp(t3)`.
    private static func substitute(_ names: [String: String], in template: String) -> String {
        names.reduce(template) { text, pair in
            text.replacingOccurrences(of: "\\b\(pair.key)\\b", with: pair.value, options: .regularExpression)
        }
    }

    private func name(_ term: Term) -> String { "t\(pool.firstIndex { $0.variable === term.variable }!)" }

    /// A term to build on: the newest half the time, so graphs grow deep.
    private mutating func operand() -> Term { chance(0.5) ? pool.last! : pick(pool) }

    /// The last term, and sometimes another computed one as a second output.
    mutating func chooseOutputs(after inputCount: Int) -> [Variable] {
        let last = pool.last!.variable
        let others = pool.dropFirst(inputCount).map(\.variable).filter { $0 !== last }
        return others.isEmpty || chance(0.5) ? [last] : [last, pick(others)]
    }

    /// Adds one random op; tries other ops until one applies.
    mutating func step() throws {
        for _ in 0..<50 {
            let applied: Bool
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<22: applied = try unary(pick(Steps.unary))
            case 22..<34: applied = try unary(pick(Steps.literals))
            case 34..<54: applied = try binary(pick(Steps.binary))
            case 54..<62: applied = try reduction()
            case 62..<68: applied = try shuffle()
            case 68..<74: applied = try reshape()
            case 74..<77: applied = try dotProduct()
            case 77..<80: applied = try accumulatedProduct()
            case 80..<86: applied = try subtensor()
            case 86..<94: applied = try softmaxFamily()
            default: applied = try crossentropy()
            }
            if applied { return }
        }
    }

    private mutating func unary(_ step: UnaryStep) throws -> Bool {
        let x = operand()
        guard step.allowed(x.range) else { return false }
        let range = x.range.map(step.value)
        guard range.magnitude <= largest, range.lo.isFinite, range.hi.isFinite else { return false }
        add(Term(variable: try step.build(x.variable), shape: x.shape, range: range), Self.substitute(["x": name(x)], in: step.name))
        return true
    }

    private mutating func binary(_ step: BinaryStep) throws -> Bool {
        let a = operand()
        let partners = pool.filter { Term.broadcastShape([a, $0]) != nil && step.allowed(a.range, $0.range) }
        guard !partners.isEmpty else { return false }
        let b = pick(partners)
        let range = step.range?(a.range, b.range) ?? Interval.combine(a.range, b.range, step.value)
        guard range.magnitude <= largest else { return false }
        let variable = try step.build(a.variable, b.variable)
        let description = Self.substitute(["a": name(a), "b": name(b)], in: step.name)
        add(Term(variable: variable, shape: Term.broadcastShape([a, b])!, range: range), description)
        return true
    }

    /// A random non-empty set of axes of an `ndim`-d tensor, or every axis.
    private mutating func axes(of ndim: Int) -> [Int] {
        if chance(0.3) { return Array(0..<ndim) }
        let chosen = (0..<ndim).filter { _ in chance(0.5) }
        return chosen.isEmpty ? [Int.random(in: 0..<ndim, using: &random)] : chosen
    }

    private mutating func reduction() throws -> Bool {
        let x = operand()
        guard x.ndim > 0 else { return false }
        let axes = axes(of: x.ndim), keepDims = chance(0.5)
        // Sometimes of a scaled tensor, for `sum(x * c) → sum(x) * c`.
        let scale = chance(0.3) ? pick([2.0, 0.5, -1]) : 1
        let operand = try scale == 1 ? x.variable : x.variable * scale
        let (kind, build): (String, (Variable, Axes, Bool) throws -> Variable) = pick([
            ("sum", { try sum($0, axis: $1, keepDims: $2) }),
            ("mean", { try mean($0, axis: $1, keepDims: $2) }),
            ("max", { try max($0, axis: $1, keepDims: $2) }),
        ])
        let reduced = axes.reduce(1) { $0 * x.shape[$1] }
        let scaled = x.range.map { $0 * scale }
        let range = kind == "sum" ? scaled.times(reduced) : scaled
        guard range.magnitude <= largest else { return false }
        let shape = x.shape.indices.compactMap { axes.contains($0) ? (keepDims ? 1 : nil) : x.shape[$0] }
        let variable = try build(operand, Axes(axes), keepDims)
        add(Term(variable: variable, shape: shape, range: range),
            "\(kind)(\(name(x))\(scale == 1 ? "" : " * \(scale)"), axis: \(axes), keepDims: \(keepDims))")
        return true
    }

    private mutating func shuffle() throws -> Bool {
        let x = operand()
        switch Int.random(in: 0..<3, using: &random) {
        case 0:
            guard x.ndim >= 2 else { return false }
            let order = Array(0..<x.ndim).shuffled(using: &random)
            add(Term(variable: try x.variable.transpose(order), shape: order.map { x.shape[$0] }, range: x.range), "transpose(\(name(x)), \(order))")
        case 1:
            guard x.ndim < 4 else { return false }
            let position = Int.random(in: 0...x.ndim, using: &random)
            var pattern = (0..<x.ndim).map(DimPattern.input), shape = x.shape
            pattern.insert(.newAxis, at: position)
            shape.insert(1, at: position)
            add(Term(variable: try x.variable.dimshuffle(pattern), shape: shape, range: x.range), "dimshuffle(\(name(x)), \(pattern))")
        default:
            guard let dropped = x.broadcastable.indices.filter({ x.broadcastable[$0] }).randomElement(using: &random) else { return false }
            var shape = x.shape
            shape.remove(at: dropped)
            add(Term(variable: try squeeze(x.variable, axis: Axes([dropped])), shape: shape, range: x.range), "squeeze(\(name(x)), axis: \(dropped))")
        }
        return true
    }

    private mutating func reshape() throws -> Bool {
        let x = operand()
        guard x.ndim > 0 else { return false }
        let count = x.count
        let divisors = (1...count).filter { count % $0 == 0 }
        let first = pick(divisors)
        let result: (shape: [Int], variable: Variable, description: String)
        switch Int.random(in: 0..<5, using: &random) {
        case 0: result = ([count], try flatten(x.variable), "flatten(\(name(x)))")
        case 1:
            guard x.ndim >= 2 else { return false }
            result = ([x.shape[0], count / x.shape[0]], try flatten(x.variable, ndim: 2), "flatten(\(name(x)), ndim: 2)")
        case 2: result = ([first, count / first], try Theano.reshape(x.variable, [first, -1]), "reshape(\(name(x)), [\(first), -1])")
        case 3: result = ([first, 1, count / first], try Theano.reshape(x.variable, [first, 1, count / first]),
                          "reshape(\(name(x)), [\(first), 1, \(count / first)])")
        default: result = (x.shape, try Theano.reshape(x.variable, x.shape), "reshape(\(name(x)), \(x.shape))")
        }
        add(Term(variable: result.variable, shape: result.shape, range: x.range), result.description)
        return true
    }

    private mutating func dotProduct() throws -> Bool {
        let a = operand()
        guard (1...2).contains(a.ndim) else { return false }
        let inner = a.shape.last!
        let partners = pool.filter { (1...2).contains($0.ndim) && $0.shape[0] == inner }
        let (b, bName): (Term, String)
        if !partners.isEmpty && chance(0.7) {
            let partner = pick(partners)
            (b, bName) = (partner, name(partner))
        } else if a.ndim == 2 {
            (b, bName) = (Term(variable: try a.variable.T, shape: a.shape.reversed(), range: a.range), "\(name(a)).T")
        } else {
            (b, bName) = (a, name(a))
        }
        let range = Interval.combine(a.range, b.range, *).times(inner).union(Interval(lo: 0, hi: 0))
        guard range.magnitude <= largest else { return false }
        let shape = Array(a.shape.dropLast()) + Array(b.shape.dropFirst())
        add(Term(variable: try dot(a.variable, b.variable), shape: shape, range: range), "dot(\(name(a)), \(bName))")
        return true
    }

    /// `β·c ± α·dot(a, b)` or `c + α·outer(u, v)`: the forms the BLAS rules (gemm, gemv,
    /// ger) look for.
    private mutating func accumulatedProduct() throws -> Bool {
        guard try chance(0.6) ? dotProduct() : outerProduct() else { return false }
        let product = pool.last!
        let accumulators = pool.dropLast().filter { Term.broadcastShape([$0, product]) == product.shape }
        // Without a tensor of the product's shape at hand, a function of the product.
        let c: Term
        if accumulators.isEmpty || chance(0.3) {
            c = Term(variable: try tanh(product.variable), shape: product.shape, range: product.range.map(Foundation.tanh))
            add(c, "tanh(\(name(product)))")
        } else {
            c = pick(accumulators)
        }
        let (alpha, beta) = (pick([1.0, -1, 0.5, 2]), pick([1.0, -1, 0.5]))
        let range = Interval.combine(c.range.map { beta * $0 }, product.range.map { alpha * $0 }, +)
        guard range.magnitude <= largest else { return true }
        let subtract = chance(0.5)
        let scaled = try alpha * product.variable, kept = try beta == 1 ? c.variable : beta * c.variable
        add(Term(variable: try subtract ? kept - scaled : kept + scaled, shape: product.shape,
                 range: subtract ? Interval.combine(c.range.map { beta * $0 }, product.range.map { alpha * $0 }, -) : range),
            "\(beta) * \(name(c)) \(subtract ? "-" : "+") \(alpha) * \(name(product))")
        return true
    }

    private mutating func outerProduct() throws -> Bool {
        let vectors = pool.filter { $0.ndim == 1 }
        guard !vectors.isEmpty else { return false }
        let (u, v) = (pick(vectors), pick(vectors))
        let range = Interval.combine(u.range, v.range, *)
        guard range.magnitude <= largest else { return false }
        add(Term(variable: try outer(u.variable, v.variable), shape: u.shape + v.shape, range: range), "outer(\(name(u)), \(name(v)))")
        return true
    }

    private mutating func subtensor() throws -> Bool {
        let x = operand()
        guard x.ndim > 0 else { return false }
        var indices: [TensorIndex] = [], shape: [Int] = []
        for size in x.shape {
            switch Int.random(in: 0..<4, using: &random) {
            case 0:
                indices.append(.slice(start: nil, stop: nil, step: nil))
                shape.append(size)
            case 1:
                let start = Int.random(in: 0..<size, using: &random), stop = Int.random(in: (start + 1)...size, using: &random)
                indices.append(.slice(start: start, stop: stop, step: nil))
                shape.append(stop - start)
            case 2:
                indices.append(.slice(start: nil, stop: nil, step: -1))
                shape.append(size)
            default:
                indices.append(.at(Int.random(in: -size..<size, using: &random)))
            }
        }
        let variable = try x.variable[indices: indices.map { $0 as any IndexConvertible }]
        add(Term(variable: variable, shape: shape, range: x.range), "\(name(x))[\(indices.map(Self.text).joined(separator: ", "))]")
        return true
    }

    private static func text(_ index: TensorIndex) -> String {
        switch index {
        case .at(let i): "\(i)"
        case .slice(let start, let stop, let step): "\(start.map(String.init) ?? ""):\(stop.map(String.init) ?? "")\(step.map { ":\($0)" } ?? "")"
        case .tensor, .expand: "?"
        }
    }

    private mutating func softmaxFamily() throws -> Bool {
        let x = operand()
        guard x.ndim > 0 else { return false }
        let logRange = Interval(lo: x.range.lo - x.range.hi - Foundation.log(Double(x.shape.last!)), hi: 0)
        let variable: Variable, description: String, range: Interval, shape: [Int]
        switch Int.random(in: 0..<5, using: &random) {
        case 0: (variable, description, range, shape) = (try softmax(x.variable), "softmax", Interval(lo: 0, hi: 1), x.shape)
        case 1: (variable, description, range, shape) = (try logSoftmax(x.variable), "logSoftmax", logRange, x.shape)
        case 2: (variable, description, range, shape) = (try log(softmax(x.variable)), "log(softmax)", logRange, x.shape)
        case 3:
            guard x.range.hi <= 5 else { return false }
            (variable, description, range, shape) = (try exp(x.variable) / sum(exp(x.variable), axis: -1, keepDims: true),
                                                     "exp / sum(exp, axis: -1, keepDims: true)", Interval(lo: 0, hi: 1), x.shape)
        default:
            guard x.range.hi <= 5 else { return false }
            let axes = axes(of: x.ndim), keepDims = chance(0.5)
            let reduced = axes.reduce(1) { $0 * x.shape[$1] }
            (variable, description, range) = (try log(sum(exp(x.variable), axis: Axes(axes), keepDims: keepDims)),
                                              "log(sum(exp, axis: \(axes), keepDims: \(keepDims)))",
                                              Interval(lo: x.range.lo, hi: x.range.hi + Foundation.log(Double(reduced))))
            shape = x.shape.indices.compactMap { axes.contains($0) ? (keepDims ? 1 : nil) : x.shape[$0] }
        }
        add(Term(variable: variable, shape: shape, range: range), "\(description) of \(name(x))")
        return true
    }

    /// `categoricalCrossentropy(softmax(x), labels)` with constant integer labels.
    private mutating func crossentropy() throws -> Bool {
        let x = operand()
        guard x.ndim == 2 else { return false }
        let labels = (0..<x.shape[0]).map { _ in Int64.random(in: 0..<Int64(x.shape[1]), using: &random) }
        let variable = try categoricalCrossentropy(softmax(x.variable), constant(NDArray(labels)))
        let range = Interval(lo: 0, hi: x.range.hi - x.range.lo + Foundation.log(Double(x.shape[1])))
        add(Term(variable: variable, shape: [x.shape[0]], range: range), "categoricalCrossentropy(softmax(\(name(x))), \(labels))")
        return true
    }
}

// MARK: - Tests

@Suite("Rewrite properties")
struct RewritePropertyTests {
    static let batches = 20
    static let graphsPerBatch = 100
    static let closeness = Closeness(rtol: 1e-9, atol: 1e-9)

    /// Rewriting never changes what a graph computes: each random graph gives the same
    /// results unoptimized and optimized (with the invariants checked after every rule),
    /// and no rule fails or breaks an invariant.
    @Test(arguments: 0..<batches)
    func optimizedGraphsComputeTheSameValues(batch: Int) {
        let start = ContinuousClock.now
        let indices = (batch * Self.graphsPerBatch)..<((batch + 1) * Self.graphsPerBatch)
        let failures = indices.compactMap { Self.problem(index: $0) }
        for failure in failures.prefix(2) { Issue.record("\(failure.details)") }
        if failures.count > 2 {
            Issue.record("batch \(batch): more failing graphs:\n\(failures.dropFirst(2).map { "#\($0.index): \($0.summary)" }.joined(separator: "\n"))")
        }
        print("rewrite properties, batch \(batch): \(indices.count) graphs in \(ContinuousClock.now - start)")
    }

    /// What is wrong with random graph `index`, with everything needed to reproduce it; `nil`
    /// when nothing is.
    static func problem(index: Int, options: CompileOptions = CompileOptions(checkInvariants: true)) -> GraphProblem? {
        let graph: RandomGraph
        do { graph = try RandomGraph(index: index) } catch {
            return GraphProblem(index: index, summary: "building threw \(error)", details: "graph #\(index): building threw \(error)")
        }
        func report(_ problem: String, _ functions: [(String, Function?)]) -> GraphProblem {
            let details = ([
                "graph #\(index) (seed 0x\(String(RandomGraph.seed(of: index), radix: 16))): \(problem)",
                "recipe:\n" + graph.recipe.map { "  " + $0 }.joined(separator: "\n"),
                "built graph:\n" + debugprint(graph.outputs),
            ] + functions.compactMap { label, function in function.map { "\(label) graph:\n" + debugprint($0) } }).joined(separator: "\n")
            return GraphProblem(index: index, summary: problem.split(separator: "\n").filter { !$0.hasSuffix(":") && !$0.hasSuffix("×") }
                .joined(separator: "; "), details: details)
        }
        let unoptimized: Function, unoptimizedResults: [NDArray]
        do {
            unoptimized = try function(inputs: graph.inputs, outputs: graph.outputs, options: .unoptimized)
            unoptimizedResults = try unoptimized(graph.arguments)
        } catch {
            return report("the unoptimized graph threw \(error)", [])
        }
        let optimized: Function
        do {
            optimized = try function(inputs: graph.inputs, outputs: graph.outputs, options: options)
        } catch {
            return report("compiling optimized threw \(error)", [("unoptimized", unoptimized)])
        }
        let functions = [("unoptimized", Optional(unoptimized)), ("optimized", optimized)]
        let results: [NDArray]
        do { results = try optimized(graph.arguments) } catch { return report("the optimized graph threw \(error)", functions) }
        var problems: [String] = []
        for (position, (actual, expected)) in zip(results, unoptimizedResults).enumerated() {
            if actual.shape != expected.shape || actual.dtype != expected.dtype {
                problems.append("output \(position) is \(actual.dtype) \(actual.shape), unoptimized \(expected.dtype) \(expected.shape)")
                continue
            }
            let mismatches = closeness.mismatches(actual.elements(as: Double.self), expected.elements(as: Double.self))
            if !mismatches.isEmpty {
                problems.append("output \(position) differs (optimized ≠ unoptimized): \(mismatches.prefix(5).joined(separator: ", "))")
            }
        }
        let rewrites = optimized.rewriteReport
        if !rewrites.violations.isEmpty || !rewrites.failures.isEmpty || !rewrites.unfinishedPhases.isEmpty {
            problems.append("the optimizer reported:\n\(rewrites)")
        }
        return problems.isEmpty ? nil : report(problems.joined(separator: "\n"), functions)
    }

    /// The check above catches a wrong rule: with `tanh(x) → sigmoid(x)` added, some graphs
    /// are reported as differing.
    @Test func aWrongRuleIsCaught() {
        var options = CompileOptions(checkInvariants: true)
        options.additionalRules = [(.canonicalize, Rewrite.pattern("wrong_tanh", .op(Tanh.self, "x")) { try sigmoid($0["x"]) })]
        let problems = (0..<100).compactMap { Self.problem(index: $0, options: options) }
        #expect(problems.contains { $0.summary.contains("differs (optimized ≠ unoptimized)") }, "\(problems.map(\.summary))")
    }

    /// The generator is not degenerate: the graphs use the ops they are meant to and the
    /// rewrites fire on them.
    @Test func randomGraphsExerciseTheRules() throws {
        var fired: [String: Int] = [:], nodes = (unoptimized: 0, optimized: 0)
        for index in 0..<100 {
            let graph = try RandomGraph(index: index)
            let optimized = try function(inputs: graph.inputs, outputs: graph.outputs)
            for (rule, count) in optimized.rewriteReport.counts { fired[rule, default: 0] += count }
            nodes.unoptimized += try function(inputs: graph.inputs, outputs: graph.outputs, options: .unoptimized).graph.nodes.count
            nodes.optimized += optimized.graph.nodes.count
        }
        print("100 random graphs: \(nodes.unoptimized) nodes unoptimized, \(nodes.optimized) optimized")
        print("rules fired on 100 random graphs:", fired.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        // (gemv is left out: `accumulatedProductsBecomeOneBlasCall` checks it.)
        for rule in ["add_canonizer", "mul_canonizer", "log1p", "constant_folding", "merge", "pow_to_sqr", "softmax_from_exp",
                     "sum_of_scaled", "elementwise_fusion", "gemm", "ger"] where fired[rule] == nil {
            Issue.record("rule \(rule) never fired on 100 random graphs")
        }
    }

    /// Each accumulating matrix product becomes one BLAS call with the accumulation inside
    /// (the forms the random graphs rarely reach), computing the same values.
    @Test(arguments: [
        BlasForm(name: "C + 0.5 * dot(A, B)", shapes: [[3, 4], [4, 2], [3, 2]], isExpected: { ($0 as? Gemm)?.accumulates == true }) {
            try $0[2] + 0.5 * dot($0[0], $0[1])
        },
        BlasForm(name: "C - dot(A, B)", shapes: [[3, 4], [4, 2], [3, 2]], isExpected: { ($0 as? Gemm)?.accumulates == true }) {
            try $0[2] - dot($0[0], $0[1])
        },
        BlasForm(name: "y + 0.5 * dot(A, x)", shapes: [[3, 4], [4], [3]], isExpected: { ($0 as? Gemv)?.accumulates == true }) {
            try $0[2] + 0.5 * dot($0[0], $0[1])
        },
        BlasForm(name: "y - dot(A, x)", shapes: [[3, 4], [4], [3]], isExpected: { ($0 as? Gemv)?.accumulates == true }) {
            try $0[2] - dot($0[0], $0[1])
        },
        BlasForm(name: "M + 0.5 * outer(u, v)", shapes: [[3], [2], [3, 2]], isExpected: { $0 is Ger }) {
            try $0[2] + 0.5 * outer($0[0], $0[1])
        },
    ])
    func accumulatedProductsBecomeOneBlasCall(_ form: BlasForm) throws {
        var random = RandomState(seed: 3)
        let inputs = form.shapes.enumerated().map { tensor("i\($0)", dtype: .float64, shape: $1.map { _ in nil }) }
        let arguments = form.shapes.map { NDArray.uniform($0, low: -1, high: 1, dtype: .float64, using: &random) }
        let output = try form.build(inputs)
        let optimized = try function(inputs: inputs, outputs: [output], options: CompileOptions(checkInvariants: true))
        let unoptimized = try function(inputs: inputs, outputs: [output], options: .unoptimized)
        let ops = optimized.graph.nodes.map(\.op)
        #expect(ops.filter(form.isExpected).count == 1 && !ops.contains { $0 is Dot || $0 is Gemv && !form.isExpected($0) },
                "\(form.name):\n\(debugprint(optimized))")
        #expect(optimized.rewriteReport.failures.isEmpty, "\(optimized.rewriteReport)")
        let mismatches = Self.closeness.mismatches(try optimized(arguments)[0].elements(as: Double.self),
                                                   try unoptimized(arguments)[0].elements(as: Double.self))
        #expect(mismatches.isEmpty, "\(mismatches)")
    }

    /// The SGD step of an MLP 784-500-10 (tanh hidden layer, softmax output, mean
    /// cross-entropy with integer labels) compiles to materially fewer nodes optimized, with
    /// the fused cross-entropy and BLAS calls, and computes the same step.
    @Test func mlpTrainingStepShrinksAndAgrees() throws {
        var random = RandomState(seed: 784)
        let x = matrix("x", dtype: .float64, shape: (nil, 784))
        let y = vector("y", dtype: .int64)
        let sizes = [(784, 500), (500, 10)]
        let weights = try sizes.enumerated().map { layer, size in
            try shared(NDArray.normal([size.0, size.1], std: 0.05, dtype: .float64, using: &random), name: "W\(layer + 1)")
        }
        let biases = try sizes.enumerated().map { layer, size in
            try shared(NDArray(zeros: [size.1], dtype: .float64), name: "b\(layer + 1)")
        }
        let hidden = try tanh(dot(x, weights[0]) + biases[0])
        let probabilities = try softmax(dot(hidden, weights[1]) + biases[1])
        let cost = try mean(categoricalCrossentropy(probabilities, y))
        let parameters = [weights[0], biases[0], weights[1], biases[1]]
        let gradients = try grad(cost, wrt: parameters)
        let updates = try Dictionary(uniqueKeysWithValues: zip(parameters, gradients).map { ($0, try $0 - 0.01 * $1) })

        let unoptimized = try function(inputs: [x, y], outputs: [cost], updates: updates, options: .unoptimized)
        let optimized = try function(inputs: [x, y], outputs: [cost], updates: updates, options: CompileOptions(checkInvariants: true))
        let counts = (unoptimized: unoptimized.graph.nodes.count, optimized: optimized.graph.nodes.count)
        print("MLP 784-500-10 training step: \(counts.unoptimized) nodes unoptimized, \(counts.optimized) optimized")
        print("compile times: unoptimized \(unoptimized.compileTimes), optimized \(optimized.compileTimes)")
        #expect(Double(counts.optimized) <= 0.7 * Double(counts.unoptimized), "\(counts)\n\(debugprint(optimized))")
        #expect(optimized.graph.nodes.contains { $0.op is CrossentropySoftmax }, "\(debugprint(optimized))")
        #expect(optimized.graph.nodes.contains { $0.op is Gemm }, "\(debugprint(optimized))")
        #expect(optimized.rewriteReport.violations.isEmpty && optimized.rewriteReport.failures.isEmpty, "\(optimized.rewriteReport)")

        let batch = [NDArray.uniform([16, 784], dtype: .float64, using: &random),
                     NDArray((0..<16).map { _ in Int64.random(in: 0..<10, using: &random) })]
        let initial = parameters.map(\.value)
        let expectedCost = try unoptimized(batch)[0].scalar(as: Double.self)
        let expectedParameters = parameters.map(\.value)
        for (parameter, value) in zip(parameters, initial) { try parameter.setValue(value) }
        let actualCost = try optimized(batch)[0].scalar(as: Double.self)
        #expect(Self.closeness.accepts(actualCost, expectedCost), "cost \(actualCost), unoptimized \(expectedCost)")
        for (parameter, expected) in zip(parameters, expectedParameters) {
            let mismatches = Self.closeness.mismatches(parameter.value.elements(as: Double.self), expected.elements(as: Double.self))
            #expect(mismatches.isEmpty, "\(parameter.name!): \(mismatches.prefix(5))")
        }
        // The step did something.
        #expect(expectedParameters[0] != initial[0])
    }
}

/// What is wrong with a random graph: one line, and everything needed to reproduce it (the
/// recipe, and `debugprint` of the graph as built, unoptimized and optimized).
struct GraphProblem {
    let index: Int
    let summary: String
    let details: String
}

/// A sum with a matrix product that the specialize phase should turn into one BLAS call.
struct BlasForm: Sendable, CustomTestStringConvertible {
    let name: String
    /// The run-time shapes of the inputs (declared with unknown sizes).
    let shapes: [[Int]]
    /// Whether an op is the BLAS call expected.
    let isExpected: @Sendable (any Op) -> Bool
    let build: @Sendable ([Variable]) throws -> Variable
    var testDescription: String { name }
}
