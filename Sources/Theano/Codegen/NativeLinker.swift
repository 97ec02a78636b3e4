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
        var opKernels: [ObjectIdentifier: (op: any CKernelOp, name: String)] = [:]
        for node in nodes {
            if let op = node.op as? any CKernelOp, let name = names.name(of: { op.cKernel(name: $0, node: node) }) {
                opKernels[ObjectIdentifier(node)] = (op, name)
            } else if let kernel = ElementwiseKernel(name: "", node: node), kernel.source(named: "") != nil {
                kernels[ObjectIdentifier(node)] = kernel
            }
        }
        let products = nodes.filter(MatrixProductRunner.handles)
        let productIDs = Set(products.map(ObjectIdentifier.init))
        let plan = InplacePlan(graph: graph, updates: updates, overwritableInputs: overwritableInputs, freshOutputs: {
            let id = ObjectIdentifier($0)
            return kernels[id] != nil || opKernels[id] != nil || productIDs.contains(id)
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
            if let scan = node.op as? Scan {
                let loop = ScanLoop(body: scan.body, program: try scan.body.program(linkedBy: self))
                runners[ObjectIdentifier(node)] = LoopRunner(node: node, loop: loop.run)
            } else if let gradient = node.op as? ScanGradient {
                let program = try gradient.program(linkedBy: self)
                runners[ObjectIdentifier(node)] = LoopRunner(node: node) { try gradient.run($0, gradientProgram: program) }
            }
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
                } else if let (op, name) = opKernels[id] {
                    compiled[id] = try CKernelRunner(node: node, op: op, library: library, name: name)
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

/// Runs a loop node (``Scan``, ``ScanGradient``) whose step this linker compiled.
struct LoopRunner: NodeRunner {
    let node: Apply
    let loop: ([NDArray]) throws -> [NDArray]

    func run(_ inputs: [NDArray]) throws -> [NDArray] {
        try node.op.validate(inputs, node: node)
        return try loop(inputs)
    }
}

/// Runs a node through its compiled elementwise kernel.
struct ElementwiseKernelRunner: OverwritingRunner, TargetWritingRunner {
    typealias Flat = @convention(c) (Int64, Int64, UnsafePointer<UnsafeRawPointer?>, UnsafeMutableRawPointer) -> Void
    typealias Strided = @convention(c) (Int32, UnsafePointer<Int64>, UnsafePointer<Int64>, Int64, Int64,
                                        UnsafePointer<UnsafeRawPointer?>, UnsafeMutableRawPointer) -> Void

    let node: Apply
    let kernel: ElementwiseKernel
    /// Kept so the module stays loaded while the runner exists.
    let library: DynamicLibrary
    let entryPoints: (flat: Flat, strided: Strided)
    /// The entry points that read the overwritten input from the output, if planned.
    let inplaceEntryPoints: (flat: Flat, strided: Strided)?
    let outputDType: DType
    let inputTypes: [TensorType]
    let recycler = OutputRecycler()

    init(node: Apply, kernel: ElementwiseKernel, library: DynamicLibrary) throws {
        func entryPoints(_ suffix: String) throws -> (Flat, Strided) {
            (try library.function(kernel.name + "_flat" + suffix, as: Flat.self),
             try library.function(kernel.name + "_strided" + suffix, as: Strided.self))
        }
        self.node = node
        self.kernel = kernel
        self.library = library
        self.entryPoints = try entryPoints("")
        inplaceEntryPoints = kernel.overwrites == nil ? nil : try entryPoints("_inplace")
        outputDType = node.outputTypes[0].dtype
        inputTypes = node.inputs.map(\.type)
    }

    func run(_ inputs: [NDArray]) throws -> [NDArray] {
        let shape = try outputShape(inputs)
        let out = try recycler.array(shape, dtype: outputDType)
        launch(entryPoints, inputs: inputs, shape: shape, output: out)
        return [out]
    }

    func run(_ inputs: [NDArray], into target: NDArray) throws -> Bool {
        let shape = try outputShape(inputs)
        guard target.dtype == outputDType, target.isFlat(as: shape) else { return false }
        launch(entryPoints, inputs: inputs, shape: shape, output: target)
        return true
    }

    func overwriting(_ inputs: [NDArray], position: Int) throws -> Overwrite? {
        let shape = try outputShape(inputs)
        let target = inputs[position]
        guard position == kernel.overwrites, let inplaceEntryPoints, target.isFlat(as: shape) else { return nil }
        return Overwrite(results: [target]) {
            launch(inplaceEntryPoints, inputs: inputs, shape: shape, output: target)
        }
    }

    /// The broadcast shape of `inputs`, whose stretched dimensions must be the static ones
    /// (when they are not, the error names the fused step at fault).
    private func outputShape(_ inputs: [NDArray]) throws -> [Int] {
        do {
            let shape = try broadcastShape(inputs.lazy.map(\.shape))
            try checkStaticBroadcasting(inputs, types: inputTypes, to: shape)
            return shape
        } catch is OpError {
            try kernel.composite.checkShapes(inputs.map(\.shape), types: inputTypes)
            throw OpError("operands of shapes \(inputs.map { shapeText($0.shape) }.joined(separator: ", ")) do not broadcast together")
        }
    }

    /// Runs `flat` on each row (the last axis) of `shape`, each input's pointer (from `base`)
    /// moved to its row.
    private func launchByRows(_ flat: Flat, inputs: [NDArray], base: UnsafePointer<UnsafeRawPointer?>, strides: [[Int]], shape: [Int],
                              rows: Int, inner: Int, work: Int, output: UnsafeMutableRawPointer) {
        let outer = Array(shape.dropLast()), rowBytes = inner * outputDType.byteSize
        let elementBytes = inputs.map(\.dtype.byteSize)
        parallelFor(rows, workPerItem: work * inner) { begin, end in
            withUnsafeTemporaryAllocation(of: UnsafeRawPointer?.self, capacity: Swift.max(inputs.count, 1)) { pointers in
                for row in begin..<end {
                    for i in inputs.indices {
                        var rest = row, offset = 0
                        for d in outer.indices.reversed() {
                            offset += (rest % outer[d]) * strides[i][d]
                            rest /= outer[d]
                        }
                        pointers[i] = base[i]! + offset * elementBytes[i]
                    }
                    flat(0, Int64(inner), UnsafePointer(pointers.baseAddress!), output + row * rowBytes)
                }
            }
        }
    }

    /// Runs `entryPoints` over `shape` into the contiguous `output`, split across cores when
    /// the work is large.
    private func launch(_ entryPoints: (flat: Flat, strided: Strided), inputs: [NDArray], shape: [Int], output: NDArray) {
        output.withUnsafeMutableRawPointer { output in
            withUnsafeRawPointers(to: inputs) { base in launch(entryPoints, inputs: inputs, base: base, shape: shape, output: output) }
        }
    }

    private func launch(_ entryPoints: (flat: Flat, strided: Strided), inputs: [NDArray], base: UnsafePointer<UnsafeRawPointer?>,
                        shape: [Int], output: UnsafeMutableRawPointer) {
        let count = shape.reduce(1, *)
        let isFlat = zip(inputs, kernel.scalarInputs).allSatisfy { input, scalar in scalar ? input.count == 1 : input.isFlat(as: shape) }
        let work = Swift.max(kernel.composite.steps.count, 1)
        if isFlat {
            parallelFor(count, workPerItem: work) { begin, end in entryPoints.flat(Int64(begin), Int64(end), base, output) }
            return
        }
        guard count > 0 else { return }
        let inputStrides = inputs.map { $0.broadcastStrides(to: shape) }
        let rows = count / Swift.max(shape.last ?? 1, 1)
        if let inner = shape.last, inner >= 16,
           zip(inputStrides, kernel.scalarInputs).allSatisfy({ strides, scalar in scalar || strides.last == 1 }) {
            // Every row of every input is contiguous (a row broadcast over the others, a
            // slice of wider rows): the flat loop, which vectorizes, row by row.
            launchByRows(entryPoints.flat, inputs: inputs, base: base, strides: inputStrides, shape: shape, rows: rows, inner: inner,
                         work: work, output: output)
            return
        }
        let strides = inputStrides.flatMap { $0.map(Int64.init) }
        let sizes = shape.map(Int64.init)
        strides.withUnsafeBufferPointer { strides in
            sizes.withUnsafeBufferPointer { sizes in
                parallelFor(rows, workPerItem: work * Swift.max(shape.last ?? 1, 1)) { begin, end in
                    entryPoints.strided(Int32(shape.count), sizes.baseAddress ?? UnsafePointer(bitPattern: 8)!,
                                        strides.baseAddress ?? UnsafePointer(bitPattern: 8)!, Int64(begin), Int64(end), base, output)
                }
            }
        }
    }
}
