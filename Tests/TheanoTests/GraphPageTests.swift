import Foundation
import Testing
@testable import Theano
@testable import TheanoCore

/// A loop with a matrix product inside and outside it, compiled with the native backend
/// and profiled over three calls: its page has an inner graph and times.
private struct ProfiledLoop {
    let function: Function

    init() throws {
        let x = matrix("x", dtype: .float64, shape: (nil, 3)), h0 = vector("h0", dtype: .float64, length: 3)
        let W = try shared(NDArray((0..<9).map { Double($0) / 10 }, shape: [3, 3]), name: "W")
        let h = try scan(sequences: [ScanSequence(x)], outputsInfo: [.recurrent(h0)], nonSequences: [W]) { v in
            [try tanh(v[0] + dot(v[1], v[2]))]
        }[0]
        let cost = try sum(dot(h, W))
        function = try Theano.function(inputs: [x, h0], outputs: [cost], updates: [W: W - 0.1 * grad(cost, wrt: [W])[0]],
                                name: "loop </script> & <b>", options: .native, profile: true)
        let xs = NDArray((0..<15).map { Double($0) / 15 }, shape: [5, 3]), start = NDArray([0.1, 0.2, 0.3])
        for _ in 0..<3 { _ = try function(xs, start) }
    }

    /// The page's data, as the page's script reads it.
    static func contents(of page: String) throws -> [String: Any] {
        let opening = #"<script type="application/json" id="graph-data">"#
        let start = try #require(page.range(of: opening)).upperBound
        let end = try #require(page.range(of: "</script>", range: start..<page.endIndex)).lowerBound
        return try #require(JSONSerialization.jsonObject(with: Data(page[start..<end].utf8)) as? [String: Any])
    }
}

@Suite("Graph page")
struct GraphPageTests {
    /// Every node, leaf and output is drawn once, in a layer below what it reads, without
    /// overlapping its neighbours; nothing is loaded from elsewhere; no label ends the script.
    @Test func pageDrawsEveryVertexOnceInLayers() throws {
        let loop = try ProfiledLoop()
        let page = loop.function.toHTML()
        for external in ["src=", "href=", "@import", "url(http", "<link"] {
            #expect(!page.contains(external), "the page is self-contained: found \(external)")
        }
        #expect(page.contains("<title>loop &lt;/script&gt; &amp; &lt;b&gt;</title>"))
        let contents = try ProfiledLoop.contents(of: page)
        let drawings = try #require(contents["drawings"] as? [[String: Any]])
        #expect(drawings.count == 2, "the function's graph, then the loop's step")
        let main = drawings[0]
        let vertices = try #require(main["vertices"] as? [[String: Any]])
        let edges = try #require(main["edges"] as? [[String: Any]])
        let graph = loop.function.graph
        let leaves = Set(graph.nodes.flatMap(\.inputs).filter { $0.owner == nil }.map(ObjectIdentifier.init))
        #expect(vertices.filter { $0["kind"] as? String == "apply" }.count == graph.nodes.count)
        #expect(vertices.count == graph.nodes.count + leaves.count + graph.outputs.count)
        #expect(edges.count == graph.nodes.reduce(0) { $0 + $1.inputs.count } + graph.outputs.count)
        func number(_ vertex: [String: Any], _ key: String) -> Double { (vertex[key] as? Double) ?? .nan }
        for edge in edges {
            let (from, to) = (vertices[edge["from"] as! Int], vertices[edge["to"] as! Int])
            #expect(number(from, "y") < number(to, "y"), "every edge goes down a layer or more")
        }
        let rows = Dictionary(grouping: vertices) { number($0, "y") }
        for row in rows.values {
            let sorted = row.sorted { number($0, "x") < number($1, "x") }
            for (left, right) in zip(sorted, sorted.dropFirst()) {
                #expect(number(left, "x") + number(left, "width") / 2 < number(right, "x") - number(right, "width") / 2)
            }
        }
        let heats = vertices.compactMap { $0["heat"] as? Double }
        #expect(heats.count == graph.nodes.count && heats.contains(1) && heats.allSatisfy { (0...1).contains($0) })
        #expect((contents["profileSummary"] as? String)?.hasPrefix("3 calls") == true)
    }

