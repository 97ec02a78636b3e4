import RealModule

/// A small, fast, seedable random number generator (SplitMix64), so runs are repeatable:
/// the same seed gives the same weights and the same minibatch order on every machine.
public struct RandomState: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator whose sequence is determined by `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform `Double` in `[0, 1)`.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// A standard normal `Double` (Box–Muller).
    public mutating func nextNormal() -> Double {
        let u = 1 - nextUnit(), v = nextUnit()
        return (-2 * Double.log(u)).squareRoot() * Double.cos(2 * .pi * v)
    }
}

extension NDArray {
    /// Values drawn uniformly from `[low, high)`.
    public static func uniform(_ shape: [Int], low: Double = 0, high: Double = 1, dtype: DType = .defaultFloat,
                               using random: inout RandomState) -> NDArray {
        drawn(shape, dtype: dtype) { low + (high - low) * random.nextUnit() }
    }

    /// Values drawn from a normal distribution.
    public static func normal(_ shape: [Int], mean: Double = 0, std: Double = 1, dtype: DType = .defaultFloat,
                              using random: inout RandomState) -> NDArray {
        drawn(shape, dtype: dtype) { mean + std * random.nextNormal() }
    }

    /// An array of `shape` whose elements, in row-major order, are `draw()` converted to
    /// `dtype` as ``cast(to:)`` converts float64, written in place (no float64 array first).
    private static func drawn(_ shape: [Int], dtype: DType, _ draw: () -> Double) -> NDArray {
        struct Fill: ElementVisitor {
            let shape: [Int], draw: () -> Double
            func visit<T: Element>(_: T.Type) -> NDArray {
                let out = NDArray(uninitialized: shape, dtype: T.dtype)
                out.withUnsafeMutablePointer(to: T.self) { p in for i in 0..<out.count { p[i] = T(doubleValue: draw()) } }
                return out
            }
        }
        return withoutActuallyEscaping(draw) { dtype.visit(Fill(shape: shape, draw: $0)) }
    }
}
