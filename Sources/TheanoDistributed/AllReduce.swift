import Theano
import TheanoCore

/// The elementwise reduction of each input over the processes of the job
/// (``Communicator/world()``), all inputs packed into one buffer and reduced by one
/// collective: a training step that reduces every gradient through one node moves them in
/// one `MPI_Allreduce` per call, not one per parameter.
///
/// Differentiable for sums and means: the gradient of a process's input is the same
/// reduction of every process's output gradient (the cost being the sum over processes of
/// each one's cost), as in Horovod.
public struct AllReduce: DifferentiableOp, ForwardDifferentiableOp, ShapeInferringOp, CommunicatingOp {
    /// How the processes' values combine.
    public let reduction: Communicator.Reduction

    public init(_ reduction: Communicator.Reduction) { self.reduction = reduction }

    public var description: String { "allreduce{\(reduction.rawValue)}" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard let dtype = inputs.first?.dtype else { throw OpError("needs at least one input") }
        guard [.float32, .float64, .int64].contains(dtype), inputs.allSatisfy({ $0.dtype == dtype }) else {
            throw OpError("reduces tensors of one dtype among float32, float64 and int64 (one buffer per collective); reduce the others in a second allreduce")
        }
        guard reduction != .mean || dtype.isFloat else { throw OpError("the mean of int64 values is not one; use .sum") }
        return inputs
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        do {
            return try Communicator.world().allreduce(inputs, reduction)
        } catch let error as DistributedError {
            throw OpError(error.description)
        }
    }

    public func pullback(_ node: Apply, outputGradients: [Variable?]) throws -> [Variable?] {
        guard reduction != .max else {
            throw TheanoError.invalidArgument(function: "grad", reason: "allreduce(.max) has no gradient; reduce with .sum or .mean", location: node.location)
        }
        let gradients = try zip(outputGradients, node.outputs).map { try $0 ?? zerosLike($1) }
        return try AllReduce(reduction).apply(gradients, at: node.location).outputs
    }

    public func pushforward(_ node: Apply, inputTangents: [Variable?]) throws -> [Variable?] {
        guard reduction != .max else {
            throw TheanoError.invalidArgument(function: "Rop", reason: "allreduce(.max) has no derivative; reduce with .sum or .mean", location: node.location)
        }
        let changing = inputTangents.indices.filter { inputTangents[$0] != nil }
        guard !changing.isEmpty else { return inputTangents.map { _ in nil } }
        let reduced = try AllReduce(reduction).apply(changing.map { inputTangents[$0]! }, at: node.location).outputs
        var tangents: [Variable?] = inputTangents.map { _ in nil }
        for (position, index) in changing.enumerated() { tangents[index] = reduced[position] }
        return tangents
    }

    public func inferShape(_ node: Apply, inputShapes: [[Variable]]) throws -> [[Variable]] { inputShapes }
}

/// Each of `values` reduced elementwise over the processes of the job, by one collective
/// per call of the compiled function (the values, all of one dtype, packed into one buffer).
///
/// ```swift
/// let gradients = try grad(localCost, wrt: parameters)
/// let averaged = try allreduce(gradients, .mean)   // one MPI_Allreduce per step
/// ```
public func allreduce(_ values: [Variable], _ reduction: Communicator.Reduction, fileID: String = #fileID, line: Int = #line) throws -> [Variable] {
    guard !values.isEmpty else { return [] }
    return try AllReduce(reduction).apply(values, at: .resolve(fileID: fileID, line: line)).outputs
}

/// `value` reduced elementwise over the processes of the job.
public func allreduce(_ value: Variable, _ reduction: Communicator.Reduction, fileID: String = #fileID, line: Int = #line) throws -> Variable {
    try allreduce([value], reduction, fileID: fileID, line: line)[0]
}
