/// Everything that can go wrong when building, compiling or running a graph.
///
/// Each case names the operation, what it was given and where in the user's source the
/// offending node was built, so the message alone says what to fix.
public enum TheanoError: Error, CustomStringConvertible {
    /// An operation was applied to inputs whose static types it cannot accept.
    case typeMismatch(op: String, inputs: [TensorType], reason: String, location: SourceLocation)
    /// A builder was given an argument that makes no sense (an axis out of range, a bad pattern).
    case invalidArgument(function: String, reason: String, location: SourceLocation)
    /// `grad` was asked to differentiate something that is not a scalar.
    case nonScalarCost(type: TensorType, location: SourceLocation)
    /// `grad` was asked for the gradient with respect to a variable the cost does not depend on.
    case disconnectedInput(variable: String, location: SourceLocation)
    /// A compiled function was called with a value that does not fit its input.
    case badInput(function: String, input: String, expected: TensorType, dtype: DType, shape: [Int])
    /// A compiled function was called with the wrong number of arguments.
    case wrongArgumentCount(function: String, expected: Int, got: Int)
    /// A compiled function was called with a name none of its inputs has.
    case badArgumentName(function: String, name: String, known: [String])
    /// A compiled function was called without a value for an input that has no default.
    case missingArgument(function: String, input: String)
    /// A node failed while running: bad shapes, an index out of bounds, …
    case runtime(op: String, inputShapes: [[Int]], reason: String, location: SourceLocation)
    /// A data file could not be read.
    case data(path: String, reason: String)
    /// An optional program is not installed.
    case toolMissing(tool: String, purpose: String, hint: String)
    /// A program the library ran failed.
    case toolFailed(tool: String, reason: String)
    /// Generated C code did not compile.
    case compilation(compiler: String, source: String, log: String)

    public var description: String {
        switch self {
        case let .typeMismatch(op, inputs, reason, location):
            return "\(op): \(reason) (inputs: \(inputs.map(\.description).joined(separator: ", "))), built at \(location)"
        case let .invalidArgument(function, reason, location):
            return "\(function): \(reason), at \(location)"
        case let .nonScalarCost(type, location):
            return "grad: the cost must be a scalar, but it has type \(type) (built at \(location)); reduce it with sum or mean first"
        case let .disconnectedInput(variable, location):
            return "grad: the cost does not depend on \(variable) (grad called at \(location)); pass disconnected: .zero to get zeros instead"
        case let .badInput(function, input, expected, dtype, shape):
            return "\(function): input \(input) expects \(expected) but was given \(dtype) of shape \(shapeText(shape))"
        case let .wrongArgumentCount(function, expected, got):
            return "\(function): expects \(expected) argument\(expected == 1 ? "" : "s") but was given \(got)"
        case let .badArgumentName(function, name, known):
            return "\(function): no input is named '\(name)' (inputs: \(known.joined(separator: ", ")))"
        case let .missingArgument(function, input):
            return "\(function): no value for input \(input), which has no default"
        case let .runtime(op, inputShapes, reason, location):
            return "\(op): \(reason) (input shapes: \(inputShapes.map(shapeText).joined(separator: ", "))), node built at \(location)"
        case let .data(path, reason):
            return "cannot read \(path): \(reason)"
        case let .toolMissing(tool, purpose, hint):
            return "\(tool) is needed \(purpose) but is not installed: \(hint)"
        case let .toolFailed(tool, reason):
            return "\(tool) failed: \(reason)"
        case let .compilation(compiler, source, log):
            return "\(compiler) could not compile the generated kernels in \(source):\n\(log)"
        }
    }
}

/// A failure inside an op, before it knows which node or location it concerns; the graph
/// builder and the executor wrap it into a ``TheanoError`` naming both.
public struct OpError: Error, CustomStringConvertible {
    /// What went wrong.
    public var description: String
    /// A failure described by `message`.
    public init(_ message: String) { description = message }
}

/// `(2, 3)` as NumPy prints shapes; `()` for a scalar.
package func shapeText(_ shape: [Int]) -> String {
    shape.count == 1 ? "(\(shape[0]),)" : "(\(shape.map(String.init).joined(separator: ", ")))"
}

/// A number of bytes for people: `512 bytes`, `3.2 MiB`, `4.0 TiB`.
func byteText(_ bytes: Int) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    var value = Double(bytes), unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(bytes) bytes" : String(format: "%.1f %@", value, units[unit])
}
