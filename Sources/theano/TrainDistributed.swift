import Foundation
import Theano
import TheanoDistributed
import TheanoModels

/// `theano train mlp|lenet --distributed`, run as `mpirun -np N theano train mlp --distributed`:
/// the model trained by synchronous data-parallel SGD (``DataParallelTrainer``): each global
/// minibatch of `--batch-size` examples split across the processes, the gradients summed by
/// one allreduce per step, the test accuracy counted on shares of the test set and summed.
/// Rank 0 prints and writes `--save`; the others print only their process id (to standard
/// error). Started without `mpirun`, it is a job of one process — the single-process run the
/// others must equal. An error on any process ends the whole job.
struct DistributedTraining: TrainingDriver {
    /// What is trained.
    enum Model {
        /// The tanh MLP of `depth` hidden layers, by SGD.
        case mlp(depth: Int)
        /// LeNet-5 on images of `size`×`size`, by Adam.
        case lenet(size: Int)
    }

    let settings: TrainingSettings
    let model: Model
    let data: (train: Dataset, test: Dataset)
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

    /// The model's graph pieces: what the trainer needs, and the prediction of a share.
    private struct Compiled {
        let title: String
        let trainer: DataParallelTrainer
        let predict: (NDArray) throws -> NDArray
        /// A share of the data's rows as the model's input.
        let shaped: (NDArray) -> NDArray
    }

    private func compile(_ world: Communicator) throws -> Compiled {
        let (train, y) = (data.train, vector("y", dtype: .int64))
        switch model {
        case .mlp(let depth):
            let sizes = [train.features] + Array(repeating: hidden, count: depth) + [train.classes]
            let classifier = try Classifier(sizes: sizes, activation: .tanh, learningRate: learningRate, seed: seed, options: options)
            let x = matrix("x", shape: (nil, train.features))
            let trainer = try DataParallelTrainer(inputs: [x, y], losses: categoricalCrossentropy(softmax(classifier.network.logits(x)), y),
                                                  parameters: classifier.parameters, optimizer: Optimizer(.sgd, learningRate: .constant(learningRate)),
                                                  communicator: world, options: options)
            return Compiled(title: "MLP \(sizes.map(String.init).joined(separator: "-"))", trainer: trainer, predict: classifier.predict, shaped: { $0 })
        case .lenet(let size):
            var random = RandomState(seed: seed)
            let network = try TheanoModels.lenet(size: size, classes: train.classes, random: &random)
            let x = tensor("x", dtype: .float32, shape: [nil, 1, size, size])
            var layerUpdates: [SharedVariable: Variable] = [:]
            let losses = try categoricalCrossentropy(softmax(network(x, training: true, updates: &layerUpdates)), y)
            let trainer = try DataParallelTrainer(inputs: [x, y], losses: losses, parameters: network.parameters,
                                                  optimizer: Optimizer(.adam(), learningRate: .constant(learningRate)), communicator: world,
                                                  layerUpdates: layerUpdates, options: options)
            let predictor = try function(inputs: [x], outputs: [argmax(network(x), axis: 1)], name: "predict", options: options)
            let shaped = { (rows: NDArray) in rows.reshaped([rows.shape[0], 1, size, size]) }
            return Compiled(title: "LeNet-5 on \(size)×\(size) images", trainer: trainer, predict: { try predictor(shaped($0))[0] }, shaped: shaped)
        }
    }

    private func train(_ world: Communicator) throws {
        let (train, test) = data
        let processes = "\(world.size) process\(world.size == 1 ? "" : "es")"
        let model = try compiling { try compile(world) }
        let trainer = model.trainer
        print("data-parallel \(model.title) on \(processes) (\(world.implementation)): \(train.count) training and \(test.count) test examples, "
              + "global batch \(batchSize)")
        /// The test accuracy, each process counting its share of the test set.
        func accuracy() throws -> Double {
            let rows = Array(trainer.share(of: test.count)), labels = test.labels.elements(as: Int64.self)
            let predicted = try model.predict(test.images.rows(rows)).elements(as: Int64.self)
            let correct = zip(predicted, rows.map { labels[$0] }).filter { $0 == $1 }.count
            let totals = try trainer.summedOverProcesses([Double(correct), Double(rows.count)])
            return totals[0] / totals[1]
        }
        if let resumePath {
            try trainer.resume(from: resumePath)
            print("resumed from \(resumePath): test accuracy \(fixed(try accuracy()))")
        }
        var random = RandomState(seed: seed)
        var steps = 0
        func checkAgreement() throws {
            guard try trainer.parametersAgree() else { throw DistributedError.disagreement(what: "the parameters", detail: "after step \(steps)") }
        }
        let time = try trainEpochs(epochs, title: "data-parallel \(model.title)") { _ in
            let loss = try meanOverMinibatches(count: train.count, batchSize: batchSize, random: &random) { rows in
                let mine = Array(rows[trainer.share(of: rows.count)])
                let loss = try trainer.step([model.shaped(train.images.rows(mine)), train.labels.rows(mine)], globalBatch: rows.count)
                steps += 1
                if verifyEveryStep { try checkAgreement() }
                return loss
            }
            try checkAgreement()
            return EpochReport(loss: loss, ["test": try accuracy()])
        }
        let traffic = world.statistics
        print("parameters identical on all \(processes) after " + (verifyEveryStep ? "every one of the \(steps) steps" : "every epoch (\(steps) steps)"))
        print(String(format: "total time %@, %.0f examples/s; %d collectives, %.1f kB and %.3f ms in collectives per step",
                     format(time), Double(train.count * epochs) / seconds(time), traffic.collectives,
                     Double(traffic.bytes) / Double(max(steps, 1)) / 1000, traffic.seconds / Double(max(steps, 1)) * 1000))
        if let savePath {
            try trainer.save(to: savePath)
            print("saved \(trainer.parameters.count + trainer.optimizerState.count) arrays to \(savePath)")
        }
        print("test accuracy: \(fixed(try accuracy()))")
    }
}
