import ArgumentParser
import Foundation
import Theano

/// `theano info`: which C compiler, BLAS and kernel cache the native backend uses.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Show the C compiler, BLAS and cache in use.")

    func run() {
        if let compiler = CCompiler.discover() {
            print("C compiler: \(compiler)\(compiler.isGCC ? " (vector math through libmvec)" : "")")
        } else {
            print("C compiler: none found ($CC, cc, gcc, clang); kernels run the reference implementations")
        }
        if let blas = BLAS.shared {
            print("BLAS: \(blas.path)\(blas.configuration.map { " — \($0)" } ?? "")")
            for variable in ["OPENBLAS_CORETYPE", "OPENBLAS_THREAD_TIMEOUT"] {
                print("\(variable): \(ProcessInfo.processInfo.environment[variable] ?? "(not set)")")
            }
        } else {
            print("BLAS: none found (install libopenblas-dev); matrix products use the compiled C fallback")
        }
        let cache = ModuleCache()
        let entries = cache.entries()
        print("kernel cache: \(cache.directory) (\(entries.count) modules, \(entries.reduce(0) { $0 + $1.bytes }) bytes)")
        print("cores: \(ProcessInfo.processInfo.activeProcessorCount)")
    }
}
