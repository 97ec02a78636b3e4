import RealModule
import TheanoCore

/// The inverse error function, elementwise: `erfinv(erf(x)) = x`; ±∞ at ±1, NaN outside
/// `[-1, 1]`.
///
/// Giles's polynomial ("Approximating the erfinv function", 2010) gives a first guess within
/// a few parts in 10⁷; two Halley steps on `erf(x) − y` (written with `erfc` near ±1, where
/// `1 ∓ y` is exact) bring it to the dtype's precision. The C helper computes the same steps.
public struct Erfinv: UnaryFloatOp, CElementwiseOp {
    package init() {}

    public var description: String { "erfinv" }

    public func apply<T: FloatElement & NumericElement>(_ y: T) -> T {
        guard y.magnitude < 1 else { return y.magnitude == 1 ? y * .infinity : .nan }
        var x = firstGuess(y)
        for _ in 0..<2 {
            let residual = y > 0.5 ? (1 - y) - .erfc(x) : y < -0.5 ? .erfc(-x) - (1 + y) : .erf(x) - y
            let slope = T(1.1283791670955126) * .exp(-x * x)  // 2 / √π
            x -= residual / (slope + x * residual)
        }
        return x
    }

    /// Giles's polynomials, highest degree first: in `w − 2.5` where `w = −log(1 − y²)` is
    /// below 5, and in `√w − 3` beyond.
    private static let centralCoefficients: [Double] = [2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                                                        -0.00125372503, -0.00417768164, 0.246640727, 1.50140941]
    private static let tailCoefficients: [Double] = [-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                                                     -0.0076224613, 0.00943887047, 1.00167406, 2.83297682]

    /// Giles's single-precision approximation, evaluated in `T`.
    private func firstGuess<T: FloatElement>(_ y: T) -> T {
        let w = -T.log((1 - y) * (1 + y))
        let (coefficients, t) = w < 5 ? (Self.centralCoefficients, w - 2.5) : (Self.tailCoefficients, w.squareRoot() - 3)
        return coefficients.dropFirst().reduce(T(coefficients[0])) { $0 * t + T($1) } * y
    }

    public func cExpression(_ operands: [CExpression], output: CType) -> CExpression? {
        .helper(output == .float ? "theano_erfinvf" : "theano_erfinv", [operands[0]], type: output)
    }

    public func gradients(_ operands: [Variable], output: Variable, gradient g: Variable) throws -> [Variable?] {
        [try g * (Double.pi.squareRoot() / 2) * exp(sqr(output))]
    }
}

/// The inverse error function, elementwise.
public func erfinv(_ x: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try elementwise(Erfinv(), [x], at: .resolve(fileID: fileID, line: line))
}

/// The C helpers of ``Erfinv``, for `float` (suffix `f`) and `double`: the same first guess
/// and Halley steps as the reference implementation.
package let erfinvCSource = #"""
#define THEANO_ERFINV(T, S, LOG, SQRT, EXP, ERF, ERFC) \
static inline T theano_erfinv##S(T y) { \
    if (!(y > -1 && y < 1)) return (y == 1 || y == -1) ? y * (T)INFINITY : (T)NAN; \
    T w = -LOG((1 - y) * (1 + y)), p; \
    if (w < 5) { \
        w -= (T)2.5; \
        p = (T)2.81022636e-08; p = p * w + (T)3.43273939e-07; p = p * w + (T)-3.5233877e-06; \
        p = p * w + (T)-4.39150654e-06; p = p * w + (T)0.00021858087; p = p * w + (T)-0.00125372503; \
        p = p * w + (T)-0.00417768164; p = p * w + (T)0.246640727; p = p * w + (T)1.50140941; \
    } else { \
        w = SQRT(w) - 3; \
        p = (T)-0.000200214257; p = p * w + (T)0.000100950558; p = p * w + (T)0.00134934322; \
        p = p * w + (T)-0.00367342844; p = p * w + (T)0.00573950773; p = p * w + (T)-0.0076224613; \
        p = p * w + (T)0.00943887047; p = p * w + (T)1.00167406; p = p * w + (T)2.83297682; \
    } \
    T x = p * y; \
    for (int step = 0; step < 2; ++step) { \
        T residual = y > (T)0.5 ? (1 - y) - ERFC(x) : y < (T)-0.5 ? ERFC(-x) - (1 + y) : ERF(x) - y; \
        T slope = (T)1.1283791670955126 * EXP(-x * x); \
        x -= residual / (slope + x * residual); \
    } \
    return x; \
}
THEANO_ERFINV(float, f, logf, sqrtf, expf, erff, erfcf)
THEANO_ERFINV(double, , log, sqrt, exp, erf, erfc)
"""#
