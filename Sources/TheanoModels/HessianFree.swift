import Foundation
import Theano

/// Martens' Hessian-free optimization ("Deep learning via Hessian-free optimization", 2010;
/// Martens and Sutskever 2011 for recurrent networks), the use the R-operator was built for:
/// each step solves `(G + λI) d = −∇L` by truncated conjugate gradient, where `G` is the
/// Gauss–Newton matrix of the loss, never formed: `G v = Jᵀ H_L J v`, with `J v` from `Rop`
/// of the network's outputs, `H_L` the loss's Hessian with respect to those outputs (a closed
/// form for the losses below), and `Jᵀ u` from `Lop`.
///
/// The damping `λ` follows the Levenberg–Marquardt heuristic: it grows when the quadratic model
/// predicted the step's effect badly (reduction ratio `ρ < 1/4`) and shrinks when well
/// (`ρ > 3/4`); each solve starts from the previous direction times 0.95; a step that does
/// not lower the loss is shortened by a backtracking line search, or refused.
public final class HessianFree {
    /// The loss, convex in the network's outputs `z`: what `H_L` is.
    public enum Loss: Sendable {
        /// `½ Σ (z − target)² / N` over the `N` rows of `z` (all axes but the last).
        case squaredError
        /// The mean cross-entropy of `softmax(z)` against integer targets (one per row).
        case softmaxCrossentropy
    }

    /// The shared variables the steps move.
    public let parameters: [SharedVariable]
    /// The current damping `λ`.
    public private(set) var damping: Double
    /// The most conjugate-gradient iterations per step.
    public var maxIterations: Int
    /// The conjugate-gradient iterations the last step took.
    public private(set) var lastIterations = 0
    private let lossAndGradient: Function, curvature: Function, lossOnly: Function
    private var previousDirection: [Double]

    /// Compiles the loss, its gradient and the Gauss–Newton product for the network whose
    /// outputs `outputs` (`[…, k]`) are computed from `inputs` and `parameters`, against `targets`.
    public init(parameters: [SharedVariable], inputs: [Variable], outputs z: Variable, targets: Variable, loss: Loss,
                damping: Double = 1, maxIterations: Int = 50, options: CompileOptions = .native) throws {
        (self.parameters, self.damping, self.maxIterations) = (parameters, damping, maxIterations)
        let rows = try cast(size(z), to: z.dtype) / cast(z.shape[z.ndim - 1], to: z.dtype)
        let cost: Variable
        switch loss {
        case .squaredError: cost = try 0.5 * sum(sqr(z - targets)) / rows
        case .softmaxCrossentropy:
            let flat = try reshape(z, sizes: [constant(NDArray(scalar: Int64(-1))), z.shape[z.ndim - 1]])
            cost = try mean(categoricalCrossentropy(softmax(flat), flatten(targets)))
        }
        let directions = parameters.map { tensor(dtype: $0.dtype, shape: $0.value.shape) }
        let jv = try Rop([z], wrt: parameters, evalPoints: directions)[0]
        let hjv: Variable
        switch loss {
        case .squaredError: hjv = try jv / rows
        case .softmaxCrossentropy:
            // The softmax cross-entropy's Hessian in z, row by row: diag(p) − p pᵀ.
            let p = try softmax(z, axis: -1)
            hjv = try (p * jv - p * sum(p * jv, axis: [z.ndim - 1], keepDims: true)) / rows
        }
        let products = try Lop([z], wrt: parameters, evalPoints: [hjv])
        lossAndGradient = try function(inputs: inputs + [targets], outputs: [cost] + grad(cost, wrt: parameters), name: "hf_gradient", options: options)
        curvature = try function(inputs: inputs + [targets] + directions, outputs: products, name: "hf_curvature", options: options)
        lossOnly = try function(inputs: inputs + [targets], outputs: [cost], name: "hf_loss", options: options)
        previousDirection = [Double](repeating: 0, count: parameters.reduce(0) { $0 + $1.value.count })
    }

    /// The Gauss–Newton matrix times `v` (one array per parameter) on the batch `data`
    /// (the inputs, then the targets).
    public func gaussNewtonProduct(_ v: [NDArray], on data: [NDArray]) throws -> [NDArray] { try curvature(data + v) }

