import TheanoCore
import TheanoOps

/// The C source of one fused elementwise loop over a node's inputs, in two entry points:
///
/// - `NAME_flat(begin, end, inputs, output)`: every input is either laid out exactly like
///   the output (contiguous) or a single element; a plain loop the compiler vectorizes;
/// - `NAME_strided(ndim, shape, strides, beginRow, endRow, inputs, output)`: any strides
///   (0 along broadcast dimensions), row by row.
///
/// Both write a contiguous output and take a range, so the runtime can split large work
/// across cores. A kernel planned to overwrite an input has both again, suffixed `_inplace`.
package struct ElementwiseKernel {
    /// The entry points' prefix: the node's own name until ``KernelNames`` gives the kernel
    /// the name of an identical one.
    package var name: String
    package let composite: Composite
    /// Inputs whose static shape is all ones: read once, outside the loop.
    package let scalarInputs: [Bool]
    private let inputRanks: [Int]
    private let outputRank: Int

    package init?(name: String, node: Apply) {
        guard let composite = fusible(node) else { return nil }
        self.name = name
        self.composite = composite
        scalarInputs = cKernelScalarInputs(node.inputs)
        inputRanks = node.inputs.map(\.ndim)
        outputRank = node.outputs[0].ndim
    }

    private var inputTypes: [CType] { composite.inputDTypes.map(\.cType) }
    private var outputType: CType { composite.valueDTypes.last!.cType }

    /// The input whose memory the result may be written over (see ``InplacePlan``): the
    /// source then also has `NAME_flat_inplace` and `NAME_strided_inplace`, which read that
    /// input from the output.
    package var overwrites: Int?

    /// The inputs that the result could be written over: those of the output's dtype and
    /// rank, read element by element.
    package var overwritablePositions: [Int] {
        let output = composite.valueDTypes.last!
        return composite.inputDTypes.indices.filter {
            composite.inputDTypes[$0] == output && !scalarInputs[$0] && inputRanks[$0] == outputRank
        }
    }

    /// The entry points named after `name`, or `nil` when an op of the program has no C
    /// form for its types.
    package func source(named name: String) -> String? {
        guard let plain = functions(name: name, suffix: "", overwriting: nil) else { return nil }
        guard let overwrites else { return plain }
        return plain + "\n\n" + functions(name: name, suffix: "_inplace", overwriting: overwrites)!
    }

    /// Both entry points, named `name` with `suffix`; input `overwriting` is read from the output.
    private func functions(name: String, suffix: String, overwriting: Int?) -> String? {
        let loaded = inputTypes.enumerated().map { CExpression.name("x\($0)", $1) }
        guard let body = composite.cBody(loaded) else { return nil }
        let output = outputType.rawValue
        let signatureInputs = "const void *const *in, void *out_"
        var flat = ["void \(name)_flat\(suffix)(int64_t begin, int64_t end, \(signatureInputs)) {"]
        for (i, type) in inputTypes.enumerated() where i != overwriting {
            flat.append(scalarInputs[i] ? "    const \(type.rawValue) s\(i) = *(const \(type.rawValue) *)in[\(i)];"
                                        : "    const \(type.rawValue) *restrict in\(i) = (const \(type.rawValue) *)in[\(i)];")
        }
        flat.append("    \(output) *restrict out = (\(output) *)out_;")
        flat.append("    for (int64_t i = begin; i < end; ++i) {")
        flat += inputTypes.enumerated().map { i, type in
            "        const \(type.rawValue) x\(i) = \(i == overwriting ? "out[i]" : scalarInputs[i] ? "s\(i)" : "in\(i)[i]");"
        }
        flat += body.statements.map { "        " + $0 }
        flat += ["        out[i] = \(body.result.cast(to: outputType).text);", "    }", "}"]

        var strided = [
            "void \(name)_strided\(suffix)(int ndim, const int64_t *shape, const int64_t *strides, int64_t begin, int64_t end, \(signatureInputs)) {",
            "    const int64_t inner = ndim > 0 ? shape[ndim - 1] : 1;",
            "    \(output) *restrict out = (\(output) *)out_;",
            "    for (int64_t row = begin; row < end; ++row) {",
        ]
        let steppedInputs = inputTypes.indices.filter { $0 != overwriting }
        for i in steppedInputs {
            let type = inputTypes[i].rawValue
            strided.append("        const \(type) *p\(i) = (const \(type) *)in[\(i)];")
            strided.append("        const int64_t step\(i) = ndim > 0 ? strides[\(i) * ndim + ndim - 1] : 0;")
        }
        strided += ["        int64_t rest = row;", "        for (int d = ndim - 2; d >= 0; --d) {",
                    "            const int64_t index = rest % shape[d];", "            rest /= shape[d];"]
        strided += steppedInputs.map { "            p\($0) += index * strides[\($0) * ndim + d];" }
        strided += ["        }", "        \(output) *o = out + row * inner;", "        for (int64_t j = 0; j < inner; ++j) {"]
        strided += inputTypes.enumerated().map { i, type in
            "            const \(type.rawValue) x\(i) = \(i == overwriting ? "o[j]" : "p\(i)[j * step\(i)]");"
        }
        strided += body.statements.map { "            " + $0 }
        strided += ["            o[j] = \(body.result.cast(to: outputType).text);", "        }", "    }", "}"]
        return (flat + [""] + strided).joined(separator: "\n")
    }
}
