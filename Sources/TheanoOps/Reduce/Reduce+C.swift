import TheanoCore

/// Sums, products, maxima and minima of float tensors in C, for reductions over one run of
/// consecutive axes. A plain reduction is the kernel of an elementwise program that returns
/// its input (see ``ReductionKernelSource``).
extension Reduce: CAxisKernelOp {
    /// The reduced axes as one run `first ..< first + count`, or `nil`.
    package var runOfAxes: (first: Int, count: Int)? {
        guard let first = axes.first, axes == Array(first..<(first + axes.count)) else { return nil }
        return (first, axes.count)
    }

    package func kernelAxes(_ node: Apply) -> Range<Int>? { runOfAxes.map { $0.first..<($0.first + $0.count) } }

    package func cAxisKernel(name: String, node: Apply) -> String? {
        ReductionKernelSource(reduce: self, program: .identity(node.inputs[0].dtype), inputs: node.inputs)?.source(name: name)
    }

    package func kernelOutputShape(_ shape: [Int]) throws -> [Int] {
        if (kind == .max || kind == .min), axes.contains(where: { shape[$0] == 0 }) {
            throw OpError("\(kind) of an empty axis has no identity")
        }
        return outputShape(shape, one: 1)
    }

    package var workPerElement: Int { 1 }

    package var partsCombine: Reduce.Kind? { kind == .prod ? nil : kind }
}

/// A reduction (sum, product, maximum, minimum of floats) over one run of consecutive axes
/// of the values an elementwise program computes from its inputs, in one pass and without
/// storing those values: the C text of a ``CAxisKernelOp`` kernel. The program's result is
/// read as `[A, R, B]` (`R` reduced); each output element combines `R` values. Accumulators
/// are the reference's (``Reduce/Kind/accumulatorDType(for:)``): double for sums, the
/// values' own type for products; maxima and minima propagate NaN.
///
/// The inputs all have the program's result shape, except those of static shape all ones,
/// read once.
struct ReductionKernelSource {
    package let reduce: Reduce
    package let program: Composite
    package let scalarInputs: [Bool]

    /// `nil` when C has no kernel for it: not a float sum, product, maximum or minimum, or
    /// axes that are not one run.
    package init?(reduce: Reduce, program: Composite, inputs: [Variable]) {
        guard program.valueDTypes.last!.isFloat, [.sum, .prod, .max, .min].contains(reduce.kind), reduce.runOfAxes != nil else { return nil }
        self.reduce = reduce
        self.program = program
        scalarInputs = cKernelScalarInputs(inputs)
    }

    /// The kernel `name`, and beside it (except for products) ``partsKernelName(_:)``: the
    /// same reduction writing its accumulators unrounded (float64 for sums), for results
    /// over parts of `R` that are combined afterwards.
    package func source(name: String) -> String? {
        guard let whole = source(name: name, unrounded: false) else { return nil }
        guard reduce.kind != .prod, let parts = source(name: partsKernelName(name), unrounded: true) else { return whole }
        return whole + "\n" + parts
    }

    private func source(name: String, unrounded: Bool) -> String? {
        let inputTypes = program.inputDTypes.map(\.cType)
        guard let body = program.cBody(inputTypes.enumerated().map { .name("x\($0)", $1) }) else { return nil }
        let outputType = program.valueDTypes.last!.cType
        let accumulator = reduce.kind.accumulatorDType(for: program.valueDTypes.last!).cType.rawValue
        // The type written: the output's, or the accumulator's.
        let t = unrounded ? accumulator : outputType.rawValue
        let identity = switch reduce.kind {
        case .sum: "0"
        case .prod: "1"
        case .max: "-INFINITY"
        default: "INFINITY"
        }
        let combine = switch reduce.kind {
        case .sum: "acc + v"
        case .prod: "acc * v"
        case .max: "(v > acc || v != v || acc != acc) ? (acc != acc ? acc : v) : acc"
        default: "(v < acc || v != v || acc != acc) ? (acc != acc ? acc : v) : acc"
        }
        let pointers: [any CStatement] = inputTypes.enumerated().map { i, type in
            scalarInputs[i] ? CDeclare(.value(type), "s\(i)", "*(const \(type.rawValue) *)in[\(i)]")
                : CDeclare(.pointer(to: "const \(type.rawValue)", restrict: true), "in\(i)", "(const \(type.rawValue) *)in[\(i)]")
        }
        // The statements computing `v`, the value at flat index `i`.
        let value: [any CStatement] = inputTypes.enumerated().map { i, type in CDeclare(.value(type), "x\(i)", scalarInputs[i] ? "s\(i)" : "in\(i)[i]") }
            + body.statements + [CDeclare(.value(accumulator), "v", body.result.cast(to: outputType).text)]
        return CFunction(name, parameters: axisKernelParameters) {
            pointers
            CDeclare(.pointer(to: t, restrict: true), "out", "(\(t) *)out_")
            CIf("B == 1") {
                CFor("a", from: "a0", below: "a1") {
                    CDeclare(.value(accumulator), "acc", mutable: true, identity)
                    CFor("r", from: "0", below: "R") {
                        CDeclare(.value("int64_t"), "i", "a * R + r")
                        value
                        CAssign("acc", combine)
                    }
                    CAssign("out[a]", "(\(t))acc")
                }
                CReturn()
            }
            CDeclare(.pointer(to: accumulator, restrict: false), "partial", "malloc(sizeof(\(accumulator)) * (size_t)(b1 - b0 > 0 ? b1 - b0 : 1))")
            CFor("a", from: "a0", below: "a1") {
                CFor("b", from: "b0", below: "b1") { CAssign("partial[b - b0]", identity) }
                CFor("r", from: "0", below: "R") {
                    CFor("b", from: "b0", below: "b1") {
                        CDeclare(.value("int64_t"), "i", "(a * R + r) * B + b")
                        value
                        CDeclare(.value(accumulator), "acc", "partial[b - b0]")
                        CAssign("partial[b - b0]", combine)
                    }
                }
                CFor("b", from: "b0", below: "b1") { CAssign("out[a * B + b]", "(\(t))partial[b - b0]") }
            }
            CCall("free", "partial")
        }.source
    }
}
