import Foundation
import TheanoCore
import TheanoOps
import TheanoOptimizer
import TheanoAutodiff
import TheanoNative
import TheanoLoops

/// The graph computing `variables` as one self-contained HTML page (Theano's d3viz): see
/// ``Function/toHTML()``.
public func toHTML(_ variables: [Variable], title: String = "graph") -> String {
    let outputs = variables.enumerated().map { ($1, variables.count > 1 ? "output \($0)" : "output") }
    return GraphPage(title: title, outputs: outputs, profile: nil).html
}

extension Function {
    /// The optimized graph of the function as one self-contained HTML page, to open in a
    /// browser (no network, no plug-ins): nodes in layers from the inputs down, zoomed with
    /// the wheel or the toolbar and dragged to pan; hovering a node shows its op, types
    /// (with static shapes), where it was built and, for a function compiled with
    /// `profile: true` that has run, its time per call — nodes are then coloured by their
    /// share of the time. The inner graphs of loops are drawn below, collapsed: click the
    /// loop's node or the section's title to open one.
    ///
    /// ```swift
    /// try step.toHTML().write(toFile: "step.html", atomically: true, encoding: .utf8)
    /// ```
    public func toHTML() -> String {
        GraphPage(title: name, outputs: labelledOutputs, profile: profile.flatMap { $0.calls > 0 ? $0 : nil }).html
    }
}

/// The data of the page: every graph drawn (the function's first, then inner graphs), and
/// the HTML around it.
struct GraphPage {
    /// One vertex as the page draws it.
    struct Vertex: Encodable {
        enum Kind: String, Encodable { case apply, input, shared, constant, output }
        let kind: Kind
        let label: String
        /// Lines shown when the pointer is over the vertex.
        let details: [String]
        let x: Double, y: Double, width: Double, height: Double
        /// The share of the profiled time (0…1 of the slowest node's), for apply vertices of a profiled function.
        let heat: Double?
        /// The index of the inner graph this vertex's op runs.
        let inner: Int?
    }

    struct Edge: Encodable {
        let from: Int, to: Int
        /// The input position, where the node has several inputs.
        let label: String?
    }

    struct Drawing: Encodable {
        let title: String
        let vertices: [Vertex]
        let edges: [Edge]
        let width: Double, height: Double
    }

    struct Contents: Encodable {
        let title: String
        let drawings: [Drawing]
        /// What the colours mean, for a profiled function.
        let profileSummary: String?
    }

    private(set) var contents: Contents

    init(title: String, outputs: [(Variable, String)], profile: Profile?) {
        let times = profile?.secondsByNode()
        let calls = Double(Swift.max(profile?.calls ?? 1, 1))
        var inner: [(graph: FunctionGraph, title: String)] = []
        var drawings = [Self.drawing(title: title, outputs: outputs, times: times, calls: calls, inner: &inner)]
        var next = 0
        while next < inner.count {
            let (graph, innerTitle) = inner[next]
            next += 1
            let labelled = graph.outputs.enumerated().map { ($1, "inner output \($0)") }
            drawings.append(Self.drawing(title: innerTitle, outputs: labelled, times: nil, calls: calls, inner: &inner))
        }
        let summary = times.map { times in
            let total = times.values.reduce(0, +) / calls
            return String(format: "%d calls, %.3f ms per call in nodes; colour: share of the slowest node's time", Int(calls), total * 1e3)
        }
        contents = Contents(title: title, drawings: drawings, profileSummary: summary)
    }

