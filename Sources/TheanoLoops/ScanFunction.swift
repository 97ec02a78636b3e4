import TheanoCore
import TheanoOps
import TheanoOptimizer
import TheanoAutodiff

/// A sequence a scan walks along its first axis, and the offsets (taps) of the elements each
/// step reads: taps `[-1, 0, 1]` give step `t` the elements `t - 1`, `t` and `t + 1`.
public struct ScanSequence {
    /// The sequence: its first axis is the one the loop walks.
    public let variable: Variable
    /// The offsets, relative to the current step, of the elements each step reads.
    public let taps: [Int]

    /// The sequence `variable`, each step reading its elements at `taps` (by default the
    /// current one).
    public init(_ variable: Variable, taps: [Int] = [0]) {
        self.variable = variable
        self.taps = taps
    }
}

/// How one output of a scan's step is fed back into the next steps.
public struct ScanOutput {
    /// The values before the first step, or `nil` for an output that is not fed back.
    public let initial: Variable?
    /// The earlier steps each step reads (negative offsets).
    public let taps: [Int]

    package init(initial: Variable?, taps: [Int]) {
        self.initial = initial
        self.taps = taps
    }

    /// An output each step reads back: taps `[-1]` (the default) read the previous step's
    /// value, and `initial` is that value before the first step; taps `[-2, -1]` read the two
    /// previous ones, and `initial` then holds the 2 values before the first step along a
    /// new first axis.
    public static func recurrent(_ initial: Variable, taps: [Int] = [-1]) -> ScanOutput { ScanOutput(initial: initial, taps: taps) }

    /// An output computed by each step and stacked, not read back.
    public static var notFedBack: ScanOutput { ScanOutput(initial: nil, taps: []) }
}

/// What a scan's step function returns: the step's outputs, optionally a condition that
/// ends the loop after this step when true (`until`), and new values of shared variables
/// (each step sees the value the previous one left; the loop's last value is returned as
/// an update for `function`).
public struct ScanStep: ExpressibleByArrayLiteral {
    /// The step's values, one per entry of the scan's `outputsInfo`.
    public let outputs: [Variable]
    /// A boolean scalar that ends the loop after this step when true, or `nil`.
    public let until: Variable?
    /// New values of shared variables, seen by the next step.
    public let updates: [SharedVariable: Variable]

    /// A step returning `outputs`, ending the loop when `until` is true, and updating shared
    /// variables with `updates`.
    public init(_ outputs: [Variable], until: Variable? = nil, updates: [SharedVariable: Variable] = [:]) {
        self.outputs = outputs
        self.until = until
        self.updates = updates
    }

    public init(arrayLiteral outputs: Variable...) { self.init(outputs) }
}

/// What ``scan(sequences:outputsInfo:nonSequences:nSteps:goBackwards:truncateGradient:excluding:name:fileID:line:_:)``
/// returns: the outputs (indexable like an array), and the updates of the shared variables
/// the step updated, to pass to `function(…, updates:)`.
public struct ScanResult: RandomAccessCollection {
    /// For each output, the values of all steps stacked along a new first axis.
    public let outputs: [Variable]
    /// The final value of each shared variable the step updated.
    public let updates: [SharedVariable: Variable]

    package init(outputs: [Variable], updates: [SharedVariable: Variable]) {
        self.outputs = outputs
        self.updates = updates
    }

    public var startIndex: Int { outputs.startIndex }
    public var endIndex: Int { outputs.endIndex }
    public subscript(position: Int) -> Variable { outputs[position] }
}

/// Symbolic loops (Theano's `scan`): `step` is called once, on symbolic slices, to build the
/// graph of one step; the loop runs that graph once per element of the sequences.
///
/// The step receives, in this order: for each sequence, its elements at the sequence's
/// taps; for each recurrent output, its values at the output's taps; the non-sequences. It
/// returns one value per entry of `outputsInfo`. Variables the step uses without receiving
/// them (weights captured by the closure, shared variables) are non-sequences too.
///
/// ```swift
/// // h_t = tanh(x_t · W + h_{t-1} · U)
/// let h = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(h0)]) { v in
///     [try tanh(dot(v[0], W) + dot(v[1], U))]
/// }.outputs[0]
/// ```
///
/// - Parameters:
///   - nSteps: the number of steps (an integer scalar); by default the length of the
///     sequences (the shortest one, less what its taps need).
///   - goBackwards: walk the sequences from their last element to their first.
///   - truncateGradient: propagate gradients back through only this many steps (from the
///     last one); `nil` for all of them.
///   - excluding: construction rewrites not to make to this loop's step.
/// - Returns: for each output, the values of all steps stacked along a new first axis; and
///   the updates of shared variables the step updated.
public func scan(sequences: [ScanSequence] = [], outputsInfo: [ScanOutput] = [], nonSequences: [Variable] = [],
                 nSteps: Variable? = nil, goBackwards: Bool = false, truncateGradient: Int? = nil,
                 excluding: Set<LoopConstructionRewrite> = [], name: String? = nil,
                 fileID: String = #fileID, line: Int = #line, _ step: ([Variable]) throws -> ScanStep) throws -> ScanResult {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    let (node, construction) = try scanNode(sequences: sequences, outputsInfo: outputsInfo, nonSequences: nonSequences, nSteps: nSteps,
                                            goBackwards: goBackwards, truncateGradient: truncateGradient, excluding: excluding,
                                            name: name, location: location, step)
    return try SourceLocation.attributing(to: location) {
        let outputs = try zip(outputsInfo, node.outputs).map { info, output in
            info.initial == nil ? output : try output[construction.body.signature.historyOffset(ofOutputWithTaps: info.taps)...]
        }
        let updated = construction.updatedVariables
        let histories = node.outputs[outputsInfo.count..<(outputsInfo.count + updated.count)]
        return ScanResult(outputs: outputs, updates: Dictionary(uniqueKeysWithValues: try zip(updated, histories).map { ($0, try $1[-1]) }))
    }
}

