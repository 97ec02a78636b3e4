/// The HTML, style and script of ``Function/toHTML()``'s page. The script draws the
/// drawings of the page's data (laid out in Swift) as SVG and makes them interactive:
/// wheel or buttons to zoom, drag to pan, hover for a node's details, click a loop's node
/// (or an inner graph's title) to open or close its inner graph.
enum GraphPageTemplate {
    /// The page titled `title` (escaped already) showing `data` (JSON with `<` escaped).
    static func html(title: String, data: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>\(title)</title>
        <style>
        \(style)
        </style>
        </head>
        <body>
        <header>
          <h1>\(title)</h1>
          <nav>
            <button id="zoom-in" title="zoom in">+</button>
            <button id="zoom-out" title="zoom out">−</button>
            <button id="fit" title="show the whole graph">fit</button>
            <button id="open-all">open inner graphs</button>
            <button id="close-all">close inner graphs</button>
          </nav>
          <p id="legend"></p>
        </header>
        <main id="drawings"></main>
        <div id="tooltip" hidden></div>
        <script type="application/json" id="graph-data">\(data)</script>
        <script>
        \(script)
        </script>
        </body>
        </html>

        """
    }

    private static let style = """
        body { font: 13px system-ui, sans-serif; margin: 0; color: #1d2733; background: #fafbfc; }
        header { position: sticky; top: 0; background: #fff; border-bottom: 1px solid #d5dbe3; padding: 6px 12px; z-index: 2; }
        h1 { font-size: 15px; margin: 0 12px 0 0; display: inline-block; }
        nav { display: inline-block; }
        button { font: inherit; margin-right: 4px; }
        #legend { margin: 4px 0 0; color: #52606d; }
        #legend span.scale { display: inline-block; width: 120px; height: 10px; vertical-align: middle;
          background: linear-gradient(to right, hsl(60, 90%, 88%), hsl(0, 90%, 55%)); margin: 0 6px; }
        section { margin: 8px 12px; border: 1px solid #d5dbe3; background: #fff; }
        section h2 { font-size: 13px; margin: 0; padding: 6px 8px; background: #eef2f7; cursor: pointer; }
        section h2::before { content: "▾ "; }
        section.collapsed h2::before { content: "▸ "; }
        section.collapsed svg { display: none; }
        svg.graph { display: block; width: 100%; height: 70vh; cursor: grab; }
        section.inner svg.graph { height: 50vh; }
        .node rect, .node ellipse { stroke: #52606d; stroke-width: 1; }
        .node text { font: 12px ui-monospace, monospace; pointer-events: none; }
        .node.apply rect { fill: #e3ebf6; }
        .node.output rect { fill: none; stroke: none; }
        .node.constant ellipse { fill: #fff; stroke-dasharray: 3 2; }
        .node.input ellipse { fill: #e9f6ea; }
        .node.shared ellipse { fill: #fdf1dc; }
        .node.has-inner rect { stroke-width: 2.5; stroke: #2d6cdf; cursor: pointer; }
        .node:hover rect, .node:hover ellipse { stroke: #000; stroke-width: 2; }
        .edge { fill: none; stroke: #8a96a3; stroke-width: 1.2; }
        .edge-label { font: 10px sans-serif; fill: #8a96a3; }
        #tooltip { position: fixed; background: #1d2733; color: #fff; padding: 6px 8px; border-radius: 4px;
          font: 12px ui-monospace, monospace; white-space: pre; pointer-events: none; z-index: 3; max-width: 70vw; overflow: hidden; }
        """

    private static let script = #"""
        "use strict";
        const data = JSON.parse(document.getElementById("graph-data").textContent);
        const svgNS = "http://www.w3.org/2000/svg";
        const tooltip = document.getElementById("tooltip");
        const views = [];

        function element(name, attributes, parent) {
          const node = document.createElementNS(svgNS, name);
          for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
          if (parent) parent.appendChild(node);
          return node;
        }

        function heatColour(heat) {
          return "hsl(" + (60 - 60 * heat).toFixed(1) + ", 90%, " + (88 - 33 * heat).toFixed(1) + "%)";
        }

        /// A pannable, zoomable view of one drawing: its viewBox is what moves.
        function View(svg, width, height) {
          this.svg = svg;
          this.whole = [0, 0, Math.max(width, 1), Math.max(height, 1)];
          this.box = this.whole.slice();
          this.apply = () => svg.setAttribute("viewBox", this.box.map(v => v.toFixed(2)).join(" "));
          this.zoom = (factor, cx, cy) => {
            const [x, y, w, h] = this.box;
            if (cx === undefined) { cx = x + w / 2; cy = y + h / 2; }
            this.box = [cx - (cx - x) / factor, cy - (cy - y) / factor, w / factor, h / factor];
            this.apply();
          };
          this.fit = () => { this.box = this.whole.slice(); this.apply(); };
          this.pointAt = (event) => {
            const rect = svg.getBoundingClientRect();
            const [x, y, w, h] = this.box;
            const scale = Math.max(w / Math.max(rect.width, 1), h / Math.max(rect.height, 1));
            const left = x + (w - rect.width * scale) / 2, top = y + (h - rect.height * scale) / 2;
            return [left + (event.clientX - rect.left) * scale, top + (event.clientY - rect.top) * scale, scale];
          };
          svg.addEventListener("wheel", (event) => {
            event.preventDefault();
            const [px, py] = this.pointAt(event);
            this.zoom(event.deltaY < 0 ? 1.2 : 1 / 1.2, px, py);
          });
          let drag = null;
          svg.addEventListener("mousedown", (event) => { drag = [event.clientX, event.clientY]; svg.style.cursor = "grabbing"; });
          window.addEventListener("mouseup", () => { drag = null; svg.style.cursor = ""; });
          window.addEventListener("mousemove", (event) => {
            if (!drag) return;
            const scale = this.pointAt(event)[2];
            this.box[0] -= (event.clientX - drag[0]) * scale;
            this.box[1] -= (event.clientY - drag[1]) * scale;
            drag = [event.clientX, event.clientY];
            this.apply();
          });
          this.apply();
        }

        function showDetails(event, vertex) {
          tooltip.textContent = vertex.details.join("\n");
          tooltip.hidden = false;
          tooltip.style.left = Math.min(event.clientX + 14, window.innerWidth - 40) + "px";
          tooltip.style.top = (event.clientY + 14) + "px";
        }

        function setOpen(index, open) {
          const section = document.getElementById("drawing-" + index);
          if (!section) return;
          section.classList.toggle("collapsed", !open);
          if (open) views[index].fit();
        }

        function draw(drawing, index) {
          const section = document.createElement("section");
          section.id = "drawing-" + index;
          section.className = index === 0 ? "main" : "inner collapsed";
          const heading = document.createElement("h2");
          heading.textContent = drawing.title;
          heading.addEventListener("click", () => setOpen(index, section.classList.contains("collapsed")));
          section.appendChild(heading);
          const svg = element("svg", { class: "graph", id: "graph-" + index, preserveAspectRatio: "xMidYMid meet" }, section);
          const defs = element("defs", {}, svg);
          const marker = element("marker", { id: "arrow-" + index, viewBox: "0 0 10 10", refX: 10, refY: 5,
                                             markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, defs);
          element("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#8a96a3" }, marker);
          const vertices = drawing.vertices;
          for (const edge of drawing.edges) {
            const a = vertices[edge.from], b = vertices[edge.to];
            const [x1, y1, x2, y2] = [a.x, a.y + a.height / 2, b.x, b.y - b.height / 2];
            const middle = (y1 + y2) / 2;
            element("path", { class: "edge", d: `M ${x1} ${y1} C ${x1} ${middle}, ${x2} ${middle}, ${x2} ${y2}`,
                              "marker-end": `url(#arrow-${index})` }, svg);
            if (edge.label !== null && edge.label !== undefined) {
              const label = element("text", { class: "edge-label", x: x2 + 3, y: y2 - 4 }, svg);
              label.textContent = edge.label;
            }
          }
          vertices.forEach((vertex, number) => {
            const group = element("g", { class: "node " + vertex.kind + (vertex.inner ? " has-inner" : ""),
                                         "data-vertex": number }, svg);
            const [x, y, w, h] = [vertex.x - vertex.width / 2, vertex.y - vertex.height / 2, vertex.width, vertex.height];
            const shape = vertex.kind === "apply" || vertex.kind === "output"
              ? element("rect", { x, y, width: w, height: h, rx: 4 }, group)
              : element("ellipse", { cx: vertex.x, cy: vertex.y, rx: w / 2, ry: h / 2 }, group);
            if (vertex.heat !== null && vertex.heat !== undefined) shape.style.fill = heatColour(vertex.heat);
            const text = element("text", { x: vertex.x, y: vertex.y + 4, "text-anchor": "middle" }, group);
            text.textContent = vertex.label;
            group.addEventListener("mouseover", (event) => showDetails(event, vertex));
            group.addEventListener("mousemove", (event) => showDetails(event, vertex));
            group.addEventListener("mouseout", () => { tooltip.hidden = true; });
            if (vertex.inner) {
              group.addEventListener("click", () => {
                const target = document.getElementById("drawing-" + vertex.inner);
                setOpen(vertex.inner, target.classList.contains("collapsed"));
                if (!target.classList.contains("collapsed") && target.scrollIntoView) target.scrollIntoView();
              });
            }
          });
          document.getElementById("drawings").appendChild(section);
          views[index] = new View(svg, drawing.width, drawing.height);
        }

        data.drawings.forEach(draw);
        document.getElementById("zoom-in").addEventListener("click", () => views[0].zoom(1.25));
        document.getElementById("zoom-out").addEventListener("click", () => views[0].zoom(0.8));
        document.getElementById("fit").addEventListener("click", () => views.forEach(view => view.fit()));
        document.getElementById("open-all").addEventListener("click", () => views.forEach((_, i) => { if (i > 0) setOpen(i, true); }));
        document.getElementById("close-all").addEventListener("click", () => views.forEach((_, i) => { if (i > 0) setOpen(i, false); }));
        if (data.profileSummary) {
          const legend = document.getElementById("legend");
          legend.append("fast");
          const scale = document.createElement("span");
          scale.className = "scale";
          legend.append(scale, "slow — " + data.profileSummary);
        }
        """#
}
