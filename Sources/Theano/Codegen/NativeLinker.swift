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
    /// How long one run of the C compiler may take: a compiler still running then is
    /// stopped, and the function runs its reference implementations, with a warning.
    public var compileTimeout: Duration

    public init(cache: ModuleCache = ModuleCache(), fastMath: Bool = false, compilerCandidates: [String]? = nil, usesBLAS: Bool = true,
                compileTimeout: Duration = .seconds(120)) {
        self.cache = cache
        self.fastMath = fastMath
        self.compilerCandidates = compilerCandidates
        self.usesBLAS = usesBLAS
        self.compileTimeout = compileTimeout
    }

    public func link(_ graph: FunctionGraph, updates: [SharedVariable], overwritableInputs: Set<Int>) throws -> LinkedProgram {
        let codegenStart = ContinuousClock.now
        let nodes = graph.nodes
        var names = KernelNames()
        var kernels: [ObjectIdentifier: ElementwiseKernel] = [:]
        var axisKernels: [ObjectIdentifier: (op: any CAxisKernelOp, axes: Range<Int>, name: String)] = [:]
        for node in nodes {
            if let op = node.op as? any CAxisKernelOp, let axes = op.kernelAxes(node),
               let name = names.name(of: { op.cAxisKernel(name: $0, node: node) }) {
                axisKernels[ObjectIdentifier(node)] = (op, axes, name)
            } else if let kernel = ElementwiseKernel(name: "", node: node), kernel.source(named: "") != nil {
                kernels[ObjectIdentifier(node)] = kernel
            }
        }
        let products = nodes.filter(MatrixProductRunner.handles)
        let productIDs = Set(products.map(ObjectIdentifier.init))
        let plan = InplacePlan(graph: graph, updates: updates, overwritableInputs: overwritableInputs, freshOutputs: {
            let id = ObjectIdentifier($0)
            return kernels[id] != nil || axisKernels[id] != nil || productIDs.contains(id)
        }, overwritable: { node in
            let id = ObjectIdentifier(node)
            return kernels[id]?.overwritablePositions ?? (productIDs.contains(id) ? MatrixProductRunner.overwritablePositions(node) : [])
        })
        for node in nodes where kernels[ObjectIdentifier(node)] != nil {
            let id = ObjectIdentifier(node)
            kernels[id]!.overwrites = plan.overwrites[id]
            let kernel = kernels[id]!
            kernels[id]!.name = names.name { kernel.source(named: $0) }!
        }
        var sources = names.sources
        // Loaded only for graphs with products: OpenBLAS starts threads that spin for a while.
        let blas = usesBLAS && !products.isEmpty ? BLAS.shared : nil
        if blas == nil && !products.isEmpty { sources.append(CFallbackGemm.source) }
        var runners: [ObjectIdentifier: any NodeRunner] = [:]
        // Loops run their step compiled by this linker too.
        for node in nodes {
            if let op = node.op as? any SelfLinkingOp { runners[ObjectIdentifier(node)] = try op.runner(for: node, linkedBy: self) }
        }
        if let blas {
            for node in products { runners[ObjectIdentifier(node)] = MatrixProductRunner(node: node, routines: GemmRoutines(blas: blas)) }
        }
        func program(plan: InplacePlan) -> LinkedProgram {
            var program = LinkedProgram(executor: Interpreter(graph, plan: plan) { runners[ObjectIdentifier($0)] ?? ReferenceRunner(node: $0) })
            program.compiledNodes = runners.count
            program.inplaceNodes = plan.overwrites.keys.filter { runners[$0] is any OverwritingRunner }.count
            return program
        }
        // Without compiled kernels only the BLAS runners overwrite; the plan must not count on the others.
        func fallback(_ message: String?) -> LinkedProgram {
            if let message { Diagnostics.warnOnce(message) }
            let referencePlan = InplacePlan(graph: graph, updates: updates, overwritableInputs: overwritableInputs,
                                            freshOutputs: { productIDs.contains(ObjectIdentifier($0)) && blas != nil },
                                            overwritable: { blas == nil ? [] : MatrixProductRunner.overwritablePositions($0) })
            var fallback = program(plan: referencePlan)
            fallback.warnings = message.map { [$0] } ?? []
            return fallback
        }
        guard !sources.isEmpty else { return fallback(nil) }

        guard let compiler = CCompiler.discover(candidates: compilerCandidates, timeout: compileTimeout) else {
            return fallback("no C compiler found (tried \((compilerCandidates ?? ["$CC", "cc", "gcc", "clang"]).joined(separator: ", "))); "
                            + "running the reference implementations instead, which is slower")
        }
        let source = ModuleSource(prelude: CPrelude.text(vectorizeMath: compiler.isGCC), kernels: sources)
        let codegenSeconds = seconds(since: codegenStart)
        let compileStart = ContinuousClock.now
        /// The runners of the compiled nodes; throws when `library` lacks a kernel they need.
        func compiledRunners(_ library: DynamicLibrary) throws -> [ObjectIdentifier: any NodeRunner] {
            var compiled: [ObjectIdentifier: any NodeRunner] = [:]
            for node in nodes {
                let id = ObjectIdentifier(node)
                if let kernel = kernels[id] {
                    compiled[id] = try ElementwiseKernelRunner(node: node, kernel: kernel, library: library)
                } else if let (op, axes, name) = axisKernels[id] {
                    compiled[id] = try AxisKernelRunner(node: node, op: op, axes: axes, library: library, name: name)
                }
            }
            if blas == nil && !products.isEmpty {
                guard let fallback = GemmRoutines(fallbackIn: library) else {
                    throw TheanoError.toolFailed(tool: "dlsym", reason: "the matrix product routines are missing from \(library.path)")
                }
                for node in products { compiled[ObjectIdentifier(node)] = MatrixProductRunner(node: node, routines: fallback) }
            }
            return compiled
        }
        let module: ModuleCache.Loaded<[ObjectIdentifier: any NodeRunner]>
        do {
            module = try cache.module(source: source, compiler: compiler, flags: compiler.flags(fastMath: fastMath),
                                      timeout: compileTimeout, accept: compiledRunners)
        } catch {
            return fallback("\(error)\nrunning the reference implementations instead")
        }
        let compileSeconds = seconds(since: compileStart)
        let loadStart = ContinuousClock.now
        runners.merge(module.contents) { _, compiled in compiled }
        var linked = program(plan: plan)
        linked.warnings = module.warning.map { [$0] } ?? []
        linked.cacheHit = module.cached
        linked.codegenSeconds = codegenSeconds
        linked.compileSeconds = module.cached ? 0 : compileSeconds
        linked.loadSeconds = seconds(since: loadStart) + (module.cached ? compileSeconds : 0)
        return linked
    }
}

/// The names of a module's kernels: kernels whose C text is the same get one name, so a
/// module holds each distinct kernel once (a chain of ten thousand identical steps compiles
/// one loop, not ten thousand).
private struct KernelNames {
    /// Stands for the name while the text of a kernel is compared.
    private static let placeholder = "theano_kernel_placeholder"
    private var names: [String: String] = [:]
    /// The source of each distinct kernel, under its name.
    private(set) var sources: [String] = []

    /// The name of the kernel that `source` writes (given a name), new if its text is;
    /// `nil` when `source` writes none.
    mutating func name(of source: (String) -> String?) -> String? {
        guard let text = source(Self.placeholder) else { return nil }
        if let name = names[text] { return name }
        let name = "kernel_\(names.count)"
        names[text] = name
        sources.append(text.replacingOccurrences(of: Self.placeholder, with: name))
        return name
    }
}
