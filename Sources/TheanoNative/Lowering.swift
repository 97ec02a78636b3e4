import TheanoCore
import TheanoOps

/// What the native backend makes of one node: the one place where a node gets a native
/// form. A node with none runs its op's reference implementation.
///
/// A new kind of native kernel is a new case here and the op facet it reads (an op never
/// launches anything itself: ops give C text or a description, the backend runs it).
enum Lowering {
    /// A fused elementwise loop compiled into the module (``CElementwiseOp``, ``Composite``).
    case elementwise(ElementwiseKernelSource)
    /// A kernel over the inputs read as `[A, R, B]`, compiled into the module (``CAxisKernelOp``).
    case axisKernel(any CAxisKernelOp, axes: Range<Int>, name: String)
    /// A kernel filling a fresh output element by element, compiled into the module (``CFillKernelOp``).
    case fillKernel(any CFillKernelOp, name: String)
    /// A gemm call (``MatrixProductOp``): BLAS, or the fallback compiled into the module.
    case matrixProduct
    /// An op that runs an inner graph, linked by this linker too (``SelfLinkingOp``).
    case selfLinking(any SelfLinkingOp)

    /// The native form of `node`, if it has one; the kernels it needs are named in `names`
    /// (an elementwise kernel is named later, once the in-place plan says which variant it needs).
    package init?(_ node: Apply, names: inout KernelNames) {
        if let op = node.op as? any SelfLinkingOp {
            self = .selfLinking(op)
        } else if let op = node.op as? any CAxisKernelOp, let axes = op.kernelAxes(node),
                  let name = names.name(of: { op.cAxisKernel(name: $0, node: node) }) {
            self = .axisKernel(op, axes: axes, name: name)
        } else if let op = node.op as? any CFillKernelOp, let name = names.name(of: { op.cFillKernel(name: $0, node: node) }) {
            self = .fillKernel(op, name: name)
        } else if node.op is any MatrixProductOp, node.outputTypes[0].dtype.isFloat {
            self = .matrixProduct
        } else if let kernel = ElementwiseKernelSource(name: "", node: node), kernel.source(named: "") != nil {
            self = .elementwise(kernel)
        } else {
            return nil
        }
    }

    /// Whether the node's outputs are always in memory of their own (not views).
    var writesFreshOutputs: Bool {
        if case .selfLinking = self { false } else { true }
    }

    /// The inputs of `node` its runner can write the result over.
    func overwritablePositions(_ node: Apply) -> [Int] {
        switch self {
        case .elementwise(let kernel): kernel.overwritablePositions
        case .matrixProduct: (node.op as! any MatrixProductOp).accumulatedInput.map { [$0] } ?? []
        case .axisKernel, .fillKernel, .selfLinking: []
        }
    }
}

/// A graph as the native backend runs it: each node's ``Lowering``, the in-place plan that
/// counts on them, and the C text of the kernels the module needs (the elementwise ones
/// named once the plan has said which variant each needs: one that overwrites an input has
/// entry points of its own).
struct LoweredGraph {
    /// The graph's nodes, in order.
    let nodes: [Apply]
    /// The native form of each node that has one.
    let lowerings: [ObjectIdentifier: Lowering]
    /// Which nodes overwrite an input, when every lowered node runs natively.
    let plan: InplacePlan
    /// The distinct kernels, in the order of the graph (so the module's text, its cache key,
    /// is the same every time).
    let kernelSources: [String]
    /// The dtypes of the matrix products (BLAS, or the C fallback in the module), float32 first.
    let productDTypes: [DType]
    /// Whether some node is a matrix product.
    var hasProducts: Bool { !productDTypes.isEmpty }
    private let graph: FunctionGraph
    private let updates: [SharedVariable]
    private let overwritableInputs: Set<Int>

    init(_ graph: FunctionGraph, updates: [SharedVariable], overwritableInputs: Set<Int>) {
        (self.graph, self.updates, self.overwritableInputs) = (graph, updates, overwritableInputs)
        nodes = graph.nodes
        var names = KernelNames(), lowerings: [ObjectIdentifier: Lowering] = [:]
        for node in nodes {
            if let lowering = Lowering(node, names: &names) { lowerings[ObjectIdentifier(node)] = lowering }
        }
        let products = Set(nodes.filter { if case .matrixProduct = lowerings[ObjectIdentifier($0)] { true } else { false } }.map { $0.outputTypes[0].dtype })
        productDTypes = [DType.float32, .float64].filter(products.contains)
        plan = Self.plan(graph, updates: updates, overwritableInputs: overwritableInputs, lowerings: lowerings) { _ in true }
        for node in nodes {
            let id = ObjectIdentifier(node)
            guard case .elementwise(var kernel) = lowerings[id] else { continue }
            kernel.overwrites = plan.overwrites[id]
            kernel.name = names.name { [kernel] in kernel.source(named: $0) }!
            lowerings[id] = .elementwise(kernel)
        }
        self.lowerings = lowerings
        kernelSources = names.sources
    }

    /// The in-place plan when only the lowered nodes `runsNatively` accepts run natively
    /// (the others run their reference implementations, whose results may be views).
    func plan(_ runsNatively: (ObjectIdentifier) -> Bool) -> InplacePlan {
        Self.plan(graph, updates: updates, overwritableInputs: overwritableInputs, lowerings: lowerings, runsNatively)
    }

    private static func plan(_ graph: FunctionGraph, updates: [SharedVariable], overwritableInputs: Set<Int>,
                             lowerings: [ObjectIdentifier: Lowering], _ runsNatively: (ObjectIdentifier) -> Bool) -> InplacePlan {
        InplacePlan(graph: graph, updates: updates, overwritableInputs: overwritableInputs, freshOutputs: { node in
            let id = ObjectIdentifier(node)
            return runsNatively(id) && lowerings[id]?.writesFreshOutputs == true
        }, overwritable: { node in
            let id = ObjectIdentifier(node)
            return runsNatively(id) ? lowerings[id]?.overwritablePositions(node) ?? [] : []
        })
    }
}

/// The names of a module's kernels: kernels whose C text is the same get one name, so a
/// module holds each distinct kernel once (a chain of ten thousand identical steps compiles
/// one loop, not ten thousand).
struct KernelNames {
    /// Stands for the name while the text of a kernel is compared.
    private static let placeholder = "theano_kernel_placeholder"
    private var names: [String: String] = [:]
    /// The source of each distinct kernel, under its name.
    package private(set) var sources: [String] = []

    package init(sources: [String] = []) {
        self.sources = sources
    }

    /// The name of the kernel that `source` writes (given a name), new if its text is;
    /// `nil` when `source` writes none.
    package mutating func name(of source: (String) -> String?) -> String? {
        guard let text = source(Self.placeholder) else { return nil }
        if let name = names[text] { return name }
        let name = "kernel_\(names.count)"
        names[text] = name
        sources.append(ByteSearch.replacing(Self.placeholder, with: name, in: text))
        return name
    }
}
