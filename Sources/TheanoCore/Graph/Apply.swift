/// One application of an ``Op`` to input variables, producing output variables.
///
/// Outputs hold their `Apply` strongly (through `owner`); the `Apply` refers back to them
/// weakly so that graphs are freed when the user drops them. An output nobody holds any more
/// is recreated on demand, indistinguishable from the lost one.
public final class Apply {
    /// The operation applied.
    public let op: any Op
    /// The variables the op is applied to, in order.
    public package(set) var inputs: [Variable]
    /// The static types of the outputs, as the op inferred them.
    public let outputTypes: [TensorType]
    /// Where the user built this node.
    public let location: SourceLocation
    private var outputReferences: [WeakVariable]

    package init(op: any Op, inputs: [Variable], outputTypes: [TensorType], location: SourceLocation) {
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

    /// Every output, in order (each recreated if it was released).
    public var outputs: [Variable] { outputTypes.indices.map(output) }

    /// Releases the nodes only this one held without recursing. A variable computed by a
    /// long chain (`c = c + v` a hundred thousand times) would otherwise release its
    /// ancestors through nested deinitializers, one stack frame per node, until the stack
    /// overflowed: here each node about to die hands its inputs' owners to one list instead.
    deinit {
        var dying: [Apply] = []
        Self.detachOwners(of: &inputs, into: &dying)
        while var node = dying.popLast() {
            // Still held elsewhere (another of its outputs): not this release's to take apart.
            guard isKnownUniquelyReferenced(&node) else { continue }
            Self.detachOwners(of: &node.inputs, into: &dying)
        }
    }

    /// Empties `inputs`, first moving the owner of each input only `inputs` holds to `dying`.
    private static func detachOwners(of inputs: inout [Variable], into dying: inout [Apply]) {
        for index in inputs.indices where isKnownUniquelyReferenced(&inputs[index]) {
            if let owner = inputs[index].owner {
                dying.append(owner)
                inputs[index].owner = nil
            }
        }
        inputs.removeAll()
    }
}

private struct WeakVariable {
    weak var variable: Variable?
}
