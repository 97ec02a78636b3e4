import TheanoCore

/// Softmax and log-softmax in C along any axis. The input is read as `[A, R, B]`, `R` the
/// axis: per distribution the maximum, the exponentials and their sum (vectorized through
/// libmvec under GCC), then the normalization. Along the last axis (`B = 1`) each
/// distribution is a contiguous row; along another, the kernel walks blocks of up to 256
/// neighbouring distributions together, so every pass reads contiguous memory. A kernel
/// for the last axis has the rows' loop only: the blocks' loops, which could never run
/// there, took GCC 0.2 s to compile.
enum SoftmaxKernelSource {
    /// How many distributions along `B` one pass handles (their running maxima and sums
    /// live on the stack).
    package static let block = 256

    package static func source(name: String, dtype: DType, logarithm: Bool, alongLastAxis: Bool) -> String? {
        guard dtype.isFloat else { return nil }
        let t = dtype.cType.rawValue, suffix = dtype == .float32 ? "f" : ""
        let exp = "exp\(suffix)", log = "log\(suffix)"
        /// One distribution per contiguous row (`B = 1`).
        @CBlock func rows() -> [any CStatement] {
            CFor("a", from: "a0", below: "a1") {
                CDeclare(.pointer(to: "const \(t)", restrict: true), "x", "(const \(t) *)in_ + a * R")
                CDeclare(.pointer(to: t, restrict: true), "y", "(\(t) *)out_ + a * R")
                CDeclare(.value(t), "peak", mutable: true, "theano_max_\(t)(x, R)")
                CIf("isinf(peak) && peak < 0") { CAssign("peak", "0") }
                // Sums and maxima of rows run in 8 interleaved lanes (the prelude's
                // helpers) so the loops vectorize without reassociating anything the
                // compiler could not prove safe.
                CFor("j", from: "0", below: "R") { CAssign("y[j]", "\(exp)(x[j] - peak)") }
                if logarithm {
                    CDeclare(.value(t), "shift", "peak + \(log)(theano_sum_\(t)(y, R))")
                    CFor("j", from: "0", below: "R") { CAssign("y[j]", "x[j] - shift") }
                } else {
                    CDeclare(.value(t), "scale", "1 / theano_sum_\(t)(y, R)")
                    CFor("j", from: "0", below: "R") { CAssign("y[j]", "scale", operator: "*=") }
                }
            }
        }

        /// Blocks of up to `block` distributions side by side (`B > 1`).
        @CBlock func blocks() -> [any CStatement] {
            CDeclare(.array(of: t, sizes: [block]), "peak", nil)
            CDeclare(.array(of: t, sizes: [block]), "total", nil)
            CFor("a", from: "a0", below: "a1") {
                CFor("first", from: "b0", below: "b1", by: "\(block)") {
                    CDeclare(.value("int64_t"), "n", "b1 - first < \(block) ? b1 - first : \(block)")
                    CDeclare(.pointer(to: "const \(t)", restrict: true), "x", "(const \(t) *)in_ + a * R * B + first")
                    CDeclare(.pointer(to: t, restrict: true), "y", "(\(t) *)out_ + a * R * B + first")
                    CFor("b", from: "0", below: "n") { CAssign("peak[b]", "x[b]") }
                    CFor("r", from: "1", below: "R") {
                        CFor("b", from: "0", below: "n") {
                            CDeclare(.value(t), "v", "x[r * B + b]")
                            CAssign("peak[b]", "(v > peak[b] || v != v) ? v : peak[b]")
                        }
                    }
                    CFor("b", from: "0", below: "n") {
                        CIf("isinf(peak[b]) && peak[b] < 0") { CAssign("peak[b]", "0") }
                        CAssign("total[b]", "0")
                    }
                    CFor("r", from: "0", below: "R") {
                        CFor("b", from: "0", below: "n") {
                            CDeclare(.value(t), "e", "\(exp)(x[r * B + b] - peak[b])")
                            if !logarithm { CAssign("y[r * B + b]", "e") }
                            CAssign("total[b]", "e", operator: "+=")
                        }
                    }
                    if logarithm {
                        CFor("b", from: "0", below: "n") { CAssign("total[b]", "peak[b] + \(log)(total[b])") }
                        CFor("r", from: "0", below: "R") {
                            CFor("b", from: "0", below: "n") { CAssign("y[r * B + b]", "x[r * B + b] - total[b]") }
                        }
                    } else {
                        CFor("b", from: "0", below: "n") { CAssign("total[b]", "1 / total[b]") }
                        CFor("r", from: "0", below: "R") {
                            CFor("b", from: "0", below: "n") { CAssign("y[r * B + b]", "total[b]", operator: "*=") }
                        }
                    }
                }
            }
        }

        return CFunction(name, parameters: axisKernelParameters) {
            CDeclare(.pointer(to: "const void", restrict: false), "in_", "in[0]")
            if alongLastAxis {
                rows()
            } else {
                CIf("B == 1") {
                    rows()
                    CReturn()
                }
                blocks()
            }
        }.source
    }
}

/// Softmax and log-softmax share their kernel; it differs only in what it writes.
protocol SoftmaxKernelOp: NormalizingExponentialOp, CAxisKernelOp {}

extension SoftmaxKernelOp {
    package func kernelAxes(_ node: Apply) -> Range<Int>? { axis..<(axis + 1) }

    package func cAxisKernel(name: String, node: Apply) -> String? {
        SoftmaxKernelSource.source(name: name, dtype: node.outputTypes[0].dtype, logarithm: writesLogarithm,
                                   alongLastAxis: axis == node.inputs[0].ndim - 1)
    }

    package func kernelOutputShape(_ shape: [Int]) throws -> [Int] { shape }

    /// An exponential per element.
    package var workPerElement: Int { 4 }
}

extension Softmax: SoftmaxKernelOp {}
extension LogSoftmax: SoftmaxKernelOp {}
