import TheanoCore
import TheanoOps

/// The C source of one fused elementwise loop over a node's inputs, in two entry points:
///
/// - `NAME_flat(begin, end, inputs, output)`: every input is either laid out exactly like
///   the output (contiguous) or a single element; a plain loop the compiler vectorizes;
/// - `NAME_strided(ndim, shape, strides, beginRow, endRow, inputs, output)`: any strides
///   (0 along broadcast dimensions), row by row. Its inner loop is not vectorized: it runs
///   only where some input's rows are not contiguous (the runtime gives rows that all are to
///   the flat loop), where vector code would wait on gathers, and vectorizing it took more
///   than half of GCC's time on a training step's module.
///
/// Both write a contiguous output and take a range, so the runtime can split large work
/// across cores. A kernel planned to overwrite an input may be given that input's memory as
/// its output: the input and the output are then not `restrict`, and the flat loop tells the
/// compiler that its iterations are independent, which an element read and written at the
/// same index keeps true. One pair of entry points serves both uses: a second pair, for
/// the overwriting calls alone, made every such kernel cost twice the compile time.
struct ElementwiseKernelSource {
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
    /// entry points then let that input and the output be the same memory.
    package var overwrites: Int?

    /// The inputs that the result could be written over: those of the output's dtype and
    /// rank, read element by element.
    var overwritablePositions: [Int] {
        let output = composite.valueDTypes.last!
        return composite.inputDTypes.indices.filter {
            composite.inputDTypes[$0] == output && !scalarInputs[$0] && inputRanks[$0] == outputRank
        }
    }

    /// The entry points named after `name`, or `nil` when an op of the program has no C
    /// form for its types.
    package func source(named name: String) -> String? {
        let loaded = inputTypes.enumerated().map { CExpression.name("x\($0)", $1) }
        guard let body = composite.cBody(loaded) else { return nil }
        let output = outputType.rawValue
        let result = body.result.cast(to: outputType).text
        /// Whether the output may share memory with another pointer.
        let outputAliased = overwrites != nil
        /// `const T xI = element(I);` for every input I.
        func elements(_ element: (Int) -> String) -> [any CStatement] {
            inputTypes.enumerated().map { i, type in CDeclare(.value(type), "x\(i)", element(i)) }
        }
        let inputs = ["const void *const *in", "void *out_"]
        let flat = CFunction("\(name)_flat", parameters: ["int64_t begin", "int64_t end"] + inputs) {
            for (i, type) in inputTypes.enumerated().map({ ($0, $1.rawValue) }) {
                if scalarInputs[i] {
                    CDeclare(.value(type), "s\(i)", "*(const \(type) *)in[\(i)]")
                } else {
                    CDeclare(.pointer(to: "const \(type)", restrict: i != overwrites), "in\(i)", "(const \(type) *)in[\(i)]")
                }
            }
            CDeclare(.pointer(to: output, restrict: !outputAliased), "out", "(\(output) *)out_")
            CFor("i", from: "begin", below: "end", annotation: outputAliased ? "THEANO_INDEPENDENT_ITERATIONS" : nil) {
                elements { scalarInputs[$0] ? "s\($0)" : "in\($0)[i]" }
                body.statements
                CAssign("out[i]", result)
            }
        }
        let strided = CFunction("\(name)_strided", parameters: ["int ndim", "const int64_t *shape", "const int64_t *strides",
                                                               "int64_t begin", "int64_t end"] + inputs,
                                attributes: "THEANO_SCALAR_LOOPS") {
            CDeclare(.value("int64_t"), "inner", "ndim > 0 ? shape[ndim - 1] : 1")
            CDeclare(.pointer(to: output, restrict: !outputAliased), "out", "(\(output) *)out_")
            CFor("row", from: "begin", below: "end") {
                for (i, type) in inputTypes.enumerated().map({ ($0, $1.rawValue) }) {
                    CDeclare(.pointer(to: "const \(type)", restrict: false), "p\(i)", "(const \(type) *)in[\(i)]")
                    CDeclare(.value("int64_t"), "step\(i)", "ndim > 0 ? strides[\(i) * ndim + ndim - 1] : 0")
                }
                CDeclare(.value("int64_t"), "rest", mutable: true, "row")
                CFor("d", from: "ndim - 2", downTo: "0") {
                    CDeclare(.value("int64_t"), "index", "rest % shape[d]")
                    CAssign("rest", "shape[d]", operator: "/=")
                    for i in inputTypes.indices { CAssign("p\(i)", "index * strides[\(i) * ndim + d]", operator: "+=") }
                }
                CDeclare(.pointer(to: output, restrict: false), "o", "out + row * inner")
                CFor("j", from: "0", below: "inner") {
                    elements { "p\($0)[j * step\($0)]" }
                    body.statements
                    CAssign("o[j]", result)
                }
            }
        }
        return flat.source + "\n\n" + strided.source
    }
}
