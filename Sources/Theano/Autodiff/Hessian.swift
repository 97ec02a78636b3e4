import TheanoCore
import TheanoOps
import TheanoOptimizer
import TheanoAutodiff
import TheanoNative
import TheanoLoops

/// The Hessian of a scalar `cost` with respect to `wrt`: the Jacobian of its gradient, of
/// shape `wrt`'s twice (Theano's `hessian`). `method` builds it row by row or column by column
/// as for ``jacobian(_:wrt:method:disconnected:fileID:line:)``; either way `wrt`'s size must be
/// known statically. For large `wrt`, ``hessianVectorProduct(_:wrt:vectors:disconnected:fileID:line:)``
/// avoids forming the matrix.
public func hessian(_ cost: Variable, wrt: Variable, method: JacobianMethod = .automatic,
                    disconnected: DisconnectedPolicy = .raise, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let gradient = try grad(cost, wrt: [wrt], disconnected: disconnected, fileID: fileID, line: line)[0]
    return try jacobian(gradient, wrt: wrt, method: method, disconnected: .zero, fileID: fileID, line: line)
}

/// The products of the Hessian of a scalar `cost` with `vectors` (one per variable of `wrt`,
/// of its type), without forming the Hessian: for each variable `wrt[i]`, the sum over `j` of
/// the second derivatives with respect to `wrt[i]` and `wrt[j]` times `vectors[j]`.
///
/// It is forward mode over reverse mode, `Rop(grad(cost, wrt), wrt, vectors)`: about the
/// cost of a few gradients, whatever the size. (Reverse mode twice, `Lop(grad(cost, wrt), wrt,
/// vectors)`, gives the same products since the Hessian is symmetric.) Truncated Newton and
/// natural-gradient methods are built on it.
///
/// ```swift
/// let Hv = try hessianVectorProduct(loss, wrt: [W], vectors: [direction])[0]
/// ```
public func hessianVectorProduct(_ cost: Variable, wrt: [Variable], vectors: [Variable], disconnected: DisconnectedPolicy = .raise,
                                 fileID: String = #fileID, line: Int = #line) throws -> [Variable] {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    try checkEvalPoints(vectors, standingFor: wrt, named: "wrt", function: "hessianVectorProduct", location: location)
    let gradients = try grad(cost, wrt: wrt, disconnected: disconnected, fileID: fileID, line: line)
    return try Rop(gradients, wrt: wrt, evalPoints: vectors, disconnected: .zero, fileID: fileID, line: line)
}
