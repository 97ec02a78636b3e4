/// Sums, products, maxima and minima of float tensors in C, for reductions over one run of
/// consecutive axes. A plain reduction is the kernel of an elementwise program that returns
/// its input (see ``ReductionKernel``).
extension Reduce: CKernelOp {
    /// The reduced axes as one run `first ..< first + count`, or `nil`.
    var runOfAxes: (first: Int, count: Int)? {
        guard let first = axes.first, axes == Array(first..<(first + axes.count)) else { return nil }
        return (first, axes.count)
    }

    private func kernel(_ node: Apply) -> ReductionKernel? {
        ReductionKernel(reduce: self, program: .identity(node.inputs[0].dtype), inputs: node.inputs)
    }

    func cKernel(name: String, node: Apply) -> String? { kernel(node)?.source(name: name) }

    func runKernel(_ inputs: [NDArray], node: Apply, library: DynamicLibrary, name: String, recycler: OutputRecycler) throws -> [NDArray] {
        [try kernel(node)!.run(inputs, library: library, name: name, recycler: recycler)]
    }
}

/// A reduction (sum, product, maximum, minimum of floats) over one run of consecutive axes
/// of the values an elementwise program computes from its inputs, in one pass and without
/// storing those values. The program's result is read as `[A, R, B]` (`R` reduced); each
/// output element combines `R` values. Float sums and products accumulate in double, as the
/// reference does; maxima and minima propagate NaN. Work is split across cores along `A`, or
/// along `B` when `A` is small.
///
/// The inputs all have the program's result shape, except those of static shape all ones,
/// read once.
struct ReductionKernel {
    typealias Function = @convention(c) (Int64, Int64, Int64, Int64, Int64, Int64, Int64, UnsafePointer<UnsafeRawPointer?>, UnsafeMutableRawPointer) -> Void

    let reduce: Reduce
    let program: Composite
    let scalarInputs: [Bool]
    let run: (first: Int, count: Int)

    /// `nil` when C has no kernel for it: not a float sum, product, maximum or minimum, or
    /// axes that are not one run.
    init?(reduce: Reduce, program: Composite, inputs: [Variable]) {
        guard program.valueDTypes.last!.isFloat, [.sum, .prod, .max, .min].contains(reduce.kind), let run = reduce.runOfAxes else { return nil }
        self.reduce = reduce
        self.program = program
        self.run = run
        scalarInputs = inputs.map { $0.staticShape.allSatisfy { $0 == 1 } }
    }

    func source(name: String) -> String? {
        let inputTypes = program.inputDTypes.map(\.cType)
        guard let body = program.cBody(inputTypes.enumerated().map { .name("x\($0)", $1) }) else { return nil }
        let outputType = program.valueDTypes.last!.cType
        let t = outputType.rawValue
        let accumulator = reduce.kind == .sum || reduce.kind == .prod ? "double" : t
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
        let pointers = inputTypes.enumerated().map { i, type in
            scalarInputs[i] ? "const \(type.rawValue) s\(i) = *(const \(type.rawValue) *)in[\(i)];"
                : "const \(type.rawValue) *restrict in\(i) = (const \(type.rawValue) *)in[\(i)];"
        }
        /// The statements computing `v`, the value at flat index `i`.
        func value(indent: String) -> String {
            (inputTypes.enumerated().map { i, type in "const \(type.rawValue) x\(i) = \(scalarInputs[i] ? "s\(i)" : "in\(i)[i]");" }
                + body.statements + ["const \(accumulator) v = \(body.result.cast(to: outputType).text);"])
                .map { indent + $0 }.joined(separator: "\n")
        }
        return """
            void \(name)(int64_t A, int64_t R, int64_t B, int64_t a0, int64_t a1, int64_t b0, int64_t b1, const void *const *in, void *out_) {
                \(pointers.joined(separator: "\n    "))
                \(t) *restrict out = (\(t) *)out_;
                if (B == 1) {
                    for (int64_t a = a0; a < a1; ++a) {
                        \(accumulator) acc = \(identity);
                        for (int64_t r = 0; r < R; ++r) {
                            const int64_t i = a * R + r;
            \(value(indent: "                "))
                            acc = \(combine);
                        }
                        out[a] = (\(t))acc;
                    }
                    return;
                }
                \(accumulator) *partial = malloc(sizeof(\(accumulator)) * (size_t)(b1 - b0 > 0 ? b1 - b0 : 1));
                for (int64_t a = a0; a < a1; ++a) {
                    for (int64_t b = b0; b < b1; ++b) partial[b - b0] = \(identity);
                    for (int64_t r = 0; r < R; ++r) {
                        for (int64_t b = b0; b < b1; ++b) {
                            const int64_t i = (a * R + r) * B + b;
            \(value(indent: "                "))
                            const \(accumulator) acc = partial[b - b0];
                            partial[b - b0] = \(combine);
                        }
                    }
                    for (int64_t b = b0; b < b1; ++b) out[a * B + b] = (\(t))partial[b - b0];
                }
                free(partial);
            }
            """
    }

    /// Runs the kernel `name` of `library` on `inputs` (copied first where not contiguous),
    /// into an array from `recycler`.
    func run(_ inputs: [NDArray], library: DynamicLibrary, name: String, recycler: OutputRecycler) throws -> NDArray {
        let stretched = inputs.indices.filter { !scalarInputs[$0] }
        let shape = stretched.isEmpty ? inputs[0].shape : inputs[stretched[0]].shape
        guard inputs.enumerated().allSatisfy({ scalarInputs[$0.offset] ? $0.element.count == 1 : $0.element.shape == shape }) else {
            throw OpError("operands of shapes \(inputs.map { shapeText($0.shape) }.joined(separator: " and ")) do not match")
        }
        if (reduce.kind == .max || reduce.kind == .min), reduce.axes.contains(where: { shape[$0] == 0 }) {
            throw OpError("\(reduce.kind) of an empty axis has no identity")
        }
        let kernel = try library.function(name, as: Function.self)
        let (first, count) = run
        let a = shape[..<first].reduce(1, *), r = shape[first..<(first + count)].reduce(1, *)
        let b = shape[(first + count)...].reduce(1, *)
        let out = try recycler.array(reduce.outputShape(shape, one: 1), dtype: program.valueDTypes.last!)
        guard out.count > 0 else { return out }
        out.withUnsafeMutableRawPointer { output in
            withUnsafeRawPointers(to: inputs.map { $0.contiguous() }) { input in
                if a >= cores || b == 1 {
                    parallelFor(a, workPerItem: r * b) { begin, end in
                        kernel(Int64(a), Int64(r), Int64(b), Int64(begin), Int64(end), 0, Int64(b), input, output)
                    }
                } else {
                    parallelFor(b, workPerItem: a * r) { begin, end in
                        kernel(Int64(a), Int64(r), Int64(b), 0, Int64(a), Int64(begin), Int64(end), input, output)
                    }
                }
            }
        }
        return out
    }
}
