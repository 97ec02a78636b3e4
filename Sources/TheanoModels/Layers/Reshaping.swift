import Theano

/// Every dimension after the batch's flattened into one: `[n, c, h, w]` becomes `[n, c·h·w]`.
public struct Flatten: Layer {
    public init() {}

    public var parameters: [SharedVariable] { [] }

    public func outputShape(_ input: [Int?]) throws -> [Int?] {
        guard !input.isEmpty else { throw misfit(input, "has no batch dimension to keep") }
        let rest = input.dropFirst().reduce(Int?.some(1)) { product, size in product.flatMap { p in size.map { p * $0 } } }
        return [input[0], rest]
    }

    public func callAsFunction(_ x: Variable, training: Bool, updates: inout [SharedVariable: Variable]) throws -> Variable { try flatten(x, ndim: 2) }
}

/// A learned vector per symbol: `int64` indices of any shape become their rows of a table
/// (`[n, t]` indices give `[n, t, dimension]`).
public struct Embedding: Layer {
    /// The table, symbols × dimension.
    public let table: SharedVariable

    /// A table of `symbols` rows of `dimension`, initialized by `initializer`.
    public init(symbols: Int, dimension: Int, initializer: Initializer = .glorotUniform, name: String, random: inout RandomState) throws {
        table = try shared(initializer.array([symbols, dimension], random: &random), name: "E_\(name)")
    }

    public var parameters: [SharedVariable] { [table] }
    public func outputShape(_ input: [Int?]) throws -> [Int?] { input + [table.value.shape[1]] }

    public func callAsFunction(_ x: Variable, training: Bool, updates: inout [SharedVariable: Variable]) throws -> Variable {
        guard !x.dtype.isFloat, x.dtype != .bool else {
            throw TheanoError.invalidArgument(function: "Embedding", reason: "needs integer indices, not \(x.type)", location: .resolve(fileID: #fileID, line: #line))
        }
        return try table[x]
    }
}
