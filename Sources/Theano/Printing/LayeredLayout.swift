/// Where to draw the vertices of a directed acyclic graph, top to bottom: each vertex in a
/// layer below every vertex it reads, sources just above their first reader, and vertices
/// ordered within their layer by a few barycentre sweeps (Sugiyama's method, without dummy
/// vertices for long edges) so that edges cross little.
struct LayeredLayout {
    /// A vertex's box: its centre and its size.
    struct Box: Equatable {
        var x: Double, y: Double
        let width: Double, height: Double
    }

    /// The vertices' boxes, in the order of the widths given.
    private(set) var boxes: [Box]
    /// The picture's size, margins included.
    private(set) var width = 0.0, height = 0.0

    static let rowHeight = 36.0, rowGap = 44.0, columnGap = 22.0, margin = 20.0

    /// Lays out vertices of `widths` joined by `edges` (each from a vertex to one that reads
    /// it; every edge must go from an earlier vertex to a later one in some order).
    init(widths: [Double], edges: [(from: Int, to: Int)]) {
        let count = widths.count
        var predecessors = Array(repeating: [Int](), count: count), successors = predecessors
        for edge in edges {
            predecessors[edge.to].append(edge.from)
            successors[edge.from].append(edge.to)
        }
        let layers = Self.layers(predecessors: predecessors, successors: successors)
        var rows = Array(repeating: [Int](), count: (layers.max() ?? -1) + 1)
        for vertex in 0..<count { rows[layers[vertex]].append(vertex) }
        Self.order(&rows, predecessors: predecessors, successors: successors)

        boxes = widths.map { Box(x: 0, y: 0, width: $0, height: Self.rowHeight) }
        // Each vertex as near the mean of its sources as the ones to its left allow.
        for (layer, row) in rows.enumerated() {
            var right = -Double.infinity
            for vertex in row {
                let sources = predecessors[vertex]
                let wanted = sources.isEmpty ? right + Self.columnGap + widths[vertex] / 2
                    : sources.map { boxes[$0].x }.reduce(0, +) / Double(sources.count)
                let x = Swift.max(wanted, right + Self.columnGap + widths[vertex] / 2)
                boxes[vertex].x = x.isFinite ? x : widths[vertex] / 2
                boxes[vertex].y = Self.margin + Double(layer) * (Self.rowHeight + Self.rowGap) + Self.rowHeight / 2
                right = boxes[vertex].x + widths[vertex] / 2
            }
        }
        let left = boxes.map { $0.x - $0.width / 2 }.min() ?? 0
        for vertex in boxes.indices { boxes[vertex].x += Self.margin - left }
        width = (boxes.map { $0.x + $0.width / 2 }.max() ?? 0) + Self.margin
        height = Self.margin * 2 + Double(rows.count) * Self.rowHeight + Double(Swift.max(rows.count - 1, 0)) * Self.rowGap
    }

    /// Each vertex's layer: one below its lowest source; vertices read by nothing but
    /// sources of their own (inputs, constants) just above their highest reader.
    private static func layers(predecessors: [[Int]], successors: [[Int]]) -> [Int] {
        let count = predecessors.count
        var layer = Array(repeating: -1, count: count)
        func depth(_ vertex: Int) -> Int {
            if layer[vertex] >= 0 { return layer[vertex] }
            // Iterative, as graphs of thousands of nodes would exhaust the stack.
            var stack = [vertex]
            while let top = stack.last {
                let pending = predecessors[top].filter { layer[$0] < 0 }
                if pending.isEmpty {
                    layer[top] = (predecessors[top].map { layer[$0] }.max() ?? -1) + 1
                    stack.removeLast()
                } else {
                    stack += pending
                }
            }
            return layer[vertex]
        }
        for vertex in 0..<count { _ = depth(vertex) }
        for vertex in 0..<count where predecessors[vertex].isEmpty && !successors[vertex].isEmpty {
            layer[vertex] = successors[vertex].map { layer[$0] }.min()! - 1
        }
        return layer
    }

    /// Orders each row by the mean position of its vertices' neighbours in the rows above,
    /// then below, a few times over.
    private static func order(_ rows: inout [[Int]], predecessors: [[Int]], successors: [[Int]]) {
        var position = Array(repeating: 0.0, count: predecessors.count)
        func number() { for row in rows { for (index, vertex) in row.enumerated() { position[vertex] = Double(index) } } }
        func sort(_ row: inout [Int], by neighbours: [[Int]]) {
            let keys = row.map { vertex in
                neighbours[vertex].isEmpty ? position[vertex]
                    : neighbours[vertex].map { position[$0] }.reduce(0, +) / Double(neighbours[vertex].count)
            }
            row = zip(row, keys).enumerated().sorted { ($0.element.1, $0.offset) < ($1.element.1, $1.offset) }.map(\.element.0)
            for (index, vertex) in row.enumerated() { position[vertex] = Double(index) }
        }
        number()
        for _ in 0..<3 {
            for layer in rows.indices.dropFirst() { sort(&rows[layer], by: predecessors) }
            for layer in rows.indices.reversed().dropFirst() { sort(&rows[layer], by: successors) }
        }
    }
}
