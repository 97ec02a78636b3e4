import TheanoCore
import TheanoOps

/// The phases of the optimizer, in the order they run.
public enum RewritePhase: String, CaseIterable, Sendable {
    /// Gradient overrides removed and graph-defined ops (``OpFromGraph``) replaced by their
    /// inner graphs: what only differentiation needed.
    case inline
    /// Common-subexpression elimination.
    case merge
    /// Computing nodes of constant inputs at compile time.
    case constantFolding = "constant_folding"
    /// Symbolic shapes, and removing reshapes, casts, … that do nothing.
    case shape
    /// Algebraic canonical forms: cancellation, constants gathered, dimshuffles lifted.
    case canonicalize
    /// Loops: parts nothing reads removed, histories read at their last row only kept as a
    /// window, loops over the same sequences merged.
    case loops
    /// Numerically stable forms: `log1p`, `softplus`, `log1mexp`, `logSoftmax`, fused cross-entropy.
    case stabilize
    /// Faster forms: `sqr` for `x ** 2`, BLAS calls for matrix products.
    case specialize
    /// Chains of elementwise ops fused into single loops.
    case fusion
}

/// How much `function` optimizes.
public enum OptimizationLevel: Sendable {
    /// Run the graph as built.
    case none
    /// Inline, merge, fold constants and simplify shapes: quick, for graphs run a few times.
    case fastCompile
    /// Every phase.
    case fastRun

    package var phases: [RewritePhase] {
        switch self {
        case .none: []
        case .fastCompile: [.inline, .merge, .constantFolding, .shape]
        case .fastRun: RewritePhase.allCases
        }
    }
}
