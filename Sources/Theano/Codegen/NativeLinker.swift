import Foundation

/// The native backend: nodes with a C form (fused elementwise loops) become one C module —
/// compiled with the system's C compiler, cached on disk by content, and loaded with
/// `dlopen`; matrix products (`dot`, `gemm`, `gemv`, `ger`) call BLAS, or a blocked C
/// fallback compiled into the module when no BLAS library is installed; every other node
/// runs its reference implementation.
///
/// Without a working C compiler, or when compiling fails, it warns once and runs those
/// nodes with the reference implementations: slower, never wrong, never a crash.
public struct NativeLinker: Linker {
    /// Where compiled modules are kept.
    public var cache: ModuleCache
    /// Compile with `-ffast-math` (faster transcendental loops; NaN and denormal semantics
    /// are then not guaranteed).
    public var fastMath: Bool
    /// The compilers to try, first that works wins (`nil`: `$CC`, `cc`, `gcc`, `clang`).
    public var compilerCandidates: [String]?

    /// Whether to call a BLAS library for matrix products when one is installed (`false`:
    /// always the compiled fallback).
    public var usesBLAS: Bool

    public init(cache: ModuleCache = ModuleCache(), fastMath: Bool = false, compilerCandidates: [String]? = nil, usesBLAS: Bool = true) {
        self.cache = cache
        self.fastMath = fastMath
        self.compilerCandidates = compilerCandidates
        self.usesBLAS = usesBLAS
    }

    public func link(_ graph: FunctionGraph) throws -> LinkedProgram {
        let codegenStart = ContinuousClock.now
        let nodes = graph.nodes
        var kernels: [ObjectIdentifier: ElementwiseKernel] = [:]
        var sources: [String] = []
        var opKernels: [ObjectIdentifier: (op: any CKernelOp, name: String)] = [:]
        for (index, node) in nodes.enumerated() {
            let name = "kernel_\(index)"
            if let op = node.op as? any CKernelOp, let source = op.cKernel(name: name, node: node) {
                opKernels[ObjectIdentifier(node)] = (op, name)
                sources.append(source)
            } else if let kernel = ElementwiseKernel(name: name, node: node), let source = kernel.source {
                kernels[ObjectIdentifier(node)] = kernel
                sources.append(source)
            }
        }
        let blas = usesBLAS ? BLAS.shared : nil
        let products = nodes.filter(MatrixProductRunner.handles)
        if blas == nil && !products.isEmpty { sources.append(CFallbackGemm.source) }
        var runners: [ObjectIdentifier: any NodeRunner] = [:]
        if let blas {
            for node in products { runners[ObjectIdentifier(node)] = MatrixProductRunner(node: node, routines: GemmRoutines(blas: blas)) }
        }
        let reference = {
            var program = LinkedProgram(executor: Interpreter(graph) { runners[ObjectIdentifier($0)] ?? ReferenceRunner(node: $0) })
            program.compiledNodes = runners.count
            return program
        }
        guard !sources.isEmpty else { return reference() }

        guard let compiler = CCompiler.discover(candidates: compilerCandidates) else {
            let message = "no C compiler found (tried \((compilerCandidates ?? ["$CC", "cc", "gcc", "clang"]).joined(separator: ", "))); "
                + "running the reference implementations instead, which is slower"
            Diagnostics.warnOnce(message)
            var program = reference()
            program.warnings = [message]
            return program
        }
        let source = CPrelude.text(vectorizeMath: compiler.isGCC) + "\n\n" + sources.joined(separator: "\n\n") + "\n"
        let codegenSeconds = seconds(since: codegenStart)
        let compileStart = ContinuousClock.now
        let module: (library: DynamicLibrary, cached: Bool)
        do {
            module = try cache.module(source: source, compiler: compiler, flags: compiler.flags(fastMath: fastMath))
        } catch {
            let message = "\(error)\nrunning the reference implementations instead"
            Diagnostics.warnOnce(message)
            var program = reference()
            program.warnings = [message]
            return program
        }
        let compileSeconds = seconds(since: compileStart)
        let loadStart = ContinuousClock.now
        for node in nodes {
            let key = ObjectIdentifier(node)
            if let kernel = kernels[key] {
                runners[key] = try ElementwiseKernelRunner(node: node, kernel: kernel, library: module.library)
            } else if let (op, name) = opKernels[key] {
                runners[key] = CKernelRunner(node: node, op: op, library: module.library, name: name)
            }
        }
        if blas == nil, let fallback = GemmRoutines(fallbackIn: module.library) {
            for node in products { runners[ObjectIdentifier(node)] = MatrixProductRunner(node: node, routines: fallback) }
        }
        var program = LinkedProgram(executor: Interpreter(graph) { runners[ObjectIdentifier($0)] ?? ReferenceRunner(node: $0) })
        program.compiledNodes = runners.count
        program.cacheHit = module.cached
        program.codegenSeconds = codegenSeconds
        program.compileSeconds = module.cached ? 0 : compileSeconds
        program.loadSeconds = seconds(since: loadStart) + (module.cached ? compileSeconds : 0)
        return program
    }
}

