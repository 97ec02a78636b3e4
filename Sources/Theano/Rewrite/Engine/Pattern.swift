/// A graph shape to look for: an op applied to sub-patterns, a named placeholder that
/// matches any variable (the same name must match the same variable each time it appears),
/// or a constant with every element equal to a number (also through broadcasts and casts).
///
/// Patterns are written with literals: `.op(Log.self, .op(Add.self, 1, "x"))` is
/// `log(1 + x)`. Operands of commutative ops (`+`, `*`, `maximum`, …) match in either order.
public indirect enum Pattern: Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral {
    case placeholder(String, where: (@Sendable (Variable) -> Bool)?)
    case constant(Double)
    case apply(OpMatcher, [Pattern])

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

    /// The bindings under which `variable` matches this pattern, or `nil`.
    func match(_ variable: Variable, in context: RewriteContext) -> Match? {
        var bindings: [String: Variable] = [:]
        return bind(variable, &bindings) ? Match(bindings: bindings, root: variable) : nil
    }

    private func bind(_ variable: Variable, _ bindings: inout [String: Variable]) -> Bool {
        switch self {
        case .placeholder(let name, let condition):
            if let bound = bindings[name] { return bound === variable }
            guard condition?(variable) ?? true else { return false }
            bindings[name] = variable
            return true
        case .constant(let value):
            return variable.constantScalar == value
        case .apply(let matcher, let patterns):
            guard let node = variable.owner, matcher.matches(node.op), node.inputs.count == patterns.count else { return false }
            let orders: [[Int]] = matcher.isCommutative(node.op) && patterns.count == 2 ? [[0, 1], [1, 0]] : [Array(patterns.indices)]
            for order in orders {
                var attempt = bindings
                if zip(order, patterns).allSatisfy({ $1.bind(node.inputs[$0], &attempt) }) {
                    bindings = attempt
                    return true
                }
            }
            return false
        }
    }
}

/// Matches ops of one type, optionally only those satisfying a condition.
public struct OpMatcher: Sendable {
    let type: ObjectIdentifier
    private let test: @Sendable (any Op) -> Bool

    init<O: Op>(type: O.Type, condition: (@Sendable (O) -> Bool)?) {
        self.type = ObjectIdentifier(type)
        test = { op in (op as? O).map { condition?($0) ?? true } ?? false }
    }

    func matches(_ op: any Op) -> Bool { test(op) }

    func isCommutative(_ op: any Op) -> Bool { (op as? any ElementwiseOp)?.isCommutative ?? false }
}

/// The variables a pattern's placeholders matched.
public struct Match {
    let bindings: [String: Variable]
    /// The variable the whole pattern matched.
    public let root: Variable

    public subscript(_ name: String) -> Variable { bindings[name]! }
}

extension Variable {
    /// The common element, as a 0-d array of this variable's dtype, when this is a constant
    /// whose elements are all equal (seen through broadcasts and casts) — exact for every
    /// dtype, where ``constantScalar`` goes through `Double`.
    var constantElement: NDArray? {
        if let constant = self as? Constant {
            let first = constant.value.reshaped([constant.value.count]).sliced(axis: 0, start: 0, count: Swift.min(1, constant.value.count))
            guard constant.value.count > 0,
                  NDArray(repeating: first, count: constant.value.count) == constant.value.reshaped([constant.value.count])
                    || constantScalar?.isNaN == true
            else { return nil }
            return first.reshaped([])
        }
        guard let node = owner else { return nil }
        switch node.op {
        case is DimShuffle, is Alloc: return node.inputs[0].constantElement
        case let cast as Cast: return node.inputs[0].constantElement?.cast(to: cast.dtype)
        default: return nil
        }
    }

    /// The value of every element when this is a constant whose elements are all equal —
    /// seen through broadcasts (`DimShuffle`, `Alloc`) and casts — else `nil`.
    public var constantScalar: Double? {
        if let constant = self as? Constant {
            let values = constant.value.elements(as: Double.self)
            guard let first = values.first, values.allSatisfy({ $0 == first || ($0.isNaN && first.isNaN) }) else { return nil }
            return first
        }
        guard let node = owner else { return nil }
        switch node.op {
        case is DimShuffle, is Alloc: return node.inputs[0].constantScalar
        case let cast as Cast: return node.inputs[0].constantScalar.map { NDArray(scalar: $0, dtype: cast.dtype).scalar(as: Double.self) }
        default: return nil
        }
    }
}
