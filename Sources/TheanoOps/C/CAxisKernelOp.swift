import TheanoCore

/// An op the native backend computes with a C kernel that reads its inputs as `[A, R, B]`:
/// `R` one run of consecutive axes (reduced, or along which the op works), `A` the axes
/// before it, `B` those after (reductions, softmax). The op gives the kernel's C text; the
/// backend compiles it, splits the work across cores and calls it.
///
/// The kernel's signature is
///
///     void name(int64_t A, int64_t R, int64_t B, int64_t a0, int64_t a1, int64_t b0, int64_t b1,
///               const void *const *in, void *out)
///
/// and it writes the outputs of the slices `a0 ..< a1` of `A` and `b0 ..< b1` of `B` into the
/// contiguous `out`. Every input is contiguous and of one shape, except inputs of static
/// shape all ones, which point at their one element.
package protocol CAxisKernelOp: Op {
    /// The axes read as `R` for `node`'s inputs, or `nil` when the op has no kernel for them.
    func kernelAxes(_ node: Apply) -> Range<Int>?
    /// The kernel's source for `node`, named `name`; `nil` when C cannot express it for the
    /// node's types.
    func cAxisKernel(name: String, node: Apply) -> String?
    /// The output's shape for inputs of `shape`; throws for inputs the op refuses (the
    /// maximum of an empty axis).
    func kernelOutputShape(_ shape: [Int]) throws -> [Int]
    /// The cost of one input element relative to an addition (what splitting the work across
    /// cores weighs).
    var workPerElement: Int { get }
    /// For reductions, how results over parts of `R` combine into the result over all of it
    /// (the kind: sum, maximum or minimum); `nil` for ops whose kernel needs all of `R` at
    /// once, and for products, whose overflow depends on the order of the factors. An op
    /// that has one compiles, beside its kernel, the kernel named ``partsKernelName(_:)``,
    /// which writes its accumulators (of ``Reduce/Kind/accumulatorDType(for:)``) unrounded.
    var partsCombine: Reduce.Kind? { get }
}

/// The name of the kernel over parts of `R` compiled beside the kernel `name`.
package func partsKernelName(_ name: String) -> String { name + "_parts" }

extension Reduce.Kind {
    /// The dtype a float reduction of `dtype` accumulates in, as the reference does: float64
    /// for sums, the input's own for the others (a float32 product overflows as NumPy's does).
    package func accumulatorDType(for dtype: DType) -> DType { self == .sum ? .float64 : dtype }
}

extension CAxisKernelOp {
    package var partsCombine: Reduce.Kind? { nil }
}

/// The parameters of every ``CAxisKernelOp`` kernel.
let axisKernelParameters = ["int64_t A", "int64_t R", "int64_t B", "int64_t a0", "int64_t a1", "int64_t b0", "int64_t b1",
                                    "const void *const *in", "void *out_"]

/// Which of `inputs` a C kernel (a fused elementwise loop, or a ``CAxisKernelOp`` kernel)
/// reads as one element, outside its loop: those of static shape all ones.
package func cKernelScalarInputs(_ inputs: [Variable]) -> [Bool] {
    inputs.map { $0.staticShape.allSatisfy { $0 == 1 } }
}
