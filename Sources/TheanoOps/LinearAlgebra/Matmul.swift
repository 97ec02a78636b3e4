import TheanoCore

/// The matrix product of NumPy's `matmul` (Python's `@`): matrices multiply; stacks of
/// matrices (more than 2 dimensions, the same batch dimensions in both) multiply pair by
/// pair; a matrix multiplies every matrix of a stack; a vector operand is a row (on the left)
/// or a column (on the right), its axis removed from the result. Batch dimensions do not
/// broadcast against each other except where one operand is a single matrix.
public func matmul(_ a: Variable, _ b: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    guard a.ndim >= 1, b.ndim >= 1 else {
        throw TheanoError.invalidArgument(function: "matmul", reason: "operands must have at least one dimension", location: location)
    }
    return try SourceLocation.attributing(to: location) {
        if a.ndim == 1 || b.ndim == 1 || a.ndim == 2 && b.ndim == 2 || b.ndim == 2 { return try dot(a, b, fileID: fileID, line: line) }
        if a.ndim == 2 { return try dot(b.matrixTranspose, a.T, fileID: fileID, line: line).matrixTranspose }
        guard a.ndim == b.ndim else {
            throw TheanoError.typeMismatch(op: "matmul", inputs: [a.type, b.type],
                                           reason: "stacks of matrices need the same batch dimensions", location: location)
        }
        for axis in 0..<(a.ndim - 2) {
            if let x = a.staticShape[axis], let y = b.staticShape[axis], x != y {
                throw TheanoError.typeMismatch(op: "matmul", inputs: [a.type, b.type],
                                               reason: "batch dimension \(axis) differs (\(x) and \(y))", location: location)
            }
        }
        if a.ndim == 3 { return try batchedDot(a, b, fileID: fileID, line: line) }
        let sizesA = try a.dimensionSizes(), sizesB = try b.dimensionSizes()
        let batch = Array(sizesA.dropLast(2))
        let one = Constant(NDArray(scalar: Int64(1)), location: location)
        let flat = try sizeProduct([one] + batch, at: location)
        let product = try batchedDot(reshape(a, sizes: [flat] + sizesA.suffix(2), at: location),
                                     reshape(b, sizes: [flat] + sizesB.suffix(2), at: location), fileID: fileID, line: line)
        return try reshape(product, sizes: batch + [sizesA[a.ndim - 2], sizesB[b.ndim - 1]], at: location)
    }
}
