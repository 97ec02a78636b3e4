import TheanoCore

/// Integer labels unchanged, after checking when the function runs that each lies in
/// `0 ..< classes`: what keeps ``oneHot(_:classes:dtype:fileID:line:)`` from turning a bad
/// label into a silent row of zeros.
public struct CheckLabels: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    /// The number of classes a label may name.
    public let classes: Int

    package init(classes: Int) {
        self.classes = classes
    }
    public var description: String { "check_labels{\(classes)}" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs[0].dtype.isInteger else { throw OpError("labels must be integers") }
        return [inputs[0]]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let labels = inputs[0].elements(as: Int64.self)
        if let position = labels.firstIndex(where: { $0 < 0 || $0 >= classes }) {
            throw OpError("label \(labels[position]) (element \(position) of the labels, in row-major order) is not one of "
                + "oneHot's \(classes) classes; labels must lie in 0..<\(classes)")
        }
        return [inputs[0]]
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] { [nil] }
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] { [nil] }
    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { inputShapes }
}

/// Rows of `classes` zeros with a one at each label's position: a tensor of `labels`' shape
/// followed by a dimension of `classes`. A label outside `0 ..< classes` (a negative one
/// included) is an error when the function runs.
public func oneHot(_ labels: Variable, classes: Int, dtype: DType = .defaultFloat,
                   fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    guard labels.dtype.isInteger else {
        throw TheanoError.typeMismatch(op: "oneHot", inputs: [labels.type], reason: "labels must be integers", location: location)
    }
    guard classes >= 0 else {
        throw TheanoError.invalidArgument(function: "oneHot", reason: "the number of classes must not be negative, not \(classes)", location: location)
    }
    return try SourceLocation.attributing(to: location) {
        let positions = try arange(0, classes)
        let checked = try CheckLabels(classes: classes)([labels], at: location)
        let column = try DimShuffle(pattern: (0..<labels.ndim).map(DimPattern.input) + [.newAxis])([checked], at: location)
        return try cast(eq(column, positions), to: dtype)
    }
}