    /// An unprofiled function and plain variables get pages without times.
    @Test func pagesWithoutProfiles() throws {
        let x = vector("x")
        let y = try exp(x) + 1
        let doubled = try x * 2
        let plain = try function(inputs: [x], outputs: [y])
        for page in [plain.toHTML(), toHTML([y, doubled], title: "two")] {
            let contents = try ProfiledLoop.contents(of: page)
            #expect(contents["profileSummary"] == nil)
            let drawings = try #require(contents["drawings"] as? [[String: Any]])
            #expect(drawings.count == 1)
            #expect(((drawings[0]["vertices"] as? [[String: Any]]) ?? []).allSatisfy { $0["heat"] == nil })
        }
    }

    /// Layout of a long chain: no recursion that a deep graph could exhaust.
    @Test func longChainsLayOut() throws {
        let x = vector("x")
        var y = x
        for _ in 0..<3_000 { y = try tanh(y) }
        let contents = try ProfiledLoop.contents(of: toHTML([y]))
        let drawings = try #require(contents["drawings"] as? [[String: Any]])
        #expect((drawings[0]["vertices"] as? [[String: Any]])?.count == 3_002)
    }

    /// The page opened in headless Chromium: the script draws every vertex and edge of the
    /// data, shows a node's details on hover and hides them after, zooms with the wheel and
    /// fits again, opens and closes the loop's inner graph, and colours nodes by time.
    @Test(.enabled(if: Browser.path != nil, "needs Chromium (Debian: apt-get install chromium)"))
    func pageWorksInABrowser() throws {
        let loop = try ProfiledLoop()
        let page = loop.function.toHTML()
        let contents = try ProfiledLoop.contents(of: page)
        let drawings = try #require(contents["drawings"] as? [[String: Any]])
        let vertices = try #require(drawings[0]["vertices"] as? [[String: Any]])
        let report = try Browser.run(page, script: """
            const main = document.getElementById("graph-0");
            report.nodes = main.querySelectorAll(".node").length;
            report.applies = main.querySelectorAll(".node.apply").length;
            report.edges = main.querySelectorAll(".edge").length;
            const node = main.querySelector(".node.apply");
            const where = node.getBoundingClientRect();
            node.dispatchEvent(new MouseEvent("mouseover", { bubbles: true, clientX: where.x + 2, clientY: where.y + 2 }));
            const tooltip = document.getElementById("tooltip");
            report.tooltipShown = !tooltip.hidden && getComputedStyle(tooltip).display !== "none";
            report.tooltip = tooltip.textContent;
            node.dispatchEvent(new MouseEvent("mouseout", { bubbles: true }));
            report.tooltipHidden = tooltip.hidden;
            report.before = main.getAttribute("viewBox");
            const box = main.getBoundingClientRect();
            main.dispatchEvent(new WheelEvent("wheel", { deltaY: -100, bubbles: true, cancelable: true,
                                                         clientX: box.x + box.width / 2, clientY: box.y + box.height / 2 }));
            report.zoomed = main.getAttribute("viewBox");
            document.getElementById("fit").click();
            report.fitted = main.getAttribute("viewBox");
            const inner = document.getElementById("drawing-1");
            const shown = () => getComputedStyle(inner.querySelector("svg")).display !== "none";
            report.innerShownAtFirst = shown();
            main.querySelector(".node.has-inner").dispatchEvent(new MouseEvent("click", { bubbles: true }));
            report.innerShownAfterClick = shown();
            report.innerNodes = inner.querySelectorAll(".node").length;
            inner.querySelector("h2").click();
            report.innerShownAfterClose = shown();
            report.coloured = [...main.querySelectorAll(".node.apply > rect")].filter(rect => rect.style.fill !== "").length;
            report.legend = document.getElementById("legend").textContent;
            """)
        #expect(report["error"] == nil, "the script threw: \(report["error"] ?? "")")
        let innerVertices = try #require(drawings[1]["vertices"] as? [[String: Any]])
        #expect(report["nodes"] as? Int == vertices.count)
        #expect(report["applies"] as? Int == loop.function.graph.nodes.count)
        #expect(report["edges"] as? Int == (drawings[0]["edges"] as? [Any])?.count)
        #expect(report["tooltipShown"] as? Bool == true && report["tooltipHidden"] as? Bool == true)
        let tooltip = report["tooltip"] as? String ?? ""
        #expect(tooltip.contains("output 0: float64") && tooltip.contains("built at") && tooltip.contains("ms per call"), "\(tooltip)")
        let (before, zoomed, fitted) = (viewBox(report["before"]), viewBox(report["zoomed"]), viewBox(report["fitted"]))
        #expect(zoomed[2] < before[2] * 0.9 && zoomed[3] < before[3] * 0.9, "the wheel zooms in: \(before) → \(zoomed)")
        #expect(fitted == before)
        #expect(report["innerShownAtFirst"] as? Bool == false && report["innerShownAfterClick"] as? Bool == true)
        #expect(report["innerShownAfterClose"] as? Bool == false)
        #expect(report["innerNodes"] as? Int == innerVertices.count)
        #expect(report["coloured"] as? Int == loop.function.graph.nodes.count)
        #expect((report["legend"] as? String)?.contains("3 calls") == true)
    }

