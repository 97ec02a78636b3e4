import Foundation
import Theano

/// What every training driver is told by the command line: passes over the data, minibatch
/// size, hidden units, step size, seed and backend.
struct TrainingSettings {
    let epochs: Int
    let batchSize: Int
    let hidden: Int
    let learningRate: Double
    let seed: UInt64
    let options: CompileOptions
}

/// A training driver: it reads its settings by name (`epochs`, `hidden`, …).
protocol TrainingDriver {
    var settings: TrainingSettings { get }
}

extension TrainingDriver {
    var epochs: Int { settings.epochs }
    var batchSize: Int { settings.batchSize }
    var hidden: Int { settings.hidden }
    var learningRate: Double { settings.learningRate }
    var seed: UInt64 { settings.seed }
    var options: CompileOptions { settings.options }
}

/// What one epoch reports: its training loss, figures measured after it (printed and, with
/// `--plot`, drawn), and a note printed as is.
struct EpochReport {
    var loss: Double
    var figures: [(name: String, value: Double)]
    var note: String

    init(loss: Double, _ figures: KeyValuePairs<String, Double> = [:], note: String = "") {
        (self.loss, self.figures, self.note) = (loss, figures.map { ($0.key, $0.value) }, note)
    }
}

/// Runs `epochs` passes of `epoch`, printing one line per epoch with its figures and time
/// (and, on a terminal, a progress bar under them); records the curves for `--plot`. Returns
/// the total time.
@discardableResult
func trainEpochs(_ epochs: Int, title: String = "", _ epoch: (Int) throws -> EpochReport) rethrows -> Duration {
    let started = ContinuousClock.now
    let bar = isatty(STDOUT_FILENO) == 1
    var history: [EpochReport] = []
    for index in 1...epochs {
        let epochStart = ContinuousClock.now
        let report = try epoch(index)
        history.append(report)
        let figures = report.figures.map { "  \($0.name) \(fixed($0.value))" }.joined()
        let note = report.note.isEmpty ? "" : "  \(report.note)"
        if bar { print("\r\u{1B}[K", terminator: "") }
        print("epoch \(pad(index, epochs))  loss \(fixed(report.loss))\(figures)\(note)  time \(format(ContinuousClock.now - epochStart))")
        if bar {
            let done = 30 * index / epochs, elapsed = seconds(ContinuousClock.now - started)
            let remaining = elapsed / Double(index) * Double(epochs - index)
            print("[\(String(repeating: "#", count: done))\(String(repeating: ".", count: 30 - done))] \(index)/\(epochs)  "
                + String(format: "%.1f s left", remaining), terminator: index == epochs ? "\r\u{1B}[K" : "")
            fflush(nil)
        }
    }
    CurvePlot.shared.record(title: title, history)
    return ContinuousClock.now - started
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
}

/// The curves of every training run of the command, drawn into an SVG file (`--plot`).
final class CurvePlot: @unchecked Sendable {
    static let shared = CurvePlot()
    private let lock = NSLock()
    private var path: String?
    private var panels: [(title: String, values: [Double])] = []

    /// Draws into `path` from now on.
    func draw(to path: String?) { lock.withLock { self.path = path } }

    /// Adds a run's loss and figures, one panel each, and rewrites the file.
    func record(title: String, _ history: [EpochReport]) {
        lock.withLock {
            guard let path, let first = history.first else { return }
            let prefix = title.isEmpty ? "" : "\(title): "
            panels.append((prefix + "training loss", history.map(\.loss)))
            for (i, figure) in first.figures.enumerated() {
                panels.append((prefix + figure.name, history.compactMap { $0.figures.count > i ? $0.figures[i].value : nil }))
            }
            do { try Data(svg().utf8).write(to: URL(fileURLWithPath: path)) } catch {
                print("cannot write the plot to \(path): \(error.localizedDescription)")
            }
        }
    }

    /// One panel per curve, stacked: the values against the epoch, with their range.
    private func svg() -> String {
        let (width, height, margin) = (640.0, 160.0, 40.0)
        var text = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height) * panels.count)\" "
            + "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        for (index, panel) in panels.enumerated() {
            let top = Double(index) * height, values = panel.values
            let (low, high) = (values.min() ?? 0, values.max() ?? 1), span = high > low ? high - low : 1
            let points = values.enumerated().map { i, value in
                let x = margin + (width - 2 * margin) * (values.count > 1 ? Double(i) / Double(values.count - 1) : 0.5)
                let y = top + height - margin / 2 - (height - 1.5 * margin) * (value - low) / span
                return String(format: "%.1f,%.1f", x, y)
            }.joined(separator: " ")
            text += "<text x=\"\(margin)\" y=\"\(top + 16)\">\(escaped(panel.title)) (epochs 1–\(values.count))</text>\n"
            text += "<text x=\"\(width - margin)\" y=\"\(top + 16)\" text-anchor=\"end\">\(fixed(low)) … \(fixed(high))</text>\n"
            text += "<rect x=\"\(margin)\" y=\"\(top + margin)\" width=\"\(width - 2 * margin)\" height=\"\(height - 1.5 * margin)\" fill=\"none\" stroke=\"#ccc\"/>\n"
            text += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"#1f5fa8\" stroke-width=\"1.5\"/>\n"
        }
        return text + "</svg>\n"
    }

    private func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
