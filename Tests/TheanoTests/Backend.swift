import Testing
@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoLoops
@testable import TheanoNative
@testable import TheanoOps
@testable import TheanoOptimizer

/// The two ways a compiled function runs: the reference interpreter and the native backend
/// (C kernels, in the native tests' scratch module cache).
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case reference, native

    var options: CompileOptions { self == .reference ? .default : CompileOptions(linker: Scratch.linker()) }
    var testDescription: String { rawValue }

    /// `outputs` compiled for this backend; the native one must have compiled its kernels
    /// rather than fallen back to the reference implementations.
    func compile(inputs: [Variable], outputs: [Variable], sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Function {
        let compiled = try function(inputs: inputs, outputs: outputs, options: options)
        #expect(compiled.linkWarnings.isEmpty, "\(compiled.linkWarnings)", sourceLocation: sourceLocation)
        return compiled
    }
}
