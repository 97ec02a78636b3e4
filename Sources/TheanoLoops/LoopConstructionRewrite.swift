import TheanoCore

/// The rewrites `scan` makes to a loop's step while it builds the loop, each named as the
/// optimizer's rules are.
///
/// They run when the loop is built, not when a function is compiled, because `grad` reads
/// their result: a product moved out of the step has its gradient as one large product
/// outside the gradient loop, and values kept for the gradient spare the gradient loop a
/// product per step. Leave one out for a loop with `scan(…, excluding:)`. What each did, and
/// the error of one that failed (the loop is then built without it), appear in the
/// ``RewriteReport`` of every function that runs the loop, under `scan{name} construction`.
public enum LoopConstructionRewrite: String, CaseIterable, Sendable {
    /// Work on sequence elements and loop-invariant values leaves the step and is done on
    /// whole sequences before the loop: `dot(x_t, W)` becomes the element `t` of `dot(x, W)`
    /// (see `WholeSequenceWork`).
    case wholeSequenceWork = "scan_pushout_sequences"
    /// Values the step's pullback would compute again from products (an LSTM's
    /// pre-activations) become extra outputs of the loop, which the gradient loop reads (see
    /// `SavedPreactivations`).
    case savedPreactivations = "scan_save_preactivations"
}

/// Runs the construction rewrites of one loop, skipping the excluded ones and recording what
/// each did or why it failed.
struct LoopConstructionRewriter {
    let excluding: Set<LoopConstructionRewrite>
    private(set) var report = RewriteReport()

    init(excluding: Set<LoopConstructionRewrite>) { self.excluding = excluding }

    /// `rewrite`'s result, or `unchanged` when it is excluded or fails. `changes` counts what
    /// it changed, for the report.
    mutating func run<Result>(_ rewrite: LoopConstructionRewrite, unchanged: Result, changes: (Result) -> Int,
                              _ body: () throws -> Result) -> Result {
        guard !excluding.contains(rewrite) else { return unchanged }
        do {
            let result = try body(), changed = changes(result)
            if changed > 0 { report.counts[rewrite.rawValue, default: 0] += changed }
            return result
        } catch {
            report.failures[rewrite.rawValue] = "\(error)"
            return unchanged
        }
    }
}
