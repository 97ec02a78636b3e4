/// Runs a compiled graph: given the values of the inputs and the shared variables, computes
/// the outputs. Executors are what a linker produces; the reference ``Interpreter`` runs each
/// op's Swift implementation, a native backend may run generated code.
public protocol Executor {
    /// Computes the graph's outputs from `inputs` (one per graph input) and the current
    /// values of `shared`.
    func run(inputs: [NDArray]) throws -> [NDArray]
}

/// Turns an optimized ``FunctionGraph`` into an ``Executor``.
public protocol Linker: Sendable {
    func link(_ graph: FunctionGraph) throws -> any Executor
}
