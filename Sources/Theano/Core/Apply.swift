/// One application of an ``Op`` to input variables, producing output variables.
///
/// Outputs hold their `Apply` strongly (through `owner`); the `Apply` refers back to them
/// weakly so that graphs are freed when the user drops them. An output nobody holds any more
/// is recreated on demand, indistinguishable from the lost one.
public final class Apply {
    public let op: any Op
    public internal(set) var inputs: [Variable]
    /// The static types of the outputs, as the op inferred them.
    public let outputTypes: [TensorType]
    /// Where the user built this node.
    public let location: SourceLocation
    private var outputReferences: [WeakVariable]

    init(op: any Op, inputs: [Variable], outputTypes: [TensorType], location: SourceLocation) {
        self.op = op
        self.inputs = inputs
        self.outputTypes = outputTypes
        self.location = location
        outputReferences = Array(repeating: WeakVariable(), count: outputTypes.count)
    }

    /// Output `index`, recreated if it was released.
    public func output(_ index: Int) -> Variable {
        if let existing = outputReferences[index].variable { return existing }
        let variable = Variable(type: outputTypes[index], owner: self, outputIndex: index, location: location)
        outputReferences[index].variable = variable
        return variable
    }

    public var outputs: [Variable] { outputTypes.indices.map(output) }
}

private struct WeakVariable {
    weak var variable: Variable?
}
