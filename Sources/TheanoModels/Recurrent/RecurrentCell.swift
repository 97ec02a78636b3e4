import Theano

/// One step of a recurrent layer (the step modules of Torch's `rnn` package, on `scan`): the
/// input's share of the step, computed for every step at once before the loop
/// (``project(_:)``), and the step itself from that share and the previous states.
///
/// A cell's parameters are variables: shared variables when the cell makes them (its
/// initializers), or any variables given to it (to reuse or tie weights, or to check
/// gradients with respect to them).
public protocol RecurrentCell {
    /// The units of the output (the first state).
    var hiddenSize: Int { get }
    /// How many state tensors the cell carries (1; an LSTM's memory cell makes 2). The first
    /// is the output.
    var stateCount: Int { get }
    /// The variables the cell computes with.
    var weights: [Variable] { get }
    /// The input's share of each step, over the last axis of `x` (`x · W_x + b`, every gate at
    /// once): any leading axes, so a whole `[steps, batch, features]` sequence in one product.
    func project(_ x: Variable) throws -> Variable
    /// The states after one step, from the step's projected input and the previous states
    /// (each `[batch, hidden]`).
    func step(_ projected: Variable, _ states: [Variable]) throws -> [Variable]
}

extension RecurrentCell {
    /// The weights training moves: the shared ones.
    public var parameters: [SharedVariable] { weights.compactMap { $0 as? SharedVariable } }

    /// The states after one step from the raw input `x` (`[batch, features]`).
    public func callAsFunction(_ x: Variable, states: [Variable]) throws -> [Variable] {
        try step(project(x), states)
    }

    /// Zero states for the batch of `x` (`[steps, batch, …]`), of the weights' dtype.
    public func zeroStates(like x: Variable, batchAxis: Int = 1) throws -> [Variable] {
        let start = try alloc(constant(0, dtype: weights[0].dtype), sizes: [x.shape[batchAxis], constant(NDArray(scalar: Int64(hiddenSize)))])
        return Array(repeating: start, count: stateCount)
    }
}

/// The gate `index` (of `count` packed along the last axis, each `hidden` wide) of `z`.
func gate(_ z: Variable, _ index: Int, of hidden: Int) throws -> Variable {
    try z[.all, (index * hidden)..<((index + 1) * hidden)]
}

/// A shared weight matrix of `shape` from `initializer` (fans per gate: `fans`), in `dtype`.
func recurrentWeight(_ shape: [Int], initializer: Initializer, fans: (in: Int, out: Int), name: String, dtype: DType,
                     random: inout RandomState) throws -> SharedVariable {
    try shared(initializer.array(shape, fans: fans, random: &random).cast(to: dtype), name: name)
}

/// A shared vector of `values`, in `dtype`.
func recurrentBias(_ values: [Double], name: String, dtype: DType) throws -> SharedVariable {
    try shared(NDArray(values, shape: [values.count]).cast(to: dtype), name: name)
}

/// The hidden size a cell's weights declare: `recurrent`'s static row count, which must be
/// known, with each weight's static shape (where known) as `expected` gives it for that size.
func hiddenSize(of cell: String, recurrent: Variable, expected: [(Variable, (Int) -> [Int])]) throws -> Int {
    func fail(_ reason: String) -> TheanoError {
        .invalidArgument(function: cell, reason: reason, location: .resolve(fileID: #fileID, line: #line))
    }
    guard recurrent.ndim == 2, let hidden = recurrent.type.shape[0] else {
        throw fail("the recurrent weights need a static [hidden, …] shape, not \(recurrent.type)")
    }
    for (weight, shape) in expected {
        let wanted = shape(hidden)
        guard weight.ndim == wanted.count, zip(weight.type.shape, wanted).allSatisfy({ $0 == nil || $0 == $1 || $1 < 0 }) else {
            throw fail("a weight of type \(weight.type) does not fit \(hidden) hidden units (expected \(wanted.map { $0 < 0 ? "?" : String($0) }))")
        }
    }
    return hidden
}
