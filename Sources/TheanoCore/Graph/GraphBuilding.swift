extension Op {
    /// Applies the op to `inputs`, inferring the output types. An input type the op rejects
    /// becomes a ``TheanoError/typeMismatch(op:inputs:reason:location:)`` naming the op, the
    /// input types and `location`.
    package func apply(_ inputs: [Variable], at location: SourceLocation) throws -> Apply {
        let types = inputs.map(\.type)
        do {
            // Sparse matrices reach only the ops that declare they take them.
            if !(self is any SparseOp), let index = types.firstIndex(where: \.isSparse) {
                throw OpError("input \(index) is a \(types[index].format) sparse matrix, which it does not take: use toDense, or a sparse operation")
            }
            let outputs = try outputTypes(types)
            if !(self is any SparseOp), outputs.contains(where: \.isSparse) { throw OpError("it would make a sparse matrix, which it does not declare") }
            return Apply(op: self, inputs: inputs, outputTypes: outputs, location: location)
        } catch let error as OpError {
            throw TheanoError.typeMismatch(op: description, inputs: types, reason: error.description, location: location)
        }
    }

    /// The single output of the op applied to `inputs`.
    package func callAsFunction(_ inputs: Variable..., at location: SourceLocation) throws -> Variable {
        try apply(inputs, at: location).output(0)
    }
}

/// A free input variable of dtype `dtype` and static shape `shape`.
///
/// ```swift
/// let images = tensor("images", dtype: .float32, shape: [nil, 784])
/// ```
public func tensor(_ name: String? = nil, dtype: DType = .defaultFloat, shape: [Int?],
                   fileID: String = #fileID, line: Int = #line) -> Variable {
    Variable(type: TensorType(dtype, shape: shape), name: name, location: .resolve(fileID: fileID, line: line))
}

/// A free 0-d input.
public func scalar(_ name: String? = nil, dtype: DType = .defaultFloat, fileID: String = #fileID, line: Int = #line) -> Variable {
    tensor(name, dtype: dtype, shape: [], fileID: fileID, line: line)
}

/// A free 1-d input of `length` elements (`nil`: known at run time).
public func vector(_ name: String? = nil, dtype: DType = .defaultFloat, length: Int? = nil,
                   fileID: String = #fileID, line: Int = #line) -> Variable {
    tensor(name, dtype: dtype, shape: [length], fileID: fileID, line: line)
}

/// A free 2-d input.
public func matrix(_ name: String? = nil, dtype: DType = .defaultFloat, shape: (Int?, Int?) = (nil, nil),
                   fileID: String = #fileID, line: Int = #line) -> Variable {
    tensor(name, dtype: dtype, shape: [shape.0, shape.1], fileID: fileID, line: line)
}

/// A free 3-d input.
public func tensor3(_ name: String? = nil, dtype: DType = .defaultFloat, shape: (Int?, Int?, Int?) = (nil, nil, nil),
                    fileID: String = #fileID, line: Int = #line) -> Variable {
    tensor(name, dtype: dtype, shape: [shape.0, shape.1, shape.2], fileID: fileID, line: line)
}

/// A free 4-d input (e.g. a batch of images: batch, channels, rows, columns).
public func tensor4(_ name: String? = nil, dtype: DType = .defaultFloat,
                    shape: (Int?, Int?, Int?, Int?) = (nil, nil, nil, nil),
                    fileID: String = #fileID, line: Int = #line) -> Variable {
    tensor(name, dtype: dtype, shape: [shape.0, shape.1, shape.2, shape.3], fileID: fileID, line: line)
}

/// A constant holding `value`.
public func constant(_ value: NDArray, name: String? = nil, fileID: String = #fileID, line: Int = #line) -> Constant {
    Constant(value, name: name, location: .resolve(fileID: fileID, line: line))
}

/// A 0-d constant of `dtype`.
public func constant(_ value: Double, dtype: DType = .defaultFloat, fileID: String = #fileID, line: Int = #line) -> Constant {
    Constant(NDArray(scalar: value, dtype: dtype), location: .resolve(fileID: fileID, line: line))
}

/// A shared variable initialized to `value`: state that persists across calls of compiled
/// functions (weights, biases, optimizer state).
///
/// Its static shape is `value`'s shape with every dimension fixed, except where
/// `shape` says otherwise (`nil` lets a dimension change with ``SharedVariable/setValue(_:)``).
public func shared(_ value: NDArray, name: String? = nil, shape: [Int?]? = nil,
                   fileID: String = #fileID, line: Int = #line) throws -> SharedVariable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    let type = TensorType(value.dtype, shape: shape ?? value.shape.map { $0 }, format: value.format)
    guard type.accepts(shape: value.shape) else {
        throw TheanoError.invalidArgument(function: "shared", reason: "value of shape \(shapeText(value.shape)) does not fit static shape \(type)", location: location)
    }
    return SharedVariable(value, type: type, name: name, location: location)
}