    /// The page: the template with the data (JSON, `<` escaped so that no label can end the script).
    var html: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: (try? encoder.encode(contents)) ?? Data("{}".utf8), as: UTF8.self)
            .replacingOccurrences(of: "<", with: "\\u003c")
        return GraphPageTemplate.html(title: escapedHTML(contents.title), data: json)
    }

    /// Lays out the graph computing `outputs`, queueing the inner graphs it meets.
    private static func drawing(title: String, outputs: [(Variable, String)], times: [ObjectIdentifier: Double]?, calls: Double,
                                inner: inout [(graph: FunctionGraph, title: String)]) -> Drawing {
        var vertices: [(kind: Vertex.Kind, label: String, details: [String], seconds: Double?, inner: Int?)] = []
        var edges: [Edge] = []
        var ids: [ObjectIdentifier: Int] = [:]
        func vertex(for variable: Variable) -> Int {
            let key = variable.printedVertex
            if let known = ids[key] { return known }
            // Depth first from the outputs, iteratively: a chain of thousands of nodes is fine.
            var stack: [(variable: Variable, next: Int)] = [(variable, 0)]
            while let (current, next) = stack.last {
                let currentKey = current.printedVertex
                if let node = current.owner, next < node.inputs.count {
                    stack[stack.count - 1].next += 1
                    let input = node.inputs[next]
                    if ids[input.printedVertex] == nil { stack.append((input, 0)) }
                    continue
                }
                stack.removeLast()
                guard ids[currentKey] == nil else { continue }
                ids[currentKey] = vertices.count
                vertices.append(describe(current, times: times, calls: calls, inner: &inner))
                if let node = current.owner {
                    for (position, input) in node.inputs.enumerated() {
                        let source = ids[input.printedVertex]!
                        edges.append(Edge(from: source, to: vertices.count - 1, label: node.inputs.count > 1 ? "\(position)" : nil))
                    }
                }
            }
            return ids[key]!
        }
        for (output, label) in outputs {
            let source = vertex(for: output)
            vertices.append((.output, label, [label, "\(output.type)"], nil, nil))
            edges.append(Edge(from: source, to: vertices.count - 1, label: nil))
        }
        let labels = vertices.map { $0.label.count > 36 ? $0.label.prefix(35) + "…" : $0.label }
        let widths = labels.map { Double($0.count) * 7.2 + 20 }
        let layout = LayeredLayout(widths: widths, edges: edges.map { ($0.from, $0.to) })
        let slowest = vertices.compactMap(\.seconds).max() ?? 0
        let placed = vertices.indices.map { index in
            let (vertex, box) = (vertices[index], layout.boxes[index])
            return Vertex(kind: vertex.kind, label: labels[index], details: vertex.details, x: box.x, y: box.y, width: box.width,
                   height: box.height, heat: vertex.seconds.map { slowest > 0 ? $0 / slowest : 0 }, inner: vertex.inner)
        }
        return Drawing(title: title, vertices: placed, edges: edges, width: layout.width, height: layout.height)
    }

    /// A vertex's kind, label, hover lines, time and inner graph.
    private static func describe(_ variable: Variable, times: [ObjectIdentifier: Double]?, calls: Double,
                                 inner: inout [(graph: FunctionGraph, title: String)])
        -> (kind: Vertex.Kind, label: String, details: [String], seconds: Double?, inner: Int?) {
        guard let node = variable.owner else {
            switch variable {
            case let constant as Constant:
                let text = constant.value.count == 1 ? constant.value.elementsText[0] : "constant"
                return (.constant, text, ["constant", "\(variable.type)", "shape \(shapeText(constant.value.shape))"], nil, nil)
            case is SharedVariable:
                let value = (variable as! SharedVariable).value
                return (.shared, variable.name ?? "shared", ["shared variable \(variable.name ?? "")", "\(variable.type)",
                                                             "now of shape \(shapeText(value.shape))"], nil, nil)
            default:
                return (.input, variable.name ?? "input", ["input \(variable.name ?? "")", "\(variable.type)"], nil, nil)
            }
        }
        var details = ["\(node.op)"]
        details += node.inputs.enumerated().map { "input \($0): \($1.type)" }
        details += node.outputTypes.enumerated().map { "output \($0): \($1)" }
        details.append("built at \(node.location)")
        let seconds = times.map { $0[ObjectIdentifier(node)] ?? 0 }
        if let seconds, let times {
            let share = 100 * seconds / Swift.max(times.values.reduce(0, +), 1e-12)
            details.append(String(format: "%.4f ms per call (%.1f %% of the nodes' time)", seconds / calls * 1e3, share))
        }
        var innerIndex: Int?
        if let op = node.op as? any InnerGraphOp {
            if let known = inner.firstIndex(where: { $0.graph === op.innerGraph }) {
                innerIndex = known + 1
            } else {
                inner.append((op.innerGraph, "inner graph of \(node.op)"))
                innerIndex = inner.count
            }
            details.append("click to open its inner graph")
        }
        return (.apply, "\(node.op)", details, seconds, innerIndex)
    }
}

/// `text` with HTML's special characters escaped.
private func escapedHTML(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
