import TheanoCore
import TheanoOps
import TheanoOptimizer
import TheanoAutodiff
import TheanoNative
import TheanoLoops

/// An indented tree of the graph computing `variables`: each node with its op, an id
/// (`[id A]`), its name if it has one, and its type. A node shown before is shown again by
/// its id only.
///
/// ```
/// add [id A] float32[?, 10]
///  ├─ dot [id B] float32[?, 10]
///  │   ├─ x [id C] float32[?, 784]
///  │   └─ W [id D] float32[784, 10]
///  └─ dimshuffle{x,0} [id E] float32[1, 10]
///      └─ b [id F] float32[10]
/// ```
///
/// Loops (``Scan``) are followed by their step's graph, under `Inner graphs:`.
public func debugprint(_ variables: [Variable]) -> String {
    var printer = TreePrinter()
    for variable in variables { printer.print(variable, prefix: "", childPrefix: "") }
    printer.printInnerGraphs()
    return printer.lines.joined(separator: "\n")
}

/// The optimized graph of a compiled function: each output, then each update, as a tree.
public func debugprint(_ function: Function) -> String {
    var printer = TreePrinter()
    for (index, output) in function.graph.outputs.enumerated() {
        if index >= function.outputCount {
            printer.lines.append("update of \(function.updatedVariables[index - function.outputCount].name ?? "a shared variable"):")
        }
        printer.print(output, prefix: "", childPrefix: "")
    }
    printer.printInnerGraphs()
    return printer.lines.joined(separator: "\n")
}

/// Prints trees, giving each variable an id the first time it is seen.
private struct TreePrinter {
    var lines: [String] = []
    private var ids: [ObjectIdentifier: String] = [:]
    /// Nodes with inner graphs, in the order met, and their ids.
    private var innerGraphNodes: [(node: Apply, id: String)] = []

    mutating func print(_ variable: Variable, prefix: String, childPrefix: String) {
        let key = variable.printedVertex
        if let id = ids[key] {
            lines.append(prefix + label(variable, id: id) + (variable.owner == nil ? "" : " ···"))
            return
        }
        let id = Self.name(ids.count)
        ids[key] = id
        lines.append(prefix + label(variable, id: id))
        guard let node = variable.owner else { return }
        if node.op is any InnerGraphOp { innerGraphNodes.append((node, id)) }
        for (index, input) in node.inputs.enumerated() {
            let last = index == node.inputs.count - 1
            print(input, prefix: childPrefix + (last ? " └─ " : " ├─ "), childPrefix: childPrefix + (last ? "    " : " │  "))
        }
    }

    /// Each inner graph met so far (and those inside them), its outputs marked `>`.
    mutating func printInnerGraphs() {
        var next = 0
        guard !innerGraphNodes.isEmpty else { return }
        lines += ["", "Inner graphs:"]
        while next < innerGraphNodes.count {
            let (node, id) = innerGraphNodes[next]
            next += 1
            lines += ["", "\(node.op) [id \(id)]"]
            for output in (node.op as! any InnerGraphOp).innerGraph.outputs {
                print(output, prefix: " > ", childPrefix: "   ")
            }
        }
    }

    private func label(_ variable: Variable, id: String) -> String {
        var head: String
        if let node = variable.owner {
            head = "\(node.op)"
            if node.outputTypes.count > 1 { head += ".\(variable.outputIndex)" }
            if let name = variable.name { head += " '\(name)'" }
        } else if let constant = variable as? Constant {
            head = constant.value.count == 1 ? "constant \(constant.value.elementsText.first!)" : "constant"
        } else {
            head = variable.name ?? (variable is SharedVariable ? "<shared>" : "<input>")
        }
        return "\(head) [id \(id)] \(variable.type)"
    }

    /// A, B, …, Z, BA, BB, … (Theano's ids).
    static func name(_ number: Int) -> String {
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        var n = number, text = ""
        repeat {
            text = String(letters[n % 26]) + text
            n /= 26
        } while n > 0
        return text
    }
}
