import Theano

/// A symbolic gradient that disagrees with finite differences.
public struct GradientMismatch: Error, CustomStringConvertible {
    /// Which input, which element (row-major), and the two values.
    public let input: Int, element: Int
    /// The symbolic gradient's value and the finite-difference estimate.
    public let analytic: Double, numeric: Double

    package init(input: Int, element: Int, analytic: Double, numeric: Double) {
        self.input = input
        self.element = element
        self.analytic = analytic
        self.numeric = numeric
    }
    public var description: String {
        "gradient of input \(input) at element \(element): symbolic \(analytic), finite differences \(numeric)"
    }
}

/// Checks the symbolic gradient of `f` at `point` against central finite differences, in
/// float64 (Theano's `verify_grad`).
///
/// `f` builds a graph from one symbolic input per array of `point` (same dtypes and ranks,
/// float64 expected). Its output, of any shape, is projected onto a random direction so a
/// single scalar cost exercises every output element. Throws ``GradientMismatch`` when an
/// element differs by more than `absoluteTolerance + relativeTolerance · |numeric|`.
public func verifyGrad(_ f: ([Variable]) throws -> Variable, at point: [NDArray], seed: UInt64 = 42,
                       step: Double = 1e-6, absoluteTolerance: Double = 1e-6, relativeTolerance: Double = 1e-5) throws {
    let inputs = placeholders(for: point)
    let output = try f(inputs)
    let outputShape = try function(inputs: inputs, outputs: [output])(point)[0].shape
    var random = RandomState(seed: seed)
    let direction = constant(randomDirection(outputShape, using: &random))
    let projected = try sum(cast(output, to: .float64) * direction)
    let cost = try function(inputs: inputs, outputs: [projected])
    let gradients = try function(inputs: inputs, outputs: try grad(projected, wrt: inputs))(point)

    for (i, value) in point.enumerated() {
        let analytic = gradients[i].elements(as: Double.self)
        for element in 0..<value.count {
            func shifted(_ delta: Double) throws -> Double {
                var arguments = point
                var values = value.elements(as: Double.self)
                values[element] += delta
                arguments[i] = NDArray(values, shape: value.shape).cast(to: value.dtype)
                return try cost(arguments)[0].scalar(as: Double.self)
            }
            let numeric = (try shifted(step) - shifted(-step)) / (2 * step)
            if !agrees(analytic[element], numeric, absolute: absoluteTolerance, relative: relativeTolerance) {
                throw GradientMismatch(input: i, element: element, analytic: analytic[element], numeric: numeric)
            }
        }
    }
}
