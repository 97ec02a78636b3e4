import TheanoCore
import TheanoOps

/// A graph shape to look for: an op applied to sub-patterns, a named placeholder that
/// matches any variable (the same name must match the same variable each time it appears),
/// or a constant with every element equal to a number (also through broadcasts and casts).
///
/// Patterns are written with literals: `.op(Log.self, .op(Add.self, 1, "x"))` is
/// `log(1 + x)`. Operands of commutative ops (`+`, `*`, `maximum`, …) match in either order.
/// ``underCastsAndBroadcasts(_:)`` also finds a sub-pattern beneath the dimshuffles,
/// broadcasts and float casts that mixing shapes and dtypes puts between ops.
public indirect enum Pattern: Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral {
    /// A named placeholder matching any variable (satisfying the condition, if any); a
    /// string literal makes one.
    case placeholder(String, where: (@Sendable (Variable) -> Bool)?)
    /// A constant whose every element equals the number; a number literal makes one.
    case constant(Double)
    /// An op matched by the matcher, applied to variables matching the sub-patterns.
    case apply(OpMatcher, [Pattern])
    /// See ``underCastsAndBroadcasts(_:)``.
    case relaidOut(Pattern)

    public init(stringLiteral name: String) { self = .placeholder(name, where: nil) }
    public init(integerLiteral value: Int) { self = .constant(Double(value)) }
    public init(floatLiteral value: Double) { self = .constant(value) }

    /// An application of an op of type `type` (satisfying `condition`) to `inputs`.
    public static func op<O: Op>(_ type: O.Type, _ inputs: Pattern..., where condition: (@Sendable (O) -> Bool)? = nil) -> Pattern {
        .apply(OpMatcher(type: type, condition: condition), inputs)
    }

    /// A placeholder that only matches variables satisfying `condition`.
    public static func variable(_ name: String, where condition: @escaping @Sendable (Variable) -> Bool) -> Pattern {
        .placeholder(name, where: condition)
    }

    /// `pattern`, also where it lies beneath dimshuffles, broadcasts (`alloc`) and casts from
    /// one float type to another: `log1p(-cast(exp(x)))` and `1 - dimshuffle(sigmoid(x))`
    /// match `.op(LogOnePlus.self, .op(Negate.self, .underCastsAndBroadcasts(.op(Exp.self, "x"))))`
    /// and `.op(Subtract.self, 1, .underCastsAndBroadcasts(.op(Sigmoid.self, "x")))`.
    ///
    /// A rule built by ``Rewrite/pattern(_:_:fileID:line:_:)`` applies the same dimshuffles,
    /// broadcasts and casts to its replacement, which is right because every op between the
    /// pattern's root and this sub-pattern must be elementwise, with constants for its other
    /// operands (the rule checks it): such ops commute with them.
    public static func underCastsAndBroadcasts(_ pattern: Pattern) -> Pattern { .relaidOut(pattern) }

    /// The bindings under which `variable` matches this pattern, or `nil`.
    package func match(_ variable: Variable, in context: RewriteContext) -> Match? {
        var match = Match(bindings: [:], root: variable, layout: [])
        return bind(variable, &match) ? match : nil
    }

    private func bind(_ variable: Variable, _ match: inout Match) -> Bool {
        switch self {
        case .placeholder(let name, let condition):
            if let bound = match.bindings[name] { return bound === variable }
            guard condition?(variable) ?? true else { return false }
            match.bindings[name] = variable
            return true
        case .constant(let value):
            return variable.constantScalar == value
        case .apply(let matcher, let patterns):
            guard let node = variable.owner, matcher.matches(node.op), node.inputs.count == patterns.count else { return false }
            let orders: [[Int]] = matcher.isCommutative(node.op) && patterns.count == 2 ? [[0, 1], [1, 0]] : [Array(patterns.indices)]
            for order in orders {
                var attempt = match
                if zip(order, patterns).allSatisfy({ $1.bind(node.inputs[$0], &attempt) }) {
                    match = attempt
                    return true
                }
            }
            return false
        case .relaidOut(let pattern):
            var current = variable
            var layout = match.layout
            while true {
                var attempt = match
                attempt.layout = layout
                if pattern.bind(current, &attempt) {
                    match = attempt
                    return true
                }
                guard let node = current.owner, node.changesOnlyLayout else { return false }
                layout.append(node)
                current = node.inputs[0]
            }
        }
    }

    /// Whether a rule may apply the dimshuffles, broadcasts and casts a match looked through
    /// to its replacement: on the way from the root to each ``underCastsAndBroadcasts(_:)``
    /// (of which there is then one chain), every op is elementwise and its other operands
    /// are constants.
    var relaysOutSoundly: Bool {
        switch self {
        case .placeholder, .constant: return true
        case .relaidOut(let pattern): return pattern.relaysOutSoundly
        case .apply(let matcher, let patterns):
            let reaching = patterns.filter(\.looksThroughLayout)
            guard let path = reaching.first else { return true }
            let othersAreConstants = patterns.allSatisfy { pattern in
                if case .constant = pattern { return true }
                return pattern.looksThroughLayout
            }
            return matcher.isElementwise && reaching.count == 1 && othersAreConstants && path.relaysOutSoundly
        }
    }

    private var looksThroughLayout: Bool {
        switch self {
        case .placeholder, .constant: false
        case .relaidOut: true
        case .apply(_, let patterns): patterns.contains(where: \.looksThroughLayout)
        }
    }
}

extension Apply {
    /// Whether this node only moves, repeats or converts its first input's elements — a
    /// dimshuffle, a broadcast, a cast between float types — so that an elementwise function
    /// of its output is the same node applied to that function of its input (up to rounding
    /// for a cast).
    fileprivate var changesOnlyLayout: Bool {
        switch op {
        case is DimShuffle, is Alloc: true
        case let cast as Cast: cast.dtype.isFloat && inputs[0].dtype.isFloat
        default: false
        }
    }
}

/// Matches ops of one type, optionally only those satisfying a condition.
public struct OpMatcher: Sendable {
    package let type: ObjectIdentifier
    private let test: @Sendable (any Op) -> Bool

    /// Whether the ops matched are elementwise.
    let isElementwise: Bool

    package init<O: Op>(type: O.Type, condition: (@Sendable (O) -> Bool)?) {
        self.type = ObjectIdentifier(type)
        isElementwise = type is any ElementwiseOp.Type
        test = { op in (op as? O).map { condition?($0) ?? true } ?? false }
    }

    package func matches(_ op: any Op) -> Bool { test(op) }

    package func isCommutative(_ op: any Op) -> Bool { (op as? any ElementwiseOp)?.isCommutative ?? false }
}

/// The variables a pattern's placeholders matched.
public struct Match {
    var bindings: [String: Variable]
    /// The variable the whole pattern matched.
    public let root: Variable
    /// The dimshuffles, broadcasts and casts ``Pattern/underCastsAndBroadcasts(_:)`` looked
    /// through, outermost first.
    package var layout: [Apply]

    package init(bindings: [String: Variable], root: Variable, layout: [Apply]) {
        self.bindings = bindings
        self.root = root
        self.layout = layout
    }

    /// The variable the placeholder `name` matched (the pattern must have one of that name).
    public subscript(_ name: String) -> Variable { bindings[name]! }

    /// `replacement` given the dimshuffles, broadcasts and casts the match looked through,
    /// innermost first, as they were given to what it replaces.
    func relaidOut(_ replacement: Variable) throws -> Variable {
        try layout.reversed().reduce(replacement) { value, node in
            try node.op([value] + node.inputs.dropFirst(), at: node.location)
        }
    }
}
