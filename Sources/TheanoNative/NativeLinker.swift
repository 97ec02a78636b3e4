import Foundation
import TheanoCore
import TheanoOps

/// The native backend: each node gets its native form (`Lowering`) — fused elementwise
/// loops and kernels over axes become one C module, compiled with the system's C compiler,
/// cached on disk by content, and loaded with `dlopen`; matrix products (`dot`, `gemm`,
/// `gemv`, `ger`) of few result columns run on C kernels compiled into the module
/// (``SkinnyGemm``), the others call BLAS, or a blocked C fallback compiled into the module
/// when no BLAS library is installed; loops link their steps with this linker; every other
/// node runs its reference implementation.
///
/// Without a working C compiler, or when compiling fails, it warns once and runs those
/// nodes with the reference implementations: slower, never wrong, never a crash.
public struct NativeLinker: Linker {
    /// Where compiled modules are kept.
    public var cache: ModuleCache
    /// Compile with fast-math flags (reassociation, reciprocals, finite math only — not
    /// `-ffast-math` itself, which would turn on flush-to-zero for the whole process; see
    /// ``CCompiler/flags(fastMath:)``): faster reductions and transcendental loops, without
    /// IEEE semantics for NaN, infinities and signed zeros.
    public var fastMath: Bool
    /// The compilers to try, first that works wins (`nil`: `$CC`, `cc`, `gcc`, `clang`).
    public var compilerCandidates: [String]?

    /// Whether to call a BLAS library for matrix products when one is installed (`false`:
    /// always the compiled fallback).
    public var usesBLAS: Bool
    /// How long one run of the C compiler may take: a compiler still running then is
    /// stopped, and the function runs its reference implementations, with a warning.
    public var compileTimeout: Duration
    /// Whether each large matrix product runs on the BLAS thread count that has lately taken
    /// less time for it (``ProductThreading``), which keeps products fast when other work holds
    /// a core. Off by default, because it makes results depend on timing: OpenBLAS sums in a
    /// different order on one thread than on several, so the last bits of a product change
    /// with the count, and training with the same seed takes a different path. Off, products
    /// of 4·10⁶ operations or more use every core and smaller ones one thread, every call, and
    /// the same inputs give the same bits.
    public var adaptiveThreading: Bool

    /// A native linker keeping modules in `cache`, with the given compilers, fast math, BLAS
    /// use, compile time limit and thread policy.
    public init(cache: ModuleCache = ModuleCache(), fastMath: Bool = false, compilerCandidates: [String]? = nil, usesBLAS: Bool = true,
                compileTimeout: Duration = .seconds(120), adaptiveThreading: Bool = false) {
        self.cache = cache
        self.fastMath = fastMath
        self.compilerCandidates = compilerCandidates
        self.usesBLAS = usesBLAS
        self.compileTimeout = compileTimeout
        self.adaptiveThreading = adaptiveThreading
    }

    public func link(_ graph: FunctionGraph, updates: [SharedVariable], overwritableInputs: Set<Int>,
                     innerGraphs: InnerGraphCompiler) throws -> LinkedGraph {
        try link(graph, updates: updates, overwritableInputs: overwritableInputs, innerGraphs: innerGraphs, compiling: true)
    }

