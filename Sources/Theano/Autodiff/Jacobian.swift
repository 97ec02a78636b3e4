import TheanoCore
import TheanoOps
import TheanoOptimizer
import TheanoAutodiff
import TheanoNative
import TheanoLoops

/// How ``jacobian(_:wrt:method:disconnected:fileID:line:)`` builds a Jacobian. Both methods
/// unroll: they build one derivative graph per row or column, so they need the size they
/// unroll over statically and suit small Jacobians.
public enum JacobianMethod: Sendable {
    /// Row by row: the gradient (reverse mode) of each element of the expression. Needs the
    /// expression's size statically.
    case reverse
    /// Column by column: the Jacobian-vector product (forward mode, ``Rop(_:wrt:evalPoints:disconnected:fileID:line:)``)
    /// along each basis direction of `wrt`. Needs `wrt`'s size statically.
    case forward
    /// Row by row in a loop (``scan(sequences:outputsInfo:nonSequences:nSteps:goBackwards:truncateGradient:excluding:name:fileID:line:_:)``
    /// over the elements of the expression): one gradient graph, run once per row, for any
    /// size — static or not. Theano's way.
    case scan
    /// The one of the unrolled two that builds fewer graphs, among those the static sizes
    /// allow (reverse on a tie); the loop when neither size is static.
    case automatic
}

/// The Jacobian of `expression` with respect to `wrt`: `result[i…, j…]` is the derivative
/// of `expression[i…]` with respect to `wrt[j…]`, and the result's shape is the
/// expression's followed by `wrt`'s (Theano's `jacobian`).
///
/// `method` says whether rows or columns are built (see ``JacobianMethod``). An expression
/// that does not depend on `wrt` throws with `disconnected: .raise` and gets zeros with
/// `.zero`.
///
/// ```swift
/// let J = try jacobian(softmax(x), wrt: x)   // x: float64[5] → J: float64[5, 5]
/// ```
public func jacobian(_ expression: Variable, wrt: Variable, method: JacobianMethod = .automatic,
                     disconnected: DisconnectedPolicy = .raise, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    func fail(_ reason: String) -> TheanoError { .invalidArgument(function: "jacobian", reason: reason, location: location) }
    guard expression.dtype.isFloat, wrt.dtype.isFloat else {
        throw fail("the expression (\(expression.type)) and wrt (\(wrt.type)) must be float tensors")
    }
    let order = topologicalOrder(of: [expression], stoppingAt: [wrt])
    if disconnected == .raise, !variablesDepending(on: [wrt], in: order).contains(expression) {
        throw fail("the expression does not depend on \(wrt); pass disconnected: .zero to get zeros instead")
    }
    let (rows, columns) = (expression.type.staticSize, wrt.type.staticSize)
    if method == .scan || method == .automatic && rows == nil && columns == nil {
        return try SourceLocation.attributing(to: location) { try jacobianByLoop(expression, wrt: wrt, at: location) }
    }
    let byRows: Bool
    switch method {
    case .reverse:
        guard rows != nil else { throw fail("method .reverse needs the size of the expression (\(expression.type)) statically") }
        byRows = true
    case .forward:
        guard columns != nil else { throw fail("method .forward needs the size of wrt (\(wrt.type)) statically") }
        byRows = false
    case .automatic, .scan:
        byRows = rows != nil && (columns == nil || rows! <= columns!)
    }
    return try SourceLocation.attributing(to: location) {
        if rows == 0 || columns == 0 {
            // Nothing to unroll: the Jacobian is empty.
            let zero = Constant(NDArray(scalar: 0, dtype: expression.dtype), location: location)
            return try alloc(zero, sizes: expression.dimensionSizes() + wrt.dimensionSizes(), at: location)
        }
        return byRows ? try jacobianByRows(expression, wrt: wrt, at: location) : try jacobianByColumns(expression, wrt: wrt, at: location)
    }
}

/// The gradient of each element of `expression`, computed in a loop over its elements.
private func jacobianByLoop(_ expression: Variable, wrt: Variable, at location: SourceLocation) throws -> Variable {
    let flat = try reshape(expression, [-1], at: location)
    let indices = try arange(size(flat))
    let rows = try map(sequences: [indices], name: "jacobian") { try grad(flat[$0[0]], wrt: [wrt], disconnected: .zero)[0] }
    return try reshape(rows, sizes: expression.dimensionSizes() + wrt.dimensionSizes(), at: location)
}

/// The gradient of each element of `expression` (of static size), stacked.
private func jacobianByRows(_ expression: Variable, wrt: Variable, at location: SourceLocation) throws -> Variable {
    let flat = try reshape(expression, [-1], at: location)
    let rows = try (0..<expression.type.staticSize!).map { i in try grad(flat[i], wrt: [wrt], disconnected: .zero)[0] }
    let sizes = expression.staticShape.map { Constant(NDArray(scalar: Int64($0!)), location: location) }
    return try reshape(stack(rows), sizes: sizes + wrt.dimensionSizes(), at: location)
}

/// The tangent of `expression` along each basis direction of `wrt` (of static size),
/// stacked along a last axis.
private func jacobianByColumns(_ expression: Variable, wrt: Variable, at location: SourceLocation) throws -> Variable {
    let shape = wrt.staticShape.map { $0! }
    let count = wrt.type.staticSize!
    let columns = try (0..<count).map { j in
        var basis = [Double](repeating: 0, count: count)
        basis[j] = 1
        let direction = Constant(NDArray(basis, shape: shape).cast(to: wrt.dtype), location: location)
        return try Rop([expression], wrt: [wrt], evalPoints: [direction], disconnected: .zero)[0]
    }
    let sizes = shape.map { Constant(NDArray(scalar: Int64($0)), location: location) }
    return try reshape(stack(columns, axis: expression.ndim), sizes: expression.dimensionSizes() + sizes, at: location)
}
