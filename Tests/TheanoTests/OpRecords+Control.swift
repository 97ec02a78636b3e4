@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoLoops
@testable import TheanoOps

// The records of the ops that change how a graph is differentiated or run: gradient
// overrides, branches, graph-defined ops and loops. Suites of their own check most of their
// facets.

extension OpRecords {
    /// Why a loop's gradient is not differentiated.
    private static let loopGradientOnly: Reason = "made only by differentiating a loop, so it has no derivatives of its own"

    static let control: [OpRecord] = [
        OpRecord(GradientOverride.self,
                 values: .notApplicable(because: "the identity on values: GradientOverrideTests check what it does to gradients"),
                 gradients: .notApplicable(because: "changes gradients on purpose, so finite differences cannot check it: GradientOverrideTests do"),
                 forwardMode: .notApplicable(because: "changes derivatives on purpose: GradientOverrideTests check them"),
                 gradientTypes: .checked([.unary("gradClip") { try gradClip($0, lower: -1, upper: 1) * $0 }]),
                 shapes: .checked([ShapeCase("gradient override (identity)", .matrix) { try gradScale($0, by: 2) }]),
                 native: .notApplicable(because: .noNativeKernel)),
        OpRecord(IfElse.self,
                 values: .notApplicable(because: "IfElseTests check the branch it takes, lazily, through both backends"),
                 gradients: .notApplicable(because: "IfElseTests check its gradients through each branch"),
                 forwardMode: .notApplicable(because: "IfElseTests check its tangents through each branch"),
                 gradientTypes: .checked([
                     SizeOneOperands("ifelse of [1, n] branches", [[1, 3], [1, 3]]) { try ifelse(gt(sum($0[0]), 0), $0[0], $0[1]) },
                 ]),
                 shapes: .notApplicable(because: "does not infer shapes: only the branch taken at run time says its shape"),
                 native: .notApplicable(because: "IfElseTests run it through the native backend and the reference alike")),
        OpRecord(OpFromGraph.self,
                 values: .notApplicable(because: "compilation inlines it: the fixtures check the ops of its graph"),
                 gradients: .checked([
                     .binary("op_from_graph with its default derivatives", .uniform([3, 4]), .uniform([4])) { a, b in
                         let (x, y) = (TheanoCore.matrix(dtype: .float64), vector(dtype: .float64))
                         let op = try OpFromGraph(inputs: [x, y], outputs: [tanh(x * y) + exp(y)])
                         return try op(a, b)[0]
                     },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([
                     .unary("op_from_graph of tanh(x) * 2") { a in
                         let x = tensor(dtype: .float64, shape: [1, nil])
                         return try OpFromGraph(inputs: [x], outputs: [tanh(x) * 2])(a)[0]
                     },
                 ]),
                 shapes: .notApplicable(because: "does not infer shapes: compilation inlines it before shapes are needed"),
                 native: .notApplicable(because: "compilation inlines it: the native backend never sees it")),
        OpRecord(Scan.self,
                 values: .notApplicable(because: "ScanTests check the values of loops (running sums, Fibonacci, map and reduce, …)"),
                 gradients: .notApplicable(because: "ScanTests check the gradients of loops (an Elman network, an LSTM, nested loops, …)"),
                 forwardMode: .notApplicable(because: "ScanTests check forward mode through loops"),
                 gradientTypes: .checked([
                     SizeOneOperands("scan over [steps, 1, n] with [1, n] state and weight", [[2, 1, 3], [1, 3], [1, 3]]) { v in
                         try scan(sequences: [ScanSequence(v[0])], outputsInfo: [.recurrent(v[1])], nonSequences: [v[2]]) { s in
                             [try tanh(s[0] + s[1] * s[2])]
                         }[0]
                     },
                 ]),
                 shapes: .notApplicable(because: "does not infer shapes: its outputs' lengths depend on the loop"),
                 native: .notApplicable(because: "links its own steps: ScanTests compare native and reference loops")),
        OpRecord(ScanGradient.self,
                 values: .notApplicable(because: "made only by differentiating a loop: ScanTests check the gradients it computes"),
                 gradients: .notApplicable(because: loopGradientOnly),
                 forwardMode: .notApplicable(because: loopGradientOnly),
                 gradientTypes: .notApplicable(because: loopGradientOnly),
                 shapes: .notApplicable(because: "does not infer shapes: its outputs' lengths depend on the loop"),
                 native: .notApplicable(because: "links its own steps: ScanTests compare native and reference loop gradients")),
    ]
}