    /// Links `graph`; with `compiling` false, compiles nothing: a module not in the cache
    /// leaves its nodes to the reference implementations, and the result is provisional.
    package func link(_ graph: FunctionGraph, updates: [SharedVariable], overwritableInputs: Set<Int>,
                      innerGraphs: InnerGraphCompiler, compiling: Bool) throws -> LinkedGraph {
        let codegenStart = ContinuousClock.now
        let lowered = LoweredGraph(graph, updates: updates, overwritableInputs: overwritableInputs)
        // Loaded only for graphs with products: OpenBLAS starts threads that spin for a while.
        let blas = usesBLAS && lowered.hasProducts ? BLAS.shared : nil
        // The runners that need no module: loops (their steps linked by this linker) and BLAS products.
        var moduleFree: [ObjectIdentifier: any NodeRunner] = [:]
        let threading = ProductThreading(cores: cores, adaptive: adaptiveThreading)
        for node in lowered.nodes {
            let id = ObjectIdentifier(node)
            switch lowered.lowerings[id] {
            case .selfLinking(let op): moduleFree[id] = try op.runner(for: node, compiledBy: innerGraphs)
            case .matrixProduct: if let blas { moduleFree[id] = MatrixProductRunner(node: node, routines: GemmRoutines(blas: blas), threading: threading) }
            case .elementwise, .axisKernel, .fillKernel, nil: break
            }
        }
        func linkedGraph(_ runners: [ObjectIdentifier: any NodeRunner], plan: InplacePlan, warning: String?) -> LinkedGraph {
            var linked = LinkedGraph(executor: Interpreter(graph, plan: plan) { runners[ObjectIdentifier($0)] ?? ReferenceRunner(node: $0) })
            linked.compiledNodes = runners.count
            linked.inplaceNodes = plan.overwrites.keys.filter { runners[$0] is any OverwritingRunner }.count
            linked.warnings = warning.map { [$0] } ?? []
            return linked
        }
        /// Without the module: only the runners that need none, and a plan that counts on no other.
        func fallback(_ message: String?) -> LinkedGraph {
            if let message { Diagnostics.warnOnce(message) }
            return linkedGraph(moduleFree, plan: lowered.plan { moduleFree[$0] != nil }, warning: message)
        }

        var sources = lowered.kernelSources
        sources += lowered.productDTypes.flatMap(SkinnyGemm.sources(for:))
        if blas == nil && lowered.hasProducts { sources.append(CFallbackGemm.source) }
        guard !sources.isEmpty else { return fallback(nil) }

        guard let compiler = CCompiler.discover(candidates: compilerCandidates, timeout: compileTimeout) else {
            return fallback("no C compiler found (tried \((compilerCandidates ?? ["$CC", "cc", "gcc", "clang"]).joined(separator: ", "))); "
                            + "running the reference implementations instead, which is slower")
        }
        let source = ModuleSource(prelude: CPrelude.text(vectorizeMath: compiler.isGCC, kernels: sources), kernels: sources)
        let codegenSeconds = seconds(since: codegenStart)
        let compileStart = ContinuousClock.now
        /// The runners of the nodes compiled into `library`; throws when it lacks a kernel they need.
        func compiledRunners(_ library: DynamicLibrary) throws -> [ObjectIdentifier: any NodeRunner] {
            var compiled: [ObjectIdentifier: any NodeRunner] = [:]
            let blasRoutines = try blas.map { try GemmRoutines(blas: $0).withSkinnyKernels(in: library, dtypes: lowered.productDTypes) }
            for node in lowered.nodes {
                let id = ObjectIdentifier(node)
                switch lowered.lowerings[id] {
                case .elementwise(let kernel):
                    compiled[id] = try ElementwiseKernelRunner(node: node, kernel: kernel, library: library)
                case .axisKernel(let op, let axes, let name):
                    compiled[id] = try AxisKernelRunner(node: node, op: op, axes: axes, library: library, name: name)
                case .fillKernel(let op, let name):
                    compiled[id] = try FillKernelRunner(node: node, op: op, library: library, name: name)
                case .matrixProduct:
                    guard let routines = try blasRoutines ?? GemmRoutines(fallbackIn: library)?.withSkinnyKernels(in: library, dtypes: lowered.productDTypes) else {
                        throw TheanoError.toolFailed(tool: "dlsym", reason: "the matrix product routines are missing from \(library.path)")
                    }
                    compiled[id] = MatrixProductRunner(node: node, routines: routines, threading: threading)
                case .selfLinking, nil: break
                }
            }
            return compiled
        }
        let module: ModuleCache.Loaded<[ObjectIdentifier: any NodeRunner]>
        do {
            let flags = compiler.flags(fastMath: fastMath)
            if compiling {
                module = try cache.module(source: source, compiler: compiler, flags: flags, timeout: compileTimeout, accept: compiledRunners)
            } else if let cached = try cache.cachedModule(source: source, compiler: compiler, flags: flags, accept: compiledRunners) {
                module = cached
            } else {
                var provisional = fallback(nil)
                provisional.isProvisional = true
                return provisional
            }
        } catch {
            return fallback("\(error)\nrunning the reference implementations instead")
        }
        let compileSeconds = seconds(since: compileStart)
        let loadStart = ContinuousClock.now
        var linked = linkedGraph(moduleFree.merging(module.contents) { _, compiled in compiled }, plan: lowered.plan, warning: module.warning)
        linked.cacheHit = module.cached
        linked.codegenSeconds = codegenSeconds
        linked.compileSeconds = module.cached ? 0 : compileSeconds
        linked.loadSeconds = seconds(since: loadStart) + (module.cached ? compileSeconds : 0)
        return linked
    }
}
