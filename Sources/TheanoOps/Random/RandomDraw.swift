import RealModule
import TheanoCore

/// Standard random variates of a given shape (uniform on `[0, 1)`, or standard normal): one
/// draw of a ``RandomStreams``. Inputs: the stream's state (`int64` `[seed, call]`), then
/// one `int64` scalar per dimension of the result.
///
/// Element `k` of the result is a function of the seed, the draw's number in its stream,
/// the call counter and `k` alone (``Philox``), so the reference implementation and the C
/// kernel agree bit for bit, however the work is split across threads. Distributions with
/// parameters are graphs over these (`low + (high - low) * u`, `mean + std * z`, `u < p`),
/// which fuse, and differentiate with respect to the parameters as any graph does.
///
/// Two draws are never the same op (their numbers differ), so merging never makes one of
/// two identical-looking draws; a draw nothing reads is removed like any node.
public struct RandomDraw: ShapeInferringOp {
    /// The standard distributions a draw makes.
    public enum Distribution: String, Sendable {
        /// Uniform on `[0, 1)`: 24 random bits for `float32`, 53 for `float64`.
        case uniform
        /// Standard normal, by the Box–Muller transform of two uniforms.
        case normal
    }

    /// What the draw makes.
    public let distribution: Distribution
    /// The dtype of the values (`float32` or `float64`).
    public let dtype: DType
    /// The draw's number in its stream: with the seed, it makes the generator's key.
    public let draw: UInt64
    /// The static shape, as far as the size inputs are constants.
    public let staticShape: [Int?]

    package init(distribution: Distribution, dtype: DType, draw: UInt64, staticShape: [Int?]) {
        (self.distribution, self.dtype, self.draw, self.staticShape) = (distribution, dtype, draw, staticShape)
    }

    public var description: String { "\(distribution)_draw\(draw){\(dtype)}" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard dtype.isFloat else { throw OpError("draws float32 or float64 values, not \(dtype)") }
        guard inputs.count == staticShape.count + 1, inputs[0].dtype == .int64, inputs[0].shape == [2] else {
            throw OpError("expects the stream's state (int64 [seed, call]) and one size per dimension")
        }
        guard inputs.dropFirst().allSatisfy({ $0.ndim == 0 && $0.dtype.isInteger }) else { throw OpError("sizes must be integer scalars") }
        return [TensorType(dtype, shape: staticShape)]
    }

    /// How many blocks of 128 bits make a group: element `k` of a draw comes from block
    /// `8·(k / (8·P)) + k % 8`, at slot `(k % (8·P)) / 8` of that block (P is
    /// ``elementsPerBlock``) — so eight consecutive elements come from eight blocks, which a
    /// vector unit computes at once.
    package static let blocksPerGroup = 8

    /// How many elements one block of 128 bits makes: four 24-bit uniforms, two 53-bit
    /// uniforms or two float32 normals, one float64 normal.
    package var elementsPerBlock: Int {
        switch (distribution, dtype) {
        case (.uniform, .float32): 4
        case (.uniform, _), (.normal, .float32): 2
        default: 1
        }
    }

    /// The shape the size inputs ask for.
    package func fillShape(_ inputs: [NDArray]) throws -> [Int] { try requestedShape(inputs.dropFirst()) }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let state = inputs[0].elements(as: Int64.self)
        let key = Philox.key(seed: UInt64(bitPattern: state[0]), draw: draw)
        let call = UInt64(bitPattern: state[1])
        let out = try NDArray.allocate(fillShape(inputs), dtype: dtype, zeroed: false)
        let count = out.count, perBlock = elementsPerBlock, group = Self.blocksPerGroup
        /// Fills the output group by group; `element` makes the element at `slot` of a block.
        func fill<T>(_: T.Type, _ element: (_ words: Words, _ slot: Int) -> T) {
            out.withUnsafeMutablePointer(to: T.self) { values in
                for first in stride(from: 0, to: count, by: group * perBlock) {
                    for j in 0..<group where first + j < count {
                        let block = UInt64(first / perBlock + j)
                        let words = Words(Philox.block(counter: (UInt32(truncatingIfNeeded: block), UInt32(truncatingIfNeeded: block >> 32),
                                                                 UInt32(truncatingIfNeeded: call), UInt32(truncatingIfNeeded: call >> 32)), key: key))
                        for slot in 0..<perBlock where first + slot * group + j < count { values[first + slot * group + j] = element(words, slot) }
                    }
                }
            }
        }
        switch (distribution, dtype) {
        case (.uniform, .float32): fill(Float.self) { words, slot in unitFloat(words[slot]) }
        case (.uniform, _): fill(Double.self) { words, slot in unitDouble(words[2 * slot], words[2 * slot + 1]) }
        case (.normal, .float32):
            fill(Float.self) { words, slot in
                let u = Float(words[2 * slot] >> 8 + 1) * 0x1p-24, v = unitFloat(words[2 * slot + 1])
                return (-2 * portableLog(u)).squareRoot() * portableCos2Pi(v)
            }
        default:
            fill(Double.self) { words, _ in
                let u = (Double(bits53(words[0], words[1])) + 1) * 0x1p-53, v = unitDouble(words[2], words[3])
                return (-2 * Double.log(u)).squareRoot() * Double.cos(0x1.921fb54442d18p+2 * v)
            }
        }
        return [out]
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { [Array(node.inputs.dropFirst())] }
}

/// The state and the sizes are integers: no gradient reaches them, and a variable reached
/// only through them (`x` in `x + normal(shape: .like(x))`) gets its gradient from the
/// other paths alone.
extension RandomDraw: DifferentiableOp, ForwardDifferentiableOp {
    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] { node.inputs.map { _ in nil } }
    public func isConnected(toInput index: Int) -> Bool { false }
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] { [nil] }
}

/// The four words of a Philox block, by position.
private struct Words {
    let bits: (UInt32, UInt32, UInt32, UInt32)
    init(_ bits: (UInt32, UInt32, UInt32, UInt32)) { self.bits = bits }

    subscript(position: Int) -> UInt32 {
        switch position {
        case 0: bits.0
        case 1: bits.1
        case 2: bits.2
        default: bits.3
        }
    }
}

/// 24 random bits as a float in `[0, 1)`.
private func unitFloat(_ word: UInt32) -> Float { Float(word >> 8) * 0x1p-24 }

/// 53 random bits from two words: the high word's 32 and the low word's top 21.
private func bits53(_ high: UInt32, _ low: UInt32) -> UInt64 { UInt64(high) << 21 | UInt64(low >> 11) }

/// 53 random bits as a double in `[0, 1)`.
private func unitDouble(_ high: UInt32, _ low: UInt32) -> Double { Double(bits53(high, low)) * 0x1p-53 }
