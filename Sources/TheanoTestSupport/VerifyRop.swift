import Theano

/// A Jacobian-vector product (`Rop`) that disagrees with what it is checked against.
public enum TangentMismatch: Error, CustomStringConvertible {
    /// What the symbolic tangent was compared with.
    public enum Reference: String, Sendable {
        /// Central finite differences of the output along the direction.
        case finiteDifferences = "finite differences"
        /// The pullbacks transposed: `Lop` of `Lop`, which uses no pushforward rule.
        case transposedPullbacks = "transposed pullbacks"
    }

    /// The tangent does not have the output's shape.
    case shape(tangent: [Int], output: [Int])
    /// An output element (row-major) whose tangent differs from the reference's.
    case value(element: Int, symbolic: Double, expected: Double, reference: Reference)

    public var description: String {
        switch self {
        case let .shape(tangent, output):
            "Rop gave a tangent of shape \(tangent) for an output of shape \(output)"
        case let .value(element, symbolic, expected, reference):
            "Rop at output element \(element): symbolic \(symbolic), \(reference.rawValue) \(expected)"
        }
    }
}

/// Checks the Jacobian-vector product that `Rop` builds for `f` at `point`, in float64
/// (forward mode's counterpart of ``verifyGrad(_:at:seed:step:absoluteTolerance:relativeTolerance:)``).
///
/// `f` builds a graph from one symbolic input per array of `point`. Every float input moves
/// along a random direction; the tangent of the output must agree, element by element, with
/// central finite differences of the output along that direction, and — unless
/// `comparingWithPullbacks` is false, for graphs with ops that have no pullback (fused
/// composites, BLAS calls) — with the same product built from pullbacks only
/// (`Lop(Lop(f, wrt, u), u, v)`, the transpose of the transpose). Throws
/// ``TangentMismatch`` when an element differs by more than
/// `absoluteTolerance + relativeTolerance · |expected|`.
public func verifyRop(_ f: ([Variable]) throws -> Variable, at point: [NDArray], seed: UInt64 = 42,
                      step: Double = 1e-6, absoluteTolerance: Double = 1e-6, relativeTolerance: Double = 1e-5,
                      comparingWithPullbacks: Bool = true) throws {
    let inputs = placeholders(for: point)
    let output = try f(inputs)
    var random = RandomState(seed: seed)
    let moving = point.indices.filter { point[$0].dtype.isFloat }
    let directions = point.map { randomDirection($0.shape, using: &random) }
    let wrt = moving.map { inputs[$0] }
    let evalPoints = moving.map { constant(directions[$0].cast(to: point[$0].dtype)) }

    var tangents = [try Rop([output], wrt: wrt, evalPoints: evalPoints)[0]]
    if comparingWithPullbacks {
        let probe = try zerosLike(output)
        let cotangents = try Lop([output], wrt: wrt, evalPoints: [probe], disconnected: .zero)
        tangents.append(try Lop(cotangents, wrt: [probe], evalPoints: evalPoints, disconnected: .zero)[0])
    }
    let values = try function(inputs: inputs, outputs: [output] + tangents)(point)
    for value in values.dropFirst() where value.shape != values[0].shape {
        throw TangentMismatch.shape(tangent: value.shape, output: values[0].shape)
    }
    let symbolic = values[1].elements(as: Double.self)

    let evaluate = try function(inputs: inputs, outputs: [output])
    func shifted(_ delta: Double) throws -> [Double] {
        var arguments = point
        for i in moving { arguments[i] = moved(point[i], by: delta, along: directions[i]) }
        return try evaluate(arguments)[0].elements(as: Double.self)
    }
    let numeric = zip(try shifted(step), try shifted(-step)).map { ($0 - $1) / (2 * step) }

    var references = [(TangentMismatch.Reference.finiteDifferences, numeric)]
    if comparingWithPullbacks { references.append((.transposedPullbacks, values[2].elements(as: Double.self))) }
    for (reference, expected) in references {
        for (element, (tangent, value)) in zip(symbolic, expected).enumerated()
        where !agrees(tangent, value, absolute: absoluteTolerance, relative: relativeTolerance) {
            throw TangentMismatch.value(element: element, symbolic: tangent, expected: value, reference: reference)
        }
    }
}
