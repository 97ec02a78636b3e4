/// Each element of `x` repeated `repeats` times along `axis` (NumPy's `repeat`; `nil`: of
/// the flattened tensor). Built from a broadcast and a reshape, so it differentiates.
public func `repeat`(_ x: Variable, _ repeats: Int, axis: Int? = nil, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    guard repeats >= 0 else {
        throw TheanoError.invalidArgument(function: "repeat", reason: "repeats must not be negative, not \(repeats)", location: location)
    }
    return try SourceLocation.attributing(to: location) {
        guard let axis else { return try `repeat`(reshape(x, [-1], at: location), repeats, axis: 0, fileID: fileID, line: line) }
        let position = try Axes([axis]).resolved(ndim: x.ndim, function: "repeat", location: location)[0]
        let sizes = try x.dimensionSizes()
        var pattern = (0..<x.ndim).map(DimPattern.input)
        pattern.insert(.newAxis, at: position + 1)
        var stretched = sizes
        let count = Constant(NDArray(scalar: Int64(repeats)), location: location)
        stretched.insert(count, at: position + 1)
        let broadcast = try alloc(DimShuffle(pattern: pattern)([x], at: location), sizes: stretched, at: location)
        var merged = sizes
        merged[position] = try sizeProduct([sizes[position], count], at: location)
        return try reshape(broadcast, sizes: merged, at: location)
    }
}

/// `x` repeated `reps[d]` times along each dimension `d` (NumPy's `tile`); `reps` may be
/// longer than `x`'s rank, adding leading dimensions.
public func tile(_ x: Variable, _ reps: [Int], fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    guard reps.allSatisfy({ $0 >= 0 }) else {
        throw TheanoError.invalidArgument(function: "tile", reason: "repetitions \(reps) must not be negative", location: location)
    }
    return try SourceLocation.attributing(to: location) {
        let rank = Swift.max(reps.count, x.ndim)
        let padded = x.ndim < rank ? try x.padded(toRank: rank, at: location) : x
        let counts = [Int](repeating: 1, count: rank - reps.count) + reps
        let sizes = try padded.dimensionSizes()
        // Interleave a new axis of each repetition count before every dimension.
        var pattern: [DimPattern] = []
        var stretched: [Variable] = [], merged: [Variable] = []
        for d in 0..<rank {
            let count = Constant(NDArray(scalar: Int64(counts[d])), location: location)
            pattern += [.newAxis, .input(d)]
            stretched += [count, sizes[d]]
            merged.append(try sizeProduct([count, sizes[d]], at: location))
        }
        let broadcast = try alloc(DimShuffle(pattern: pattern)([padded], at: location), sizes: stretched, at: location)
        return try reshape(broadcast, sizes: merged, at: location)
    }
}
