import TheanoCore

/// `start, start + step, …` up to (not including) `stop`: NumPy's `arange`. Inputs: start,
/// stop and step as scalars of one dtype, which the result has.
public struct Arange: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp {
    /// The length, when the bounds are constants.
    public let staticLength: Int?

    package init(staticLength: Int?) {
        self.staticLength = staticLength
    }
    public var description: String { "arange" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs.allSatisfy({ $0.ndim == 0 && $0.dtype == inputs[0].dtype && $0.dtype != .bool }) else {
            throw OpError("start, stop and step must be numeric scalars of one dtype")
        }
        return [TensorType(inputs[0].dtype, shape: [staticLength])]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let (start, stop, step) = (inputs[0].scalar(as: Double.self), inputs[1].scalar(as: Double.self), inputs[2].scalar(as: Double.self))
        guard step != 0 else { throw OpError("step cannot be zero") }
        let length = ((stop - start) / step).rounded(.up)
        guard length.isFinite, length < Double(Int.max) else {
            throw OpError("arange from \(start) to \(stop) by \(step) has \(length) elements, more than an array can hold")
        }
        let count = Swift.max(0, Int(length))
        let out = try NDArray.allocate([count], dtype: .float64, zeroed: false)
        out.withUnsafeMutablePointer(to: Double.self) { values in
            for i in 0..<count { values[i] = start + Double(i) * step }
        }
        return [out.cast(to: inputs[0].dtype)]
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] { [nil, nil, nil] }
    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] { [nil] }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] {
        let (start, stop, step) = (node.inputs[0], node.inputs[1], node.inputs[2])
        // 0 ..< n counts n (a size is never negative).
        if start.constantScalar == 0, step.constantScalar == 1, stop.dtype == .int64 {
            return [[stop.owner?.op is ShapeAt ? stop : try maximum(stop, constant(0, dtype: .int64))]]
        }
        let count = try cast(ceil((stop - start) / step), to: .int64)
        return [[try maximum(count, constant(0, dtype: .int64))]]
    }
}

/// The integers `0 ..< stop` as an `int64` vector, for a symbolic `stop` (e.g. a batch size
/// from `shape`).
public func arange(_ stop: Variable, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    let zero = Constant(NDArray(scalar: 0, dtype: stop.dtype), location: location)
    let one = Constant(NDArray(scalar: 1, dtype: stop.dtype), location: location)
    let length = stop.constantScalar.map { Swift.max(0, Int($0.rounded(.up))) }
    return try Arange(staticLength: length)([zero, stop, one], at: location)
}

/// `start, start + step, …` below `stop`, with a static length.
public func arange(_ start: Int = 0, _ stop: Int, step: Int = 1, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    guard step != 0 else { throw TheanoError.invalidArgument(function: "arange", reason: "step cannot be zero", location: location) }
    let bounds = [start, stop, step].map { Constant(NDArray(scalar: Int64($0)), location: location) }
    // ⌈(stop - start) / step⌉ without overflowing: the distance can exceed Int.
    let distance = stop.subtractingReportingOverflow(start)
    let length = distance.overflow ? nil
        : Swift.max(0, distance.partialValue / step + (distance.partialValue % step != 0 && (distance.partialValue > 0) == (step > 0) ? 1 : 0))
    return try Arange(staticLength: length)(bounds, at: location)
}

/// A `rows × columns` matrix with ones on diagonal `k` (0: the main one) and zeros elsewhere.
public func eye(_ rows: Int, _ columns: Int? = nil, k: Int = 0, dtype: DType = .defaultFloat,
                fileID: String = #fileID, line: Int = #line) throws -> Variable {
    let location = SourceLocation.resolve(fileID: fileID, line: line)
    let columns = columns ?? rows
    var value: NDArray
    do {
        value = try NDArray.allocate([rows, columns], dtype: dtype, zeroed: true)
    } catch {
        throw TheanoError.invalidArgument(function: "eye", reason: "\(error)", location: location)
    }
    for r in 0..<rows where (0..<columns).contains(r + k) { value.setElement(1.0, at: [r, r + k]) }
    return Constant(value, location: location)
}
