import Foundation
import Theano
import TheanoDistributed
import TheanoModels

/// `theano train mlp --distributed`, run as `mpirun -np N theano train mlp --distributed`:
/// the MLP trained by synchronous data-parallel SGD (``DataParallelTrainer``): each global
/// minibatch of `--batch-size` examples split across the processes, the gradients summed by
/// one allreduce per step, the test accuracy counted on shares of the test set and summed.
/// Rank 0 prints and writes `--save`; the others print only their process id (to standard
/// error). Started without `mpirun`, it is a job of one process — the single-process run the
/// others must equal. An error on any process ends the whole job.
struct DistributedTraining: TrainingDriver {
    let settings: TrainingSettings
    let data: (train: Dataset, test: Dataset)
    let depth: Int
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

    private func train(_ world: Communicator) throws {
        let (train, test) = data
        let sizes = [train.features] + Array(repeating: hidden, count: depth) + [train.classes]
        print("data-parallel MLP \(sizes.map(String.init).joined(separator: "-")) on \(world.size) process\(world.size == 1 ? "" : "es") "
              + "(\(world.implementation)): \(train.count) training and \(test.count) test examples, global batch \(batchSize)")
        let (classifier, trainer) = try compiling {
            let classifier = try Classifier(sizes: sizes, activation: .tanh, learningRate: learningRate, seed: seed, options: options)
            let x = matrix("x", shape: (nil, train.features)), y = vector("y", dtype: .int64)
            let losses = try categoricalCrossentropy(softmax(classifier.network.logits(x)), y)
            let trainer = try DataParallelTrainer(inputs: [x, y], losses: losses, parameters: classifier.parameters,
                                                  optimizer: Optimizer(.sgd, learningRate: .constant(learningRate)), communicator: world, options: options)
            return (classifier, trainer)
        }
        /// The test accuracy, each process counting its share of the test set.
        func accuracy() throws -> Double {
            let rows = Array(trainer.share(of: test.count))
            let predicted = try classifier.predict(test.images.rows(rows)).elements(as: Int64.self)
            let correct = zip(predicted, rows.map { test.labels.elements(as: Int64.self)[$0] }).filter { $0 == $1 }.count
            let totals = try trainer.summedOverProcesses([Double(correct), Double(rows.count)])
            return totals[0] / totals[1]
        }
        if let resumePath {
            try trainer.resume(from: resumePath)
            print("resumed from \(resumePath): test accuracy \(fixed(try accuracy()))")
        }
        var random = RandomState(seed: seed)
        var steps = 0
        let time = try trainEpochs(epochs, title: "data-parallel MLP") { _ in
            let loss = try meanOverMinibatches(count: train.count, batchSize: batchSize, random: &random) { rows in
                let mine = Array(rows[trainer.share(of: rows.count)])
                let loss = try trainer.step([train.images.rows(mine), train.labels.rows(mine)], globalBatch: rows.count)
                steps += 1
                if verifyEveryStep, !(try trainer.parametersAgree()) {
                    throw DistributedError.disagreement(what: "the parameters", detail: "after step \(steps)")
                }
                return loss
            }
            guard try trainer.parametersAgree() else { throw DistributedError.disagreement(what: "the parameters", detail: "after step \(steps)") }
            return EpochReport(loss: loss, ["test": try accuracy()])
        }
        let traffic = world.statistics
        print("parameters identical on all \(world.size) process\(world.size == 1 ? "" : "es") after "
              + (verifyEveryStep ? "every one of the \(steps) steps" : "every epoch (\(steps) steps)"))
        print(String(format: "total time %@, %.0f examples/s; %d collectives, %.1f kB and %.3f ms in collectives per step",
                     format(time), Double(train.count * epochs) / seconds(time), traffic.collectives,
                     Double(traffic.bytes) / Double(max(steps, 1)) / 1000, traffic.seconds / Double(max(steps, 1)) * 1000))
        if let savePath {
            try trainer.save(to: savePath)
            print("saved \(trainer.parameters.count) arrays to \(savePath)")
        }
        print("test accuracy: \(fixed(try accuracy()))")
    }
}
