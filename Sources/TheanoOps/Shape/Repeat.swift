import TheanoCore

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

/// The positions `0 ..< length` of an axis, each repeated as often as its count says: the
/// gather NumPy's `repeat` performs with an array of counts. Inputs: the counts (an integer
/// vector with one count per position or a single count, or a 0-d count for every position)
/// and the length (an `int64` scalar). Checks when the function runs that the counts fit the
/// axis and none is negative.
public struct RepeatedPositions: DifferentiableOp, ForwardDifferentiableOp {
    package init() {}

    public var description: String { "repeated_positions" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (counts, length) = (inputs[0], inputs[1])
        guard counts.dtype.isInteger, counts.ndim <= 1, length.dtype == .int64, length.ndim == 0 else {
            throw OpError("expects integer counts (a vector or a scalar) and an int64 length")
        }
        return [TensorType(.int64, shape: [nil])]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let counts = inputs[0].elements(as: Int64.self), length = Int(inputs[1].scalar(as: Int64.self))
        guard inputs[0].ndim == 0 || counts.count == length || counts.count == 1 else {
            throw OpError("repeat: \(counts.count) counts for an axis of \(length) elements; give one count per element, or a single count")
        }
        if let negative = counts.firstIndex(where: { $0 < 0 }) {
            throw OpError("repeat: count \(counts[negative]) (element \(negative) of the counts) is negative")
        }
        let perPosition = counts.count == length ? counts : Array(repeating: counts.first ?? 0, count: length)
        let total = try perPosition.reduce(Int64(0)) { sum, count in
            let (next, overflow) = sum.addingReportingOverflow(count)
            guard !overflow else { throw OpError("repeat: the counts add up to more than \(Int64.max) elements") }
            return next
        }
        var positions: [Int64] = []
        positions.reserveCapacity(Int(total))
        for (position, count) in perPosition.enumerated() { positions += repeatElement(Int64(position), count: Int(count)) }
        return [NDArray(positions)]
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] { [nil, nil] }
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] { [nil] }
}

/// Each element of `x` along `axis` repeated as often as the matching element of `counts`
/// says (NumPy's `repeat` with an array of repeats; `axis: nil` repeats the elements of the
/// flattened tensor). `counts` is an integer vector with one count per element along the
/// axis, or a single count for all of them (a 0-d tensor too). A wrong number of counts or a
/// negative count is an error when the function runs. The gradient of each element of `x`
/// is the sum of the gradients of its copies.
public func `repeat`(_ x: Variable, counts: Variable, axis: Int? = nil, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    guard counts.dtype.isInteger, counts.ndim <= 1 else {
        throw TheanoError.typeMismatch(op: "repeat", inputs: [x.type, counts.type],
                                       reason: "counts must be integers: a vector with one count per element, or a scalar", location: location)
    }
    return try SourceLocation.attributing(to: location) {
        guard let axis else { return try `repeat`(reshape(x, [-1], at: location), counts: counts, axis: 0, fileID: fileID, line: line) }
        let position = try Axes([axis]).resolved(ndim: x.ndim, function: "repeat", location: location)[0]
        if counts.ndim == 1, let given = counts.staticShape[0], given != 1, let length = x.staticShape[position], given != length {
            throw TheanoError.typeMismatch(op: "repeat", inputs: [x.type, counts.type],
                                           reason: "\(given) counts for axis \(position) of \(length) elements", location: location)
        }
        let positions = try RepeatedPositions()([counts, x.dimensionSizes()[position]], at: location)
        // Gather along the axis: move it to the front, take the positions, move it back.
        let order = [position] + (0..<x.ndim).filter { $0 != position }
        let gathered = try AdvancedSubtensor(indexCount: 1)([x.transpose(order), positions], at: location)
        return try gathered.transpose(order.indices.map { order.firstIndex(of: $0)! })
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
