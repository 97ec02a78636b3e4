import TheanoCore
import TheanoOps
import TheanoOptimizer
import TheanoAutodiff

/// Where everything of a scan is: the positions of its inputs, the step's arguments, and
/// which element of a sequence or history each tap reads at each step. The loop and its
/// gradient read the same layout.
///
/// A recurrent output's *history* holds its `k` initial values (`k` = the deepest tap) and
/// then one value per step: step `t` reads row `t + k + tap` and writes row `t + k`.
package struct ScanSignature: Hashable, Sendable {
    /// Whether the first input is the number of steps.
    let hasStepCount: Bool
    /// The taps of each sequence.
    let sequenceTaps: [[Int]]
    /// The taps of each output; empty for outputs not fed back.
    let outputTaps: [[Int]]
    /// How many non-sequences (those given and those the step captured).
    let nonSequenceCount: Int
    /// Whether the step's last result is the condition that stops the loop.
    let hasUntil: Bool
    package let goBackwards: Bool
    package let truncateGradient: Int?
    /// The outputs whose history the loop keeps only the last rows of (as many as the
    /// deepest tap, at least one): what remains of it is only ever read at its last row.
    /// The loop then needs memory for those rows, not for every step.
    var windowedOutputs: Set<Int> = []
    /// How many of the last outputs are values kept for the gradient loop
    /// (``SavedPreactivations``): not the user's, and not differentiated.
    var savedOutputs = 0

    package init(hasStepCount: Bool, sequenceTaps: [[Int]], outputTaps: [[Int]], nonSequenceCount: Int, hasUntil: Bool, goBackwards: Bool, truncateGradient: Int?, windowedOutputs: Set<Int> = [], savedOutputs: Int = 0) {
        self.hasStepCount = hasStepCount
        self.sequenceTaps = sequenceTaps
        self.outputTaps = outputTaps
        self.nonSequenceCount = nonSequenceCount
        self.hasUntil = hasUntil
        self.goBackwards = goBackwards
        self.truncateGradient = truncateGradient
        self.windowedOutputs = windowedOutputs
        self.savedOutputs = savedOutputs
    }

    /// The outputs that are the user's (the step's results and the updated shared variables).
    var userOutputs: Range<Int> { 0..<(outputTaps.count - savedOutputs) }

    /// The outputs that are fed back.
    var recurrentOutputs: [Int] { outputTaps.indices.filter { !outputTaps[$0].isEmpty } }

    /// How many initial values the history of an output with `taps` starts with.
    func historyOffset(ofOutputWithTaps taps: [Int]) -> Int { -(taps.min() ?? 0) }

    /// The history offset of output `j` (0 for outputs not fed back).
    func historyOffset(_ j: Int) -> Int { historyOffset(ofOutputWithTaps: outputTaps[j]) }

    // MARK: Outer inputs

    var firstSequence: Int { hasStepCount ? 1 : 0 }
    var firstInitial: Int { firstSequence + sequenceTaps.count }
    var firstNonSequence: Int { firstInitial + recurrentOutputs.count }
    package var inputCount: Int { firstNonSequence + nonSequenceCount }

    // MARK: The step's arguments

    /// The step's arguments, in order: each sequence's taps, each recurrent output's taps,
    /// the non-sequences.
    var argumentCount: Int { sequenceTaps.reduce(0) { $0 + $1.count } + outputTaps.reduce(0) { $0 + $1.count } + nonSequenceCount }

    /// The elements of sequence `i` past the ones steps start at: a sequence of length `L`
    /// allows `L - extent` steps.
    package func extent(ofSequence i: Int) -> Int { sequenceTaps[i].max()! - sequenceTaps[i].min()! }

    /// The element of sequence `i` that `tap` reads at step `t`.
    func sequenceElement(_ i: Int, tap: Int, step t: Int) -> Int { t + tap - sequenceTaps[i].min()! }

    /// The history row of output `j` that `tap` reads at step `t`.
    func historyRow(_ j: Int, tap: Int, step t: Int) -> Int { t + historyOffset(j) + tap }
}

extension ArraySlice {
    /// Removes the first `count` elements and returns them (splitting a loop's flat list of
    /// inputs or arguments into its groups).
    mutating func takeFirst(_ count: Int) -> [Element] {
        defer { self = dropFirst(count) }
        return Array(prefix(count))
    }
}