/// The scan node, whose recurrent outputs are whole histories (the initial values first).
func scanNode(sequences: [ScanSequence], outputsInfo: [ScanOutput], nonSequences: [Variable], nSteps: Variable?,
              goBackwards: Bool, truncateGradient: Int?, excluding: Set<LoopConstructionRewrite> = [], name: String?,
              location: SourceLocation, _ step: ([Variable]) throws -> ScanStep) throws -> (Apply, ScanConstruction) {
    let construction = try ScanConstruction(name: name ?? "scan at \(location)", sequences: sequences, outputs: outputsInfo,
                                            nonSequences: nonSequences, hasStepCount: nSteps != nil, goBackwards: goBackwards,
                                            truncateGradient: truncateGradient, excluding: excluding, location: location, step: step)
    let inputs = (nSteps.map { [$0] } ?? []) + sequences.map(\.variable) + construction.extraSequences + outputsInfo.compactMap(\.initial)
        + construction.updatedVariables + construction.nonSequences
    return (try Scan(body: construction.body).apply(inputs, at: location), construction)
}

/// `step` applied to each element of `sequences` (Theano's `map`): the results stacked.
public func map(sequences: [Variable], nonSequences: [Variable] = [], name: String? = nil,
                fileID: String = #fileID, line: Int = #line, _ step: ([Variable]) throws -> Variable) throws -> Variable {
    try scan(sequences: sequences.map { ScanSequence($0) }, outputsInfo: [.notFedBack], nonSequences: nonSequences,
             name: name, fileID: fileID, line: line) { [try step($0)] }[0]
}

/// `step(elements…, accumulated, nonSequences…)` folded over `sequences` from the first
/// element to the last, starting from `initial` (Theano's `reduce` and `foldl`): the final value.
public func foldl(sequences: [Variable], initial: Variable, nonSequences: [Variable] = [], name: String? = nil,
                  fileID: String = #fileID, line: Int = #line, _ step: ([Variable]) throws -> Variable) throws -> Variable {
    try fold(sequences: sequences, initial: initial, nonSequences: nonSequences, backwards: false, name: name, fileID: fileID, line: line, step)
}

/// `step` folded over `sequences` from the last element to the first (Theano's `foldr`).
public func foldr(sequences: [Variable], initial: Variable, nonSequences: [Variable] = [], name: String? = nil,
                  fileID: String = #fileID, line: Int = #line, _ step: ([Variable]) throws -> Variable) throws -> Variable {
    try fold(sequences: sequences, initial: initial, nonSequences: nonSequences, backwards: true, name: name, fileID: fileID, line: line, step)
}

/// The same as ``foldl(sequences:initial:nonSequences:name:fileID:line:_:)`` (Theano's `reduce`).
public func reduce(sequences: [Variable], initial: Variable, nonSequences: [Variable] = [], name: String? = nil,
                   fileID: String = #fileID, line: Int = #line, _ step: ([Variable]) throws -> Variable) throws -> Variable {
    try fold(sequences: sequences, initial: initial, nonSequences: nonSequences, backwards: false, name: name, fileID: fileID, line: line, step)
}

private func fold(sequences: [Variable], initial: Variable, nonSequences: [Variable], backwards: Bool, name: String?,
                  fileID: String, line: Int, _ step: ([Variable]) throws -> Variable) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    let (node, _) = try scanNode(sequences: sequences.map { ScanSequence($0) }, outputsInfo: [.recurrent(initial)], nonSequences: nonSequences,
                                 nSteps: nil, goBackwards: backwards, truncateGradient: nil, name: name, location: location) { [try step($0)] }
    // The last row of the history: the initial value itself when there is no step.
    return try SourceLocation.attributing(to: location) { try node.output(0)[-1] }
}
