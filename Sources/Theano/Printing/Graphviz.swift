import Foundation
import TheanoCore
import TheanoOps
import TheanoOptimizer
import TheanoAutodiff
import TheanoNative
import TheanoLoops

/// The graph computing `variables` in Graphviz's DOT language: boxes for nodes (op and
/// output type), ellipses for inputs, shared variables and constants, arrows from each
/// variable to the nodes reading it.
public func toDot(_ variables: [Variable], title: String = "graph") -> String {
    var builder = DotBuilder()
    for (index, variable) in variables.enumerated() { builder.add(variable, outputLabel: variables.count > 1 ? "output \(index)" : "output") }
    return builder.text(title: title)
}

extension Function {
    /// The optimized graph of the function in Graphviz's DOT language; updates are labelled
    /// with the shared variable they write.
    public func toDot() -> String {
        var builder = DotBuilder()
        for (output, label) in labelledOutputs { builder.add(output, outputLabel: label) }
        return builder.text(title: name)
    }

    /// The optimized graph's outputs, each with what it is for pictures: `output i`, or
    /// `update of W`.
    var labelledOutputs: [(Variable, String)] {
        graph.outputs.enumerated().map { index, output in
            (output, index < outputCount ? "output \(index)" : "update of \(updatedVariables[index - outputCount].name ?? "shared")")
        }
    }
}

/// Picture formats `dot` can write.
public enum GraphPictureFormat: String, Sendable {
    /// A format, named as `dot -T` names it: PNG, SVG or PDF.
    case png, svg, pdf
}

/// Renders DOT text to a picture with Graphviz's `dot` program (Debian: `apt-get install
/// graphviz`). Throws ``TheanoError/toolMissing(tool:purpose:hint:)`` when `dot` is not
/// installed, with what to install.
public func renderGraph(_ dot: String, to path: String, format: GraphPictureFormat = .png) throws {
    guard let program = ExternalTool.find("dot") else {
        throw TheanoError.toolMissing(tool: "dot", purpose: "to draw graph pictures", hint: "install Graphviz (Debian: apt-get install graphviz); toDot() gives the DOT text without it")
    }
    let source = FileManager.default.temporaryDirectory.appendingPathComponent("theano-graph-\(UUID().uuidString).dot").path
    try dot.write(toFile: source, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: source) }
    let result = try ExternalTool.run(program, arguments: ["-T\(format.rawValue)", source, "-o", path])
    guard result.status == 0 else {
        throw TheanoError.toolFailed(tool: "dot", reason: "status \(result.status) writing \(path): \(result.errorOutput)")
    }
}

/// Assigns node ids and collects DOT statements.
private struct DotBuilder {
    private var ids: [ObjectIdentifier: String] = [:]
    private var statements: [String] = []

    mutating func add(_ variable: Variable, outputLabel: String) {
        let source = id(for: variable)
        let sink = "out\(statements.count)"
        statements.append("  \(sink) [label=\(quoted(outputLabel)), shape=plaintext];")
        statements.append("  \(source) -> \(sink);")
    }

    /// The id of the DOT node standing for `variable` (its Apply node, or the leaf itself).
    private mutating func id(for variable: Variable) -> String {
        let key = variable.printedVertex
        if let known = ids[key] { return known }
        let id = "n\(ids.count)"
        ids[key] = id
        guard let node = variable.owner else {
            let (label, shape): (String, String) = switch variable {
            case let constant as Constant: (constant.value.count == 1 ? "\(constant.value.elementsText[0])" : "constant \(constant.type)", "ellipse")
            case is SharedVariable: ("\(variable.name ?? "shared")\n\(variable.type)", "ellipse")
            default: ("\(variable.name ?? "input")\n\(variable.type)", "ellipse")
            }
            statements.append("  \(id) [label=\(quoted(label)), shape=\(shape)\(variable is Constant ? ", style=dashed" : "")];")
            return id
        }
        statements.append("  \(id) [label=\(quoted("\(node.op)\n\(node.outputTypes.map(\.description).joined(separator: ", "))")), shape=box];")
        for (position, input) in node.inputs.enumerated() {
            let inputID = self.id(for: input)
            statements.append("  \(inputID) -> \(id)\(node.inputs.count > 1 ? " [label=\"\(position)\"]" : "");")
        }
        return id
    }

    func text(title: String) -> String {
        "digraph \(quoted(title)) {\n  rankdir=TB;\n" + statements.joined(separator: "\n") + "\n}\n"
    }

    private func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
}