/// Runs a node through its compiled elementwise kernel.
struct ElementwiseKernelRunner: NodeRunner {
    typealias Flat = @convention(c) (Int64, Int64, UnsafePointer<UnsafeRawPointer?>, UnsafeMutableRawPointer) -> Void
    typealias Strided = @convention(c) (Int32, UnsafePointer<Int64>, UnsafePointer<Int64>, Int64, Int64,
                                        UnsafePointer<UnsafeRawPointer?>, UnsafeMutableRawPointer) -> Void

    let node: Apply
    let kernel: ElementwiseKernel
    /// Kept so the module stays loaded while the runner exists.
    let library: DynamicLibrary
    let flat: Flat
    let strided: Strided
    let outputDType: DType
    let inputTypes: [TensorType]
    let recycler = OutputRecycler()

    init(node: Apply, kernel: ElementwiseKernel, library: DynamicLibrary) throws {
        guard let flat = library.symbol(kernel.name + "_flat"), let strided = library.symbol(kernel.name + "_strided") else {
            throw TheanoError.toolFailed(tool: "dlsym", reason: "\(kernel.name) is missing from \(library.path)")
        }
        self.node = node
        self.kernel = kernel
        self.library = library
        self.flat = unsafeBitCast(flat, to: Flat.self)
        self.strided = unsafeBitCast(strided, to: Strided.self)
        outputDType = node.outputTypes[0].dtype
        inputTypes = node.inputs.map(\.type)
    }

    func run(_ inputs: [NDArray]) throws -> [NDArray] {
        let shape = try broadcastShape(inputs.map(\.shape))
        try checkStaticBroadcasting(inputs, types: inputTypes, to: shape)
        let out = recycler.array(shape, dtype: outputDType)
        let count = out.count
        let pointers = inputs.map { UnsafeRawPointer($0.storage.data + $0.offset * $0.dtype.byteSize) }
        let isFlat = zip(inputs, kernel.scalarInputs).allSatisfy { input, scalar in scalar ? input.count == 1 : input.isFlat(as: shape) }
        let work = Swift.max(kernel.composite.steps.count, 1)
        pointers.map(Optional.some).withUnsafeBufferPointer { inputPointers in
            let base = inputPointers.baseAddress!, output = out.storage.data
            if isFlat {
                parallelFor(count, workPerItem: work) { begin, end in flat(Int64(begin), Int64(end), base, output) }
                return
            }
            let strides = inputs.flatMap { $0.broadcastStrides(to: shape).map(Int64.init) }
            let sizes = shape.map(Int64.init)
            let rows = shape.count > 0 ? count / Swift.max(shape.last!, 1) : 1
            guard count > 0 else { return }
            strides.withUnsafeBufferPointer { strides in
                sizes.withUnsafeBufferPointer { sizes in
                    parallelFor(rows, workPerItem: work * Swift.max(shape.last ?? 1, 1)) { begin, end in
                        strided(Int32(shape.count), sizes.baseAddress ?? UnsafePointer(bitPattern: 8)!, strides.baseAddress ?? UnsafePointer(bitPattern: 8)!,
                                Int64(begin), Int64(end), base, output)
                    }
                }
            }
        }
        return [out]
    }
}
