import TheanoCore
import TheanoOps
import TheanoOptimizer
import TheanoAutodiff

/// A product of a recurrent state by a loop-invariant matrix in the step (`h_{t-1}·U`),
/// whose matrix's gradient is summed by one product after the gradient loop instead of
/// one per step: `∂U = Σ_t h_{t-1}ᵀ·∂P_t = H_{-1}ᵀ·∂P` with the states and the product's
/// cotangents of all steps stacked. Each per-step product (32 × 256 by 32 × 1024 in
/// the LSTM benchmark) has the batch, 32, as its inner size, where BLAS runs far from its
/// peak; the stacked one has steps × batch.
struct BatchedProduct {
    /// The non-sequence multiplied (its position among the non-sequences): `U`.
    let nonSequence: Int
    /// The recurrent output and the tap whose value multiplies it: `h` at `-1`.
    package let output: Int
    let tap: Int
    /// The product in the step's graph.
    package let product: Variable

    package init(nonSequence: Int, output: Int, tap: Int, product: Variable) {
        self.nonSequence = nonSequence
        self.output = output
        self.tap = tap
        self.product = product
    }

    /// The products of `step` (laid out by `signature`) whose matrix the step reads in no
    /// other way, and whose other factor is a state the step reads or a value it keeps for
    /// the gradient (a saved output, at tap 0: the step's own).
    package static func all(in step: FunctionGraph, signature: ScanSignature) -> [BatchedProduct] {
        var stateArguments: [Variable: (output: Int, tap: Int)] = [:]
        var arguments = step.inputs.dropFirst(signature.sequenceTaps.reduce(0) { $0 + $1.count })
        for j in signature.recurrentOutputs {
            for tap in signature.outputTaps[j] { stateArguments[arguments.removeFirst()] = (j, tap) }
        }
        for j in signature.userOutputs.upperBound..<signature.outputTaps.count { stateArguments[step.outputs[j]] = (j, 0) }
        var found: [BatchedProduct] = []
        for (k, matrix) in step.inputs.suffix(signature.nonSequenceCount).enumerated() where matrix.dtype.isFloat && matrix.ndim == 2 {
            let readers = step.readers(of: matrix)
            guard !readers.isEmpty, !step.isOutput(matrix) else { continue }
            let products = readers.compactMap { reader -> BatchedProduct? in
                guard reader.node.op is Dot, reader.position == 1, let (j, tap) = stateArguments[reader.node.inputs[0]],
                      reader.node.inputs[0].ndim >= 1 else { return nil }
                return BatchedProduct(nonSequence: k, output: j, tap: tap, product: reader.node.output(0))
            }
            if products.count == readers.count { found += products }
        }
        return found
    }

    /// The matrix's gradient from this product's stacked cotangents, for the loop `node`:
    /// the states it read at each step (rows of the history) times the cotangents.
    package func gradient(cotangents: Variable, node: Apply, signature: ScanSignature) throws -> Variable {
        let depth = signature.historyOffset(output)
        // Step t read history row t + depth + tap; the steps' rows run up to `tap` from the end.
        let states = try Subtensor(entries: [.slice(.constant(depth + tap), tap == 0 ? .none : .constant(tap), .none)])([node.outputs[output]], at: node.location)
        func rows(_ x: Variable) throws -> Variable {
            x.ndim == 2 ? x : try reshape(x, sizes: [constant(-1, dtype: .int64), x.dimensionSizes().last!], at: node.location)
        }
        return try SourceLocation.attributing(to: node.location) { try dot(rows(states).T, rows(cotangents)) }
    }
}
