import Foundation
import Theano
import TheanoDistributed
import TheanoModels

/// `theano train mlp|lenet|lstm --distributed`, run as `mpirun -np N theano train mlp --distributed`:
/// the model trained by synchronous data-parallel SGD (``DataParallelTrainer``): each global
/// minibatch of `--batch-size` examples split across the processes, the gradients summed by
/// one allreduce per step, the test figures counted on shares of the test set and summed.
/// Rank 0 prints and writes `--save`; the others print only their process id (to standard
/// error). Started without `mpirun`, it is a job of one process — the single-process run the
/// others must equal. An error on any process ends the whole job.
struct DistributedTraining: TrainingDriver {
    /// What is trained, on what.
    enum Model {
        /// The tanh MLP of `depth` hidden layers, by SGD.
        case mlp(depth: Int, data: (train: Dataset, test: Dataset))
        /// LeNet-5 on images of `size`×`size`, by Adam.
        case lenet(size: Int, data: (train: Dataset, test: Dataset))
        /// The LSTM predicting the embedded Reber grammar's next symbol, by SGD; its examples
        /// are windows of the stream.
        case lstm(train: ReberStream, test: ReberStream, alphabet: Int)
    }

    let settings: TrainingSettings
    let model: Model
    let savePath: String?, resumePath: String?
    /// Check after every step (not only every epoch) that all processes hold the same parameters.
    let verifyEveryStep: Bool

    func run() throws {
        let world = try Communicator.world()
        FileHandle.standardError.write(Data("rank \(world.rank) of \(world.size): pid \(getpid())\n".utf8))
        if world.rank != 0 {
            // Only rank 0 reports: the others' standard output goes nowhere.
            let null = open("/dev/null", O_WRONLY)
            dup2(null, STDOUT_FILENO)
            close(null)
        }
        do {
            try train(world)
        } catch {
            world.abort("error: \(error)")
        }
    }

    /// The model's trainer and what each process does with its share of the examples.
    private struct Compiled {
        let title: String
        let trainer: DataParallelTrainer
        let trainingExamples: Int, testExamples: Int
        /// The trainer's inputs for training examples `rows`.
        let inputs: ([Int]) -> [NDArray]
        /// Counts on test examples `rows`, to be summed over the processes…
        let counts: ([Int]) throws -> [Double]
        /// …and the figures of those sums.
        let figures: ([Double]) -> KeyValuePairs<String, Double>
    }

    private func compile(_ world: Communicator) throws -> Compiled {
        let labels = vector("y", dtype: .int64)
        /// Classifiers: the test accuracy from the counts of correct predictions.
        func classifier(_ title: String, _ trainer: DataParallelTrainer, _ data: (train: Dataset, test: Dataset), shaped: @escaping (NDArray) -> NDArray,
                        predict: @escaping (NDArray) throws -> NDArray) -> Compiled {
            let truth = data.test.labels.elements(as: Int64.self)
            return Compiled(title: title, trainer: trainer, trainingExamples: data.train.count, testExamples: data.test.count,
                            inputs: { [shaped(data.train.images.rows($0)), data.train.labels.rows($0)] },
                            counts: { rows in
                                let predicted = try predict(shaped(data.test.images.rows(rows))).elements(as: Int64.self)
                                return [Double(zip(predicted, rows.map { truth[$0] }).filter { $0 == $1 }.count), Double(rows.count)]
                            },
                            figures: { ["test accuracy": $0[0] / $0[1]] })
        }
        switch model {
        case .mlp(let depth, let data):
            let sizes = [data.train.features] + Array(repeating: hidden, count: depth) + [data.train.classes]
            let network = try Classifier(sizes: sizes, activation: .tanh, learningRate: learningRate, seed: seed, options: options)
            let x = matrix("x", shape: (nil, data.train.features))
            let trainer = try DataParallelTrainer(inputs: [x, labels], losses: categoricalCrossentropy(softmax(network.network.logits(x)), labels),
                                                  parameters: network.parameters, optimizer: Optimizer(.sgd, learningRate: .constant(learningRate)),
                                                  communicator: world, options: options)
            return classifier("MLP \(sizes.map(String.init).joined(separator: "-"))", trainer, data, shaped: { $0 }, predict: network.predict)
        case .lenet(let size, let data):
            var random = RandomState(seed: seed)
            let network = try TheanoModels.lenet(size: size, classes: data.train.classes, random: &random)
            let x = tensor("x", dtype: .float32, shape: [nil, 1, size, size])
            var layerUpdates: [SharedVariable: Variable] = [:]
            let losses = try categoricalCrossentropy(softmax(network(x, training: true, updates: &layerUpdates)), labels)
            let trainer = try DataParallelTrainer(inputs: [x, labels], losses: losses, parameters: network.parameters,
                                                  optimizer: Optimizer(.adam(), learningRate: .constant(learningRate)), communicator: world,
                                                  layerUpdates: layerUpdates, options: options)
            let predictor = try function(inputs: [x], outputs: [argmax(network(x), axis: 1)], name: "predict", options: options)
            return classifier("LeNet-5 on \(size)×\(size) images", trainer, data, shaped: { $0.reshaped([$0.shape[0], 1, size, size]) },
                              predict: { try predictor($0)[0] })
        case .lstm(let train, let test, let alphabet):
            let network = try RecurrentNetwork(cell: .lstm, inputs: alphabet, hidden: hidden, outputs: alphabet, loss: .crossentropy,
                                               learningRate: learningRate, seed: seed, options: options).graph
            let x = tensor3("x", shape: (nil, nil, alphabet)), target = network.target()
            let y = try network.readout(x)
            let trainer = try DataParallelTrainer(inputs: [x, target], losses: network.sequenceLosses(readout: y, target), parameters: network.parameters,
                                                  optimizer: Optimizer(.sgd, learningRate: .constant(learningRate)), communicator: world, options: options)
            let predictor = try function(inputs: [x], outputs: [network.prediction(readout: y)], name: "predict", options: options)
            func windows(_ stream: ReberStream, _ rows: [Int]) -> (inputs: NDArray, labels: NDArray) {
                nextSymbolBatch(stream.symbols, starts: rows.map { stream.starts[$0] }, steps: stream.steps, alphabet: alphabet)
            }
            return Compiled(title: "LSTM on the embedded Reber grammar (\(hidden) units, windows of \(train.steps))", trainer: trainer,
                            trainingExamples: train.starts.count, testExamples: test.starts.count,
                            inputs: { rows in let batch = windows(train, rows); return [batch.inputs, batch.labels] },
                            counts: { rows in
                                var score = ReberStream.Score()
                                test.score(try predictor(windows(test, rows).inputs)[0].elements(as: Int64.self), starts: rows.map { test.starts[$0] }, into: &score)
                                return [score.right, score.total, score.rightLongRange, score.totalLongRange].map(Double.init)
                            },
                            figures: { ["next-symbol accuracy": $0[0] / $0[1], "long-range": $0[2] / max($0[3], 1)] })
        }
    }

