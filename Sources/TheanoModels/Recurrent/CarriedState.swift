import Theano

/// The states a recurrent layer carries from one chunk of a long sequence to the next, for
/// truncated backpropagation through time by chunks: shared variables that the chunk's
/// graph starts from and its updates overwrite with the final states. The gradient stops at
/// the chunk's start (the carried states are not parameters), so each step backpropagates
/// through its own chunk only.
public struct CarriedState {
    /// One per state of each layer, `[batch, hidden]`.
    public let variables: [SharedVariable]

    /// Zero states for `batch` sequences through `cells` (in the order of their states).
    public init(for cells: [any RecurrentCell], batch: Int) throws {
        variables = try cells.flatMap { cell in
            try (0..<cell.stateCount).map { index in
                try shared(NDArray(zeros: [batch, cell.hiddenSize], dtype: cell.weights[0].dtype), name: "carried_\(index)")
            }
        }
    }

    /// The updates that carry `finalStates` (in the same order) to the next chunk.
    public func updates(_ finalStates: [Variable]) -> [SharedVariable: Variable] {
        Dictionary(uniqueKeysWithValues: zip(variables, finalStates))
    }

    /// Starts over from zero states (a new sequence).
    public func reset() throws {
        for variable in variables { try variable.setValue(NDArray(zeros: variable.value.shape, dtype: variable.dtype)) }
    }
}
