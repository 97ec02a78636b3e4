import TheanoCore

/// A draw in C: a loop over groups of eight Philox blocks (``Philox``, the prelude's
/// `theano_philox8`), each making ``RandomDraw/elementsPerBlock`` elements per block in the
/// order ``RandomDraw/blocksPerGroup`` describes, with the same arithmetic as the reference
/// implementation. Float32 normal draws use the logarithm and cosine of `PortableMath.swift`,
/// which vectorize; float64 ones call the C library's through the prelude's `theano_exact_*`
/// functions, which the compiler cannot replace by vector-library versions that round
/// differently.
extension RandomDraw: CFillKernelOp {
    package func cFillKernel(name: String, node: Apply) -> String? {
        let t = dtype.cType.rawValue
        return cFillKernel(name: name, outputType: t, setup: []) { index, value in [CAssign("out[\(index)]", value)] }
    }

    /// The kernel with `setup` before the loops, storing element `index` of value `value`
    /// (C text of the draw's type) by the statements `store` makes, into `out` (of C type
    /// `outputType`).
    package func cFillKernel(name: String, outputType: String, setup: [any CStatement],
                             store: @escaping (_ index: String, _ value: String) -> [any CStatement]) -> String {
        let perBlock = elementsPerBlock, group = Self.blocksPerGroup, perGroup = group * perBlock
        let wordsPerElement = 4 / perBlock
        /// An element from its words, `word(i)` the text of word `i` of its slot.
        func element(_ word: (Int) -> String) -> String {
            func bits53(_ high: Int) -> String { "(((uint64_t)\(word(high)) << 21) | (\(word(high + 1)) >> 11))" }
            return switch (distribution, dtype) {
            case (.uniform, .float32): "(float)(\(word(0)) >> 8) * 0x1p-24f"
            case (.uniform, _): "(double)\(bits53(0)) * 0x1p-53"
            case (.normal, .float32):
                "sqrtf(-2.0f * theano_portable_logf((float)((\(word(0)) >> 8) + 1) * 0x1p-24f))"
                    + " * theano_portable_cos2pif((float)(\(word(1)) >> 8) * 0x1p-24f)"
            default:
                "sqrt(-2.0 * theano_exact_log(((double)\(bits53(0)) + 1) * 0x1p-53))"
                    + " * theano_exact_cos(0x1.921fb54442d18p+2 * ((double)\(bits53(2)) * 0x1p-53))"
            }
        }
        /// Element `k` alone: its block computed by itself (the partial groups at either end).
        let single: [any CStatement] = [
            CDeclare(.value("int64_t"), "slot", "k % \(perGroup) / \(group)"),
            CDeclare(.value("uint64_t"), "block", "(uint64_t)(k / \(perGroup) * \(group) + k % \(group))"),
            CDeclare(.array(of: "uint32_t", sizes: [4]), "w", "{(uint32_t)block, (uint32_t)(block >> 32), (uint32_t)call, (uint32_t)(call >> 32)}"),
            CCall("theano_philox", "w", "k0", "k1"),
        ] + store("k", element { "w[\(wordsPerElement) * slot + \($0)]" })
        return CFunction(name, parameters: ["int64_t begin", "int64_t end", "const void *const *in", "void *out_"]) {
            CDeclare(.value("uint64_t"), "draw", "(uint64_t)((const int64_t *)in[0])[0]")
            CDeclare(.pointer(to: "const int64_t", restrict: false), "state", "(const int64_t *)in[1]")
            CDeclare(.value("uint32_t"), "k0", mutable: true, nil)
            CDeclare(.value("uint32_t"), "k1", mutable: true, nil)
            CCall("theano_philox_key", "(uint64_t)state[0]", "draw", "&k0", "&k1")
            CDeclare(.value("uint64_t"), "call", "(uint64_t)state[1]")
            CDeclare(.pointer(to: outputType, restrict: true), "out", "(\(outputType) *)out_")
            setup
            // Whole groups first ..< last, eight blocks at once; elements before and after one by one.
            CDeclare(.value("int64_t"), "first", mutable: true, "(begin + \(perGroup - 1)) / \(perGroup)")
            CDeclare(.value("int64_t"), "last", mutable: true, "end / \(perGroup)")
            CIf("first > last") {
                CAssign("first", "begin / \(perGroup)")
                CAssign("last", "first")
            }
            CFor("k", from: "begin", below: "(first * \(perGroup) < end ? first * \(perGroup) : end)") { single }
            CFor("g", from: "first", below: "last") {
                CDeclare(.array(of: "uint32_t", sizes: [4, group]), "c", nil)
                CFor("j", type: "int", from: "0", below: "\(group)") {
                    CDeclare(.value("uint64_t"), "block", "(uint64_t)g * \(group) + (uint64_t)j")
                    CAssign("c[0][j]", "(uint32_t)block")
                    CAssign("c[1][j]", "(uint32_t)(block >> 32)")
                    CAssign("c[2][j]", "(uint32_t)call")
                    CAssign("c[3][j]", "(uint32_t)(call >> 32)")
                }
                CCall("theano_philox8", "c", "k0", "k1")
                for slot in 0..<perBlock {
                    CFor("j", type: "int", from: "0", below: "\(group)") {
                        store("g * \(perGroup) + \(slot * group) + j", element { "c[\(wordsPerElement * slot + $0)][j]" })
                    }
                }
            }
            CFor("k", from: "(last * \(perGroup) > begin ? last * \(perGroup) : begin)", below: "end") { single }
        }.source
    }

    package func fillKernelArguments(for inputs: [NDArray]) -> [Int64] { [Int64(bitPattern: draw)] }

    package var workPerElement: Int { distribution == .normal ? 40 : 10 }
}