    private func train(_ world: Communicator) throws {
        let processes = "\(world.size) process\(world.size == 1 ? "" : "es")"
        let model = try compiling { try compile(world) }
        let trainer = model.trainer
        print("data-parallel \(model.title) on \(processes) (\(world.implementation)): \(model.trainingExamples) training and "
              + "\(model.testExamples) test examples, global batch \(batchSize)")
        /// The test figures, each process counting its share of the test set.
        func figures() throws -> KeyValuePairs<String, Double> {
            try model.figures(trainer.summedOverProcesses(model.counts(Array(trainer.share(of: model.testExamples)))))
        }
        func summary() throws -> String { try figures().map { "\($0.key) \(fixed($0.value))" }.joined(separator: "  ") }
        if let resumePath {
            try trainer.resume(from: resumePath)
            print("resumed from \(resumePath): \(try summary())")
        }
        var random = RandomState(seed: seed)
        var steps = 0
        func checkAgreement() throws {
            guard try trainer.parametersAgree() else { throw DistributedError.disagreement(what: "the parameters", detail: "after step \(steps)") }
        }
        let time = try trainEpochs(epochs, title: "data-parallel \(model.title)") { _ in
            let loss = try meanOverMinibatches(count: model.trainingExamples, batchSize: batchSize, random: &random) { rows in
                let loss = try trainer.step(model.inputs(Array(rows[trainer.share(of: rows.count)])), globalBatch: rows.count)
                steps += 1
                if verifyEveryStep { try checkAgreement() }
                return loss
            }
            try checkAgreement()
            return EpochReport(loss: loss, try figures())
        }
        let traffic = world.statistics
        print("parameters identical on all \(processes) after " + (verifyEveryStep ? "every one of the \(steps) steps" : "every epoch (\(steps) steps)"))
        print(String(format: "total time %@, %.0f examples/s; %d collectives, %.1f kB and %.3f ms in collectives per step",
                     format(time), Double(model.trainingExamples * epochs) / seconds(time), traffic.collectives,
                     Double(traffic.bytes) / Double(max(steps, 1)) / 1000, traffic.seconds / Double(max(steps, 1)) * 1000))
        if let savePath {
            try trainer.save(to: savePath)
            print("saved \(trainer.parameters.count + trainer.optimizerState.count) arrays to \(savePath)")
        }
        print(try figures().map { "\($0.key): \(fixed($0.value))" }.joined(separator: "\n"))
    }
}
