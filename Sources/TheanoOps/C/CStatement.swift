/// A statement of a generated C function. Kernel skeletons are written with these and a
/// ``CBlock`` builder — declarations, assignments, loops and branches as values — so that the
/// structure of a kernel reads as Swift, braces and indentation cannot go wrong, and only
/// expressions (``CExpression`` or their text) are C text.
///
/// ```swift
/// CFunction("sum", parameters: ["int64_t n", "const double *x", "double *out"]) {
///     CDeclare(.value("double"), "total", mutable: true, "0")
///     CFor("i", from: "0", below: "n") { CAssign("total", "x[i]", operator: "+=") }
///     CAssign("*out", "total")
/// }
/// ```
package protocol CStatement {
    /// The statement's lines, each starting with `indent`.
    func lines(indent: String) -> [String]
}

/// The statements of a block, written one per line as in C.
@resultBuilder
package enum CBlock {
    package static func buildExpression(_ statement: some CStatement) -> [any CStatement] { [statement] }
    package static func buildExpression(_ statements: [any CStatement]) -> [any CStatement] { statements }
    package static func buildBlock(_ parts: [any CStatement]...) -> [any CStatement] { parts.flatMap { $0 } }
    package static func buildOptional(_ part: [any CStatement]?) -> [any CStatement] { part ?? [] }
    package static func buildEither(first part: [any CStatement]) -> [any CStatement] { part }
    package static func buildEither(second part: [any CStatement]) -> [any CStatement] { part }
    package static func buildArray(_ parts: [[any CStatement]]) -> [any CStatement] { parts.flatMap { $0 } }
}

/// The one level of indentation of generated C.
private let indentation = "    "

/// The type of a declared variable: a value (`double x`) or a pointer (`const float *restrict p`).
package enum CDeclaredType {
    case value(String)
    /// A pointer to `pointee` (`const double` for read-only memory); `restrict` when nothing
    /// else reaches the memory through another pointer.
    case pointer(to: String, restrict: Bool)
    /// An array on the stack, of these sizes (`T name[4][8]`).
    case array(of: String, sizes: [Int])

    package static func value(_ type: CType) -> CDeclaredType { .value(type.rawValue) }
}

/// `const type name = value;` — without `const` when `mutable` (a pointer's constness is its
/// pointee's; an array is always mutable), without a value when `nil`.
package struct CDeclare: CStatement {
    let type: CDeclaredType, name: String, mutable: Bool, value: String?

    package init(_ type: CDeclaredType, _ name: String, mutable: Bool = false, _ value: String?) {
        (self.type, self.name, self.mutable, self.value) = (type, name, mutable, value)
    }

    package func lines(indent: String) -> [String] {
        let declaration = switch type {
        case .value(let type): (mutable ? "" : "const ") + "\(type) \(name)"
        case .pointer(let pointee, let restrict): "\(pointee) *\(restrict ? "restrict " : "")\(name)"
        case .array(let element, let sizes): "\(element) \(name)" + sizes.map { "[\($0)]" }.joined()
        }
        return [indent + declaration + (value.map { " = \($0)" } ?? "") + ";"]
    }
}

/// `target = value;`, or another assignment operator (`+=`, `*=`).
package struct CAssign: CStatement {
    let target: String, value: String, assignment: String

    package init(_ target: String, _ value: String, operator assignment: String = "=") {
        (self.target, self.value, self.assignment) = (target, value, assignment)
    }

    package func lines(indent: String) -> [String] { [indent + "\(target) \(assignment) \(value);"] }
}

/// A call whose result is not used: `free(partial);`.
package struct CCall: CStatement {
    let function: String, arguments: [String]

    package init(_ function: String, _ arguments: String...) { (self.function, self.arguments) = (function, arguments) }

    package func lines(indent: String) -> [String] { [indent + "\(function)(\(arguments.joined(separator: ", ")));"] }
}

/// `return;`.
package struct CReturn: CStatement {
    package init() {}

    package func lines(indent: String) -> [String] { [indent + "return;"] }
}

/// A counting loop: `for (int64_t i = from; i < below; ++i)` (or `i += step`), or counting
/// down, `for (int i = from; i >= downTo; --i)`; preceded by `annotation` (a macro that
/// expands to a loop pragma) when one is given.
package struct CFor: CStatement {
    let header: String, body: [any CStatement], annotation: String?

    package init(_ index: String, type: String = "int64_t", from start: String, below end: String, by step: String? = nil,
                 annotation: String? = nil, @CBlock _ body: () -> [any CStatement]) {
        header = "for (\(type) \(index) = \(start); \(index) < \(end); \(step.map { "\(index) += \($0)" } ?? "++\(index)"))"
        self.annotation = annotation
        self.body = body()
    }

    package init(_ index: String, type: String = "int", from start: String, downTo end: String, @CBlock _ body: () -> [any CStatement]) {
        header = "for (\(type) \(index) = \(start); \(index) >= \(end); --\(index))"
        annotation = nil
        self.body = body()
    }

    package func lines(indent: String) -> [String] { (annotation.map { [indent + $0] } ?? []) + braced(header, body, indent: indent) }
}

/// `if (condition) { … }`.
package struct CIf: CStatement {
    let condition: String, body: [any CStatement]

    package init(_ condition: String, @CBlock _ body: () -> [any CStatement]) {
        self.condition = condition
        self.body = body()
    }

    package func lines(indent: String) -> [String] { braced("if (\(condition))", body, indent: indent) }
}

/// A function definition: `void name(parameters) { … }`, preceded by `attributes` (a macro
/// that expands to function attributes) when some are given.
package struct CFunction {
    let name: String, parameters: [String], attributes: String?, body: [any CStatement]

    package init(_ name: String, parameters: [String], attributes: String? = nil, @CBlock _ body: () -> [any CStatement]) {
        (self.name, self.parameters, self.attributes) = (name, parameters, attributes)
        self.body = body()
    }

    /// The definition's C text.
    package var source: String {
        let signature = (attributes.map { $0 + " " } ?? "") + "void \(name)(\(parameters.joined(separator: ", ")))"
        return braced(signature, body, indent: "").joined(separator: "\n")
    }
}

/// `header {`, the body one level deeper, `}`.
private func braced(_ header: String, _ body: [any CStatement], indent: String) -> [String] {
    [indent + header + " {"] + body.flatMap { $0.lines(indent: indent + indentation) } + [indent + "}"]
}
