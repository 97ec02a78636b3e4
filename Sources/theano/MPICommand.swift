import ArgumentParser
import Foundation
import Theano
import TheanoDistributed

/// `theano mpi`: checks the MPI setup. Run under `mpirun -np N`: every process runs each
/// collective (and a compiled function with `allreduce` and its gradient) on values known
/// from its rank, checks the results, and prints one JSON line with what it got.
struct MPICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mpi",
        abstract: "Check the MPI setup: run it as mpirun -np N theano mpi.",
        discussion: "Each process prints one JSON line: its rank, the job's size, its process id, the MPI library, the results of "
            + "barrier, broadcast, allreduce (sum, mean, max), allgather and of a compiled allreduce and its gradient, and ok."
    )

    func run() throws {
        let world = try Communicator.world()
        let (rank, size) = (world.rank, world.size)
        try world.barrier()
        let broadcast = try world.broadcast(rank == 0 ? NDArray([1.5, -2, 3] as [Float]) : NDArray(zeros: [3], dtype: .float32)).elements(as: Double.self)
        let lastRoot = try world.broadcast(NDArray([Int64(rank * 10)]), root: size - 1).elements(as: Int64.self)
        let sum = try world.allreduce(NDArray([Float(rank + 1), Float((rank + 1) * (rank + 1))]), .sum).elements(as: Double.self)
        let mean = try world.allreduce(NDArray([Double(rank)]), .mean).elements(as: Double.self)
        let max = try world.allreduce(NDArray([Int64(rank), Int64(-rank)]), .max).elements(as: Int64.self)
        let gathered = try world.allgather(NDArray([Int64(rank), Int64(rank * rank)]))

        // In a graph: the sums of x and 2x in one collective, and the gradient through it.
        let x = vector("x", dtype: .float64), w = vector("w", dtype: .float64)
        let reduced = try allreduce([x, 2 * x], .sum)
        let gradient = try grad(Theano.sum(reduced[0] * w), wrt: [x])[0]
        let f = try function(inputs: [x, w], outputs: reduced + [gradient], options: .native)
        let scale = Double(rank + 1)
        let results = try f(NDArray([1, 2, 3].map { $0 * scale }), NDArray([scale, scale, scale]))

        let triangle = Double(size * (size + 1) / 2)
        let ok = broadcast == [1.5, -2, 3] && lastRoot == [Int64((size - 1) * 10)]
            && sum == [triangle, Double(size * (size + 1) * (2 * size + 1) / 6)] && mean == [Double(size - 1) / 2]
            && max == [Int64(size - 1), 0] && gathered.shape == [size, 2]
            && gathered.elements(as: Int64.self) == (0..<size).flatMap { [Int64($0), Int64($0 * $0)] }
            && results[0].elements(as: Double.self) == [1, 2, 3].map { $0 * triangle }
            && results[1].elements(as: Double.self) == [2, 4, 6].map { $0 * triangle }
            && results[2].elements(as: Double.self) == [triangle, triangle, triangle]
        let line: [String: Any] = [
            "rank": rank, "size": size, "pid": Int(getpid()), "implementation": world.implementation,
            "broadcast": broadcast, "broadcast_last_root": lastRoot, "allreduce_sum": sum, "allreduce_mean": mean, "allreduce_max": max,
            "allgather": gathered.elements(as: Int64.self), "graph_sums": results[0].elements(as: Double.self) + results[1].elements(as: Double.self),
            "graph_gradient": results[2].elements(as: Double.self), "ok": ok,
        ]
        let json = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
        if !ok { throw ExitCode.failure }
    }
}