    /// `theano viz` writes the page of a model whose loop has an inner graph, with times.
    @Test func vizCommandWritesAPage() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("theano-viz-\(UUID().uuidString).html").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try Tool.start(["viz", "rnn", "--steps", "2", "--output", path]).finish()
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.output.hasPrefix("wrote \(path): "))
        let contents = try ProfiledLoop.contents(of: try String(contentsOfFile: path, encoding: .utf8))
        #expect((contents["drawings"] as? [Any])?.count ?? 0 >= 2, "the loop's step is drawn too")
        #expect((contents["profileSummary"] as? String)?.hasPrefix("2 calls") == true)
    }

    private func viewBox(_ value: Any?) -> [Double] {
        ((value as? String) ?? "").split(separator: " ").compactMap { Double($0) }
    }
}

/// Headless Chromium, to run a page's script as a browser does.
enum Browser {
    static let path: String? = ["chromium", "chromium-browser", "google-chrome"].lazy.compactMap(ExternalTool.find).first

    /// Opens `page` with `script` appended to its body, and returns what the script puts in
    /// the object `report` (with `error` when it throws), read from the document Chromium prints.
    static func run(_ page: String, script: String) throws -> [String: Any] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("theano-page-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("page.html")
        let reporting = "<script>\nconst report = {};\ntry {\n\(script)\n} catch (error) { report.error = `${error} ${error.stack}`; }\nconst out = document.createElement(\"pre\"); out.id = \"test-report\";\n"
            + "out.textContent = JSON.stringify(report); document.body.appendChild(out);\n</script>\n</body>"
        try page.replacingOccurrences(of: "</body>", with: reporting).write(to: file, atomically: true, encoding: .utf8)
        let result = try ExternalTool.run(try #require(path), arguments: [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(directory.path)/profile",
            "--window-size=1280,900", "--virtual-time-budget=3000", "--dump-dom", file.absoluteString,
        ], captureOutput: true)
        try #require(result.status == 0, "chromium failed: \(result.errorOutput)")
        let dom = result.standardOutput
        let start = try #require(dom.range(of: #"<pre id="test-report">"#), "no report in:\n\(dom.suffix(2000))\n\(result.errorOutput)").upperBound
        let end = try #require(dom.range(of: "</pre>", range: start..<dom.endIndex)).lowerBound
        let json = dom[start..<end].replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")
        return try #require(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }
}
