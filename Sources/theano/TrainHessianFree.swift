import Foundation
import Theano
import TheanoModels

/// `theano train rnn --optimizer hessian-free`: the Elman character-level language model of
/// `theano train rnn`, trained twice from the same weights: by minibatch SGD for `epochs`
/// passes, then by Hessian-free optimization for the same wall time. Prints the held-out bits
/// per character of each against time and, with `--plot`, draws both curves.
struct HessianFreeTraining: TrainingDriver {
    let settings: TrainingSettings
    let plotPath: String?
    let steps = 40

    /// The network: an Elman layer and a softmax readout, its outputs the logits.
    private struct Network {
        let parameters: [SharedVariable]
        let x: Variable, labels: Variable, logits: Variable, cost: Variable

        init(alphabet: Int, hidden: Int, seed: UInt64) throws {
            var random = RandomState(seed: seed)
            let cell = try ElmanCell(inputs: alphabet, hidden: hidden, random: &random)
            let readout = try Dense(hidden, alphabet, name: "y", random: &random)
            parameters = cell.parameters + readout.parameters
            x = tensor3("x", shape: (nil, nil, alphabet))
            labels = matrix("labels", dtype: .int64)
            logits = try readout(Sequencer(cell)(x).outputs)
            cost = try sequenceCrossentropy(logits, labels)
        }
    }

    func run() throws {
        let source = ToySentences()
        var random = RandomState(seed: seed)
        let train = source.text(count: 40_000, using: &random), test = source.text(count: 8_000, using: &random)
        let alphabet = source.alphabet.count
        let windows = { (stream: [Int]) in Array(stride(from: 0, to: stream.count - steps - 1, by: steps)) }
        let (trainStarts, testStarts) = (windows(train), windows(test))
        let heldOut = nextSymbolBatch(test, starts: testStarts, steps: steps, alphabet: alphabet)
        print("Elman language model, \(hidden) hidden units, \(alphabet) characters: SGD for \(epochs) epochs, then Hessian-free for as long")

        // SGD.
        let sgd = try Network(alphabet: alphabet, hidden: hidden, seed: seed)
        let updates = try Optimizer(.sgd, learningRate: .constant(learningRate)).updates(sgd.cost, parameters: sgd.parameters)
        let sgdStep = try function(inputs: [sgd.x, sgd.labels], outputs: [sgd.cost], updates: updates, options: options)
        let sgdLoss = try function(inputs: [sgd.x, sgd.labels], outputs: [sgd.cost], options: options)
        func bits(_ loss: Function) throws -> Double { try loss(heldOut.inputs, heldOut.labels)[0].scalar(as: Double.self) / log(2) }
        var sgdCurve = [(0.0, try bits(sgdLoss))]
        let started = ContinuousClock.now
        for _ in 0..<epochs {
            let order = trainStarts.shuffled(using: &random)
            for first in stride(from: 0, to: order.count - batchSize + 1, by: batchSize) {
                let batch = nextSymbolBatch(train, starts: Array(order[first..<(first + batchSize)]), steps: steps, alphabet: alphabet)
                _ = try sgdStep(batch.inputs, batch.labels)
            }
            sgdCurve.append((seconds(ContinuousClock.now - started), try bits(sgdLoss)))
            print(String(format: "sgd           %6.2f s  held-out bits per character %.4f", sgdCurve.last!.0, sgdCurve.last!.1))
        }
        let budget = sgdCurve.last!.0

        // Hessian-free, from the same weights: gradients on 256 windows, curvature on 64 of them.
        let hf = try Network(alphabet: alphabet, hidden: hidden, seed: seed)
        let optimizer = try HessianFree(parameters: hf.parameters, inputs: [hf.x], outputs: hf.logits, targets: hf.labels,
                                        loss: .softmaxCrossentropy, damping: 1, maxIterations: 30, options: options)
        let hfLoss = try function(inputs: [hf.x, hf.labels], outputs: [hf.cost], options: options)
        var hfCurve = [(0.0, try bits(hfLoss))], elapsed = 0.0, hfSteps = 0
        while elapsed < budget {
            let starts = Array(trainStarts.shuffled(using: &random).prefix(256))
            let batch = nextSymbolBatch(train, starts: starts, steps: steps, alphabet: alphabet)
            let curvatureBatch = nextSymbolBatch(train, starts: Array(starts.prefix(64)), steps: steps, alphabet: alphabet)
            let stepStart = ContinuousClock.now
            try optimizer.step([batch.inputs, batch.labels], curvatureData: [curvatureBatch.inputs, curvatureBatch.labels])
            elapsed += seconds(ContinuousClock.now - stepStart)
            hfSteps += 1
            hfCurve.append((elapsed, try bits(hfLoss)))
            print(String(format: "hessian-free  %6.2f s  held-out bits per character %.4f  (step %d: %d CG iterations, damping %.3g)",
                         elapsed, hfCurve.last!.1, hfSteps, optimizer.lastIterations, optimizer.damping))
        }
        print(String(format: "SGD: %.4f bits per character after %.1f s; Hessian-free: %.4f after %d steps in %.1f s",
                     sgdCurve.last!.1, budget, hfCurve.last!.1, hfSteps, elapsed))
        if let plotPath {
            try writeCurves([("SGD", sgdCurve), ("Hessian-free", hfCurve)], title: "held-out bits per character against training time (s)", to: plotPath)
        }
    }
}

/// Draws curves of a value against time into an SVG file, one colour per curve, with a legend.
func writeCurves(_ curves: [(name: String, points: [(Double, Double)])], title: String, to path: String) throws {
    let (width, height, margin) = (640.0, 360.0, 50.0)
    let all = curves.flatMap(\.points)
    let (maxX, lowY, highY) = (all.map(\.0).max() ?? 1, all.map(\.1).min() ?? 0, all.map(\.1).max() ?? 1)
    let colours = ["#1f5fa8", "#c2410c", "#15803d"]
    var text = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"\(margin)\" y=\"20\">\(title)</text>\n"
        + "<rect x=\"\(margin)\" y=\"\(margin)\" width=\"\(width - 2 * margin)\" height=\"\(height - 2 * margin)\" fill=\"none\" stroke=\"#ccc\"/>\n"
        + "<text x=\"\(margin)\" y=\"\(height - margin + 16)\">0</text><text x=\"\(width - margin)\" y=\"\(height - margin + 16)\" text-anchor=\"end\">"
        + String(format: "%.1f", maxX) + "</text>\n"
        + "<text x=\"\(margin - 4)\" y=\"\(margin + 4)\" text-anchor=\"end\">\(fixed(highY))</text>"
        + "<text x=\"\(margin - 4)\" y=\"\(height - margin)\" text-anchor=\"end\">\(fixed(lowY))</text>\n"
    for (index, curve) in curves.enumerated() {
        let colour = colours[index % colours.count]
        let points = curve.points.map { x, y in
            String(format: "%.1f,%.1f", margin + (width - 2 * margin) * x / Swift.max(maxX, 1e-9),
                   height - margin - (height - 2 * margin) * (y - lowY) / Swift.max(highY - lowY, 1e-9))
        }.joined(separator: " ")
        text += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.5\"/>\n"
        text += "<text x=\"\(width - margin - 4)\" y=\"\(Double(margin) + 16 + 16 * Double(index))\" text-anchor=\"end\" fill=\"\(colour)\">\(curve.name)</text>\n"
    }
    try Data((text + "</svg>\n").utf8).write(to: URL(fileURLWithPath: path))
}
