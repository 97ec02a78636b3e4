import TheanoCore
import TheanoOps
import TheanoOptimizer
import TheanoAutodiff

/// Values of a step that its pullback would otherwise compute again from matrix products:
/// the loop keeps them as extra outputs, and the gradient loop reads them as it reads the
/// step's results.
///
/// An LSTM's pullback needs its gates, `σ(z)` and `tanh(z)` of the pre-activation
/// `z = x_t·W + h_{t-1}·U`; without `z`, each backward step would multiply `h_{t-1}·U`
/// again — a third of its products. The value kept is the sum the product feeds (`z`, not
/// `h_{t-1}·U`), so the forward step still computes it as one `gemm`. An Elman step's
/// pullback reads only `tanh(z)`, its result, so nothing is kept.
///
/// Also kept: the left factor of a product by a loop-invariant matrix that the step computes
/// itself (a GRU's `(r ⊙ h_{t-1})·U_n`). With the factor of every step at hand, the matrix's
/// gradient is one product after the gradient loop (``BatchedProduct``) instead of one small
/// product per step.
enum SavedPreactivations {
    /// The values to keep for a step computing `results` from `arguments`.
    package static func values(results: [Variable], arguments: [Variable]) throws -> [Variable] {
        let floatResults = results.filter(\.dtype.isFloat)
        let order = topologicalOrder(of: results, stoppingAt: Set(arguments))
        var dependent = Set(arguments)
        var readers: [Variable: [Apply]] = [:]
        for node in order {
            if node.inputs.contains(where: dependent.contains) { dependent.formUnion(node.outputs) }
            for input in node.inputs { readers[input, default: []].append(node) }
        }
        let wrt = arguments.filter(\.dtype.isFloat)
        guard !floatResults.isEmpty, !wrt.isEmpty,
              order.contains(where: { $0.op is Dot && $0.inputs.contains(where: dependent.contains) }) else { return [] }
        let cotangents = floatResults.map { Variable(type: $0.type, location: $0.location) }
        let gradients = try Lop(floatResults, wrt: wrt, evalPoints: cotangents, disconnected: .zero)
        // The forward nodes the pullback runs again: those it reaches without going
        // through a result (results are read, not recomputed).
        let forward = Set(order.map(ObjectIdentifier.init))
        let recomputed = topologicalOrder(of: gradients, stoppingAt: Set(arguments + results)).filter { forward.contains(ObjectIdentifier($0)) }
        var saved: [Variable] = []
        for node in recomputed where node.op is Dot && node.inputs.contains(where: dependent.contains) {
            var value = node.output(0)
            while let next = readers[value], next.count == 1, next[0].op is Add, next[0].outputTypes[0] == value.type {
                value = next[0].output(0)
            }
            if !results.contains(where: { $0 === value }), !saved.contains(where: { $0 === value }) { saved.append(value) }
        }
        for node in order where node.op is Dot {
            let (factor, matrix) = (node.inputs[0], node.inputs[1])
            guard factor.ndim == 2, factor.dtype.isFloat, matrix.ndim == 2, !(matrix is Constant), !dependent.contains(matrix),
                  dependent.contains(factor), !arguments.contains(where: { $0 === factor }), readers[matrix]?.count == 1,
                  !results.contains(where: { $0 === factor }), !saved.contains(where: { $0 === factor }) else { continue }
            saved.append(factor)
        }
        return saved
    }
}
