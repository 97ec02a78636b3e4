import TheanoCore
import TheanoOps

/// Runs a node through the C kernel of its ``CAxisKernelOp`` (reductions, softmax): the
/// inputs made contiguous, read as `[A, R, B]`, the work split across cores along `A`, or
/// along `B` when `A` is too small to keep every core busy.
struct AxisKernelRunner: NodeRunner {
    typealias KernelFunction = @convention(c) (Int64, Int64, Int64, Int64, Int64, Int64, Int64, UnsafePointer<UnsafeRawPointer?>,
                                         UnsafeMutableRawPointer) -> Void

    package let node: Apply
    package let op: any CAxisKernelOp
    package let axes: Range<Int>
    package let scalarInputs: [Bool]
    package let function: KernelFunction
    /// The kernel over parts of `R`, for ops with ``CAxisKernelOp/partsCombine``.
    let partsFunction: KernelFunction?
    /// Kept so the module stays loaded while the runner exists.
    package let library: DynamicLibrary
    let recycler = OutputRecycler()

    /// Throws when `library` lacks the kernel `name`.
    package init(node: Apply, op: any CAxisKernelOp, axes: Range<Int>, library: DynamicLibrary, name: String) throws {
        (self.node, self.op, self.axes, self.library) = (node, op, axes, library)
        scalarInputs = cKernelScalarInputs(node.inputs)
        function = try library.function(name, as: KernelFunction.self)
        partsFunction = op.partsCombine == nil ? nil : try library.function(partsKernelName(name), as: KernelFunction.self)
    }

    package func run(_ inputs: [NDArray]) throws -> [NDArray] {
        try node.op.validate(inputs, node: node)
        let stretched = inputs.indices.filter { !scalarInputs[$0] }
        let shape = stretched.isEmpty ? inputs[0].shape : inputs[stretched[0]].shape
        guard inputs.enumerated().allSatisfy({ scalarInputs[$0.offset] ? $0.element.count == 1 : $0.element.shape == shape }) else {
            throw OpError("operands of shapes \(inputs.map { shapeText($0.shape) }.joined(separator: " and ")) do not match")
        }
        let out = try recycler.array(op.kernelOutputShape(shape), dtype: node.outputTypes[0].dtype)
        guard out.count > 0 else { return [out] }
        let a = shape[..<axes.lowerBound].reduce(1, *), r = shape[axes].reduce(1, *), b = shape[axes.upperBound...].reduce(1, *)
        let work = r * op.workPerElement
        let function = function
        let contiguousInputs = inputs.map { $0.contiguous() }
        if a == 1, b > 1, cores > 1, r >= 2 * cores, let kind = op.partsCombine, let partsFunction, work * b >= 1 << 17 {
            reduceInParts(contiguousInputs, kind: kind, kernel: partsFunction, r: r, b: b, into: out)
            return [out]
        }
        out.withUnsafeMutableRawPointer { output in
            withUnsafeRawPointers(to: contiguousInputs) { input in
                if a >= cores || b == 1 {
                    parallelFor(a, workPerItem: work * b) { begin, end in
                        function(Int64(a), Int64(r), Int64(b), Int64(begin), Int64(end), 0, Int64(b), input, output)
                    }
                } else {
                    parallelFor(b, workPerItem: work * a) { begin, end in
                        function(Int64(a), Int64(r), Int64(b), 0, Int64(a), Int64(begin), Int64(end), input, output)
                    }
                }
            }
        }
        return [out]
    }

    /// A reduction over `R` of one `[R, B]` block (`A` = 1, as a matrix's column sums), cut
    /// into parts of whole rows that the cores take in turn, each reducing its rows into a
    /// row of partial results (unrounded: float64 for sums); the parts are then combined by
    /// `kind`. Splitting `B` instead had every core read a narrow band of every row, which
    /// streamed memory 1.7× slower, and left the whole reduction waiting for a core that
    /// other work kept busy.
    private func reduceInParts(_ inputs: [NDArray], kind: Reduce.Kind, kernel function: KernelFunction, r: Int, b: Int, into out: NDArray) {
        let parts = Swift.min(cores * 4, r)
        let partials = NDArray(uninitialized: [parts, b], dtype: kind.accumulatorDType(for: out.dtype))
        let scalarInputs = scalarInputs, workPerPart = r / parts * b * op.workPerElement
        partials.withUnsafeMutableRawPointer { results in
            withUnsafeRawPointers(to: inputs) { input in
                parallelFor(parts, workPerItem: workPerPart) { first, end in
                    for part in first..<end {
                        let (r0, r1) = (r * part / parts, r * (part + 1) / parts)
                        let shifted = inputs.indices.map { i in
                            scalarInputs[i] ? input[i] : input[i].map { $0 + r0 * b * inputs[i].dtype.byteSize }
                        }
                        shifted.withUnsafeBufferPointer {
                            function(1, Int64(r1 - r0), Int64(b), 0, 1, 0, Int64(b), $0.baseAddress!, results + part * b * partials.dtype.byteSize)
                        }
                    }
                }
            }
        }
        switch (partials.dtype, out.dtype) {
        case (.float32, _): combineParts(Float.self, Float.self, partials, kind: kind, into: out)
        case (_, .float32): combineParts(Double.self, Float.self, partials, kind: kind, into: out)
        default: combineParts(Double.self, Double.self, partials, kind: kind, into: out)
        }
    }

    /// `out[j]` = the parts' results in column `j` of `partials` (of element type `P`)
    /// combined by `kind`: sums in float64 and rounded once, maxima and minima propagating
    /// NaN, as the kernels do.
    private func combineParts<P: BinaryFloatingPoint, T: BinaryFloatingPoint>(_: P.Type, _: T.Type, _ partials: NDArray, kind: Reduce.Kind,
                                                                                into out: NDArray) {
        let (parts, b) = (partials.shape[0], partials.shape[1])
        partials.withUnsafePointer(to: P.self) { p in
            out.withUnsafeMutablePointer(to: T.self) { o in
                for j in 0..<b {
                    switch kind {
                    case .sum:
                        var total = 0.0
                        for part in 0..<parts { total += Double(p[part * b + j]) }
                        o[j] = T(total)
                    default:
                        var best = p[j]
                        for part in 1..<parts where !best.isNaN {
                            let v = p[part * b + j]
                            if v.isNaN || (kind == .max ? v > best : v < best) { best = v }
                        }
                        o[j] = T(best)
                    }
                }
            }
        }
    }
}
