import ArgumentParser
import Foundation
import Theano
import TheanoModels

/// `theano viz <model>`: writes the optimized graph of an example model's training step as
/// one self-contained HTML page (``Function/toHTML()``), its nodes coloured by their time
/// after a few profiled steps.
struct VizCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "viz",
        abstract: "Write the optimized graph of an example model's training step as an HTML page.",
        discussion: """
            The page needs no network: open it in a browser to zoom (wheel or buttons), pan \
            (drag), read a node's op, types, source line and time (hover), and open the inner \
            graphs of loops (click). logreg and mlp: the 784-10 and 784-500-10 classifiers of \
            W1 and W2; rnn and lstm: the recurrent networks of W4 and W5, whose loops have inner graphs.
            """
    )

    enum Model: String, ExpressibleByArgument, CaseIterable { case logreg, mlp, rnn, lstm }

    @Argument(help: "The model: \(Model.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: Model

    @Option(name: .shortAndLong, help: "Where to write the page.")
    var output = "graph.html"

    @Option(help: "Training steps on random data to profile before drawing (0: draw without times).")
    var steps = 20

    @Flag(help: "Run the reference interpreter instead of the native backend.")
    var reference = false

    func validate() throws {
        if steps < 0 { throw ValidationError("--steps must not be negative, not \(steps)") }
    }

    func run() throws {
        let options: CompileOptions = reference ? .default : .native
        let profiled = steps > 0
        var random = RandomState(seed: 5)
        let step: () throws -> Void, function: Function
        switch model {
        case .logreg, .mlp:
            let sizes = model == .logreg ? [784, 10] : [784, 500, 10]
            let classifier = try Classifier(sizes: sizes, learningRate: 0.01, options: options, profile: profiled)
            let images = NDArray.uniform([64, 784], using: &random)
            let labels = NDArray((0..<64).map { _ in Int64(random.next() % 10) })
            (function, step) = (classifier.trainingFunction, { _ = try classifier.step(images: images, labels: labels) })
        case .rnn, .lstm:
            let network = try RecurrentNetwork(cell: model == .rnn ? .elman : .lstm, inputs: 32, hidden: 64, outputs: 8,
                                               loss: .squaredError, learningRate: 0.01, options: options, profile: profiled)
            let x = NDArray.uniform([20, 16, 32], low: -1, high: 1, using: &random)
            let targets = NDArray.uniform([20, 16, 8], low: -1, high: 1, using: &random)
            (function, step) = (network.trainingFunction, { try network.step(x, targets) })
        }
        for _ in 0..<steps { try step() }
        do {
            try function.toHTML().write(toFile: output, atomically: true, encoding: .utf8)
        } catch {
            throw TheanoError.toolFailed(tool: "theano viz", reason: "cannot write \(output): \((error as NSError).localizedDescription)")
        }
        print("wrote \(output): \(function.graph.nodes.count) nodes\(profiled ? ", coloured by their time over \(steps) steps" : "")")
    }
}