    /// One step on the batch `data` (the inputs' values, then the targets); returns the loss
    /// before it. The curvature products run on `curvatureData` when given (Martens: a
    /// smaller batch than the gradient's, each product being the expensive part).
    @discardableResult
    public func step(_ data: [NDArray], curvatureData: [NDArray]? = nil) throws -> Double {
        let results = try lossAndGradient(data)
        let loss = results[0].scalar(as: Double.self), gradient = flat(Array(results[1...]))
        let start = parameters.map(\.value)
        let lambda = damping, curvatureBatch = curvatureData ?? data
        func product(_ v: [Double]) throws -> [Double] {
            let gv = flat(try curvature(curvatureBatch + arrays(v)))
            return zip(gv, v).map { $0 + lambda * $1 }
        }
        let direction = try conjugateGradient(product, gradient, from: previousDirection.map { 0.95 * $0 })
        previousDirection = direction
        // The line search, then the model's predicted change for the step taken,
        // ½ s² dᵀ A d + s gᵀ d, against the actual one.
        let curvatureAlong = dot(direction, try product(direction))
        var scale = 1.0, newLoss = Double.infinity
        for attempt in 0..<12 {
            if attempt > 0 { scale *= 0.8 }
            try apply(start, direction, scale)
            newLoss = try lossOnly(data)[0].scalar(as: Double.self)
            if newLoss < loss + 1e-2 * scale * dot(gradient, direction) { break }
        }
        let predicted = 0.5 * scale * scale * curvatureAlong + scale * dot(gradient, direction)
        let ratio = (newLoss - loss) / (predicted < 0 ? predicted : -1e-12)
        if ratio < 0.25 { damping *= 1.5 } else if ratio > 0.75 { damping *= 2.0 / 3.0 }
        if !(newLoss < loss) {
            // No decrease along the direction at all: keep the parameters.
            for (parameter, value) in zip(parameters, start) { try parameter.setValue(value) }
            previousDirection = previousDirection.map { _ in 0 }
        }
        return loss
    }

    /// Truncated CG on `A x = −g` from `x0`, stopped by Martens' relative-progress test on the
    /// quadratic `φ(x) = ½ xᵀ A x + gᵀ x` (over the last `max(10, i/10)` iterations).
    private func conjugateGradient(_ a: ([Double]) throws -> [Double], _ g: [Double], from x0: [Double]) throws -> [Double] {
        var x = x0, ax = try a(x0)
        var r = zip(ax, g).map { -($0 + $1) }, p = r, rr = dot(r, r)
        var values: [Double] = []
        lastIterations = 0
        for i in 1...Swift.max(1, maxIterations) {
            lastIterations = i
            let ap = try a(p), pap = dot(p, ap)
            guard pap > 0, rr > 0 else { break }
            let alpha = rr / pap
            for k in x.indices { x[k] += alpha * p[k]; ax[k] += alpha * ap[k]; r[k] -= alpha * ap[k] }
            let next = dot(r, r)
            p = zip(r, p).map { $0 + next / rr * $1 }
            rr = next
            values.append(0.5 * dot(x, ax) + dot(g, x))
            let window = Swift.max(10, i / 10)
            if i > window, values[i - 1] < 0, (values[i - 1] - values[i - 1 - window]) / values[i - 1] < Double(window) * 5e-4 { break }
        }
        return x
    }

    /// Sets each parameter to its value in `start` plus `scale` times its part of `direction`.
    private func apply(_ start: [NDArray], _ direction: [Double], _ scale: Double) throws {
        var offset = 0
        for (parameter, value) in zip(parameters, start) {
            let count = value.count
            let moved = zip(value.cast(to: .float64).elements(as: Double.self), direction[offset..<(offset + count)]).map { $0 + scale * $1 }
            try parameter.setValue(NDArray(moved, shape: value.shape).cast(to: value.dtype))
            offset += count
        }
    }

    /// The arrays, one per parameter, of the flat vector `v`.
    private func arrays(_ v: [Double]) -> [NDArray] {
        var offset = 0
        return parameters.map { parameter in
            defer { offset += parameter.value.count }
            return NDArray(Array(v[offset..<(offset + parameter.value.count)]), shape: parameter.value.shape).cast(to: parameter.dtype)
        }
    }

    private func flat(_ arrays: [NDArray]) -> [Double] { arrays.flatMap { $0.cast(to: .float64).contiguous().elements(as: Double.self) } }
    private func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
}
