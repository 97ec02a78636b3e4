import TheanoCore

/// The cross-entropy between predicted distributions (rows of `probabilities`) and targets:
/// `-log(probabilities[i, labels[i]])` for integer labels, or `-sum(targets * log(probabilities))`
/// along the last axis for target distributions (e.g. one-hot rows).
public func categoricalCrossentropy(_ probabilities: Variable, _ targets: Variable,
                                    fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    return try SourceLocation.attributing(to: location) {
        if targets.dtype.isInteger && targets.ndim == probabilities.ndim - 1 && probabilities.ndim == 2 {
            let rows = try arange(probabilities.dimensionSizes()[0])
            return try -log(probabilities[rows, targets])
        }
        guard targets.ndim == probabilities.ndim else {
            throw TheanoError.typeMismatch(op: "categoricalCrossentropy", inputs: [probabilities.type, targets.type],
                                           reason: "targets must be integer labels (one per row) or distributions of the same shape", location: location)
        }
        return try -sum(targets * log(probabilities), axis: -1)
    }
}

/// The binary cross-entropy `-(t log p + (1 - t) log(1 - p))`, elementwise.
public func binaryCrossentropy(_ probabilities: Variable, _ targets: Variable,
                               fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try SourceLocation.attributing(to: .resolve(fileID: fileID, line: line)) {
        try -(targets * log(probabilities) + (1 - targets) * log(1 - probabilities))
    }
}
