import ArgumentParser
import Foundation
import Theano
import TheanoModels

/// `theano train <model>`: trains one of the example models on the bundled digits (or
/// MNIST) and reports its held-out figures and time. Each family of models has its driver:
/// ``ClassifierTraining`` (mlp, logreg, lenet, dropout-augment), ``SequenceTraining`` (rnn, lstm),
/// ``GenerativeTraining`` (dae, vae, dvae), ``RBMTraining`` (rbm) and
/// ``StochasticTraining`` (stochastic, binaryconnect), ``BagOfWordsTraining`` (bow) and
/// ``SequenceClassifierTraining`` (seqclass), ``LanguageModelTraining`` (rnnlm) and
/// ``HessianFreeTraining`` (rnn --optimizer hessian-free), ``TrackerTraining`` (tracker) and
/// ``CharacterModelTraining`` (charlm).
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model and report its held-out performance.",
        discussion: """
            Without --data, uses the UCI optical digits bundled with the library (1,797 8×8 \
            images; a quarter held out for testing). With --data DIR, reads MNIST's four IDX \
            files (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, \
            t10k-labels-idx1-ubyte; uncompressed) from DIR.
            mlp: a tanh MLP (with --dropout RATE, inverted dropout on its hidden units). \
            logreg: logistic regression. lenet: LeNet-5 (the digits upsampled to 32×32). dropout-augment: a dropout MLP, then a deterministic \
            one trained on its dropout noise projected into input space. rnn: an Elman network \
            as a character-level language model. lstm: an LSTM on the embedded Reber grammar. \
            charlm: character-level LSTM and IRNN language models on the Book of Genesis (bundled), \
            without and with the norm stabilizer (--cell, --norm-stabilizer), also evaluated on \
            sequences four times longer than trained on. \
            dae: a denoising autoencoder with tied weights, fine-tuned into a classifier. \
            zae: zero-bias autoencoders on digit patches, their codes classified. \
            vae, dvae: a (denoising) variational autoencoder on binarized digits. rbm: a binary \
            RBM trained by CD, PCD or FPCD, with its exact log-likelihood and three samplers. \
            stochastic: a classifier with stochastic gaters, one per gradient estimator. \
            binaryconnect: binarized weights and power-of-two backpropagation beside a float MLP. \
            bow: logistic regression on the sparse bag-of-words features of a generated corpus \
            (--documents), then on the same features dense, with their time per epoch. \
            seqclass: a bidirectional LSTM on the digits read row by row, rows dropped at random \
            (variable-length sequences, padded batches with masks). rnn --optimizer hessian-free: \
            the language model by SGD, then by Hessian-free optimization for as long. rnnlm: a \
            word-level recurrent language model on a generated topic corpus (with --online, also \
            evaluated with its embeddings updated after every prediction). tracker: the Recurrent \
            Attentive Tracking Model on generated bouncing balls (--frames DIR writes PNG frames).
            """
    )

    enum Model: String, ExpressibleByArgument, CaseIterable {
        case mlp, logreg, lenet, rnn, lstm, charlm, dae, zae, vae, dvae, rbm, stochastic, binaryconnect, bow, seqclass, rnnlm, tracker
        case dropoutAugment = "dropout-augment"
    }

    @Argument(help: "The model: \(Model.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: Model

    @Option(help: "Passes over the training set (each model has its default).")
    var epochs: Int?

    @Option(help: "Examples per SGD step (default: 20 for rbm, 32 for the others).")
    var batchSize: Int?

    @Option(help: "Step size (each model has its default).")
    var learningRate: Double?

    @Option(help: "Units in the hidden layer (each model has its default).")
    var hidden: Int?

    @Option(help: "L2 weight decay (mlp, logreg, lenet).")
    var l2 = 0.0

    @Option(help: "Hidden layers of the MLP (mlp).")
    var depth = 1

    @Option(help: "Put a linear bottleneck layer of this width between consecutive hidden layers, and train the plain MLP beside it (mlp).")
    var bottleneck: Int?

    @Option(help: "Dropout rate of the hidden units (mlp; dropout-augment's dropout network).")
    var dropout = 0.0

    @Option(help: "Probability that an input pixel is masked (dae: 0.25; dvae: 0.05).")
    var masking: Double?

    @Option(help: "Corrupt the denoising autoencoder's inputs with Gaussian noise of this standard deviation instead of masking them (dae).")
    var gaussianNoise: Double?

    @Option(help: "Standard deviation of the Gaussian noise in the encoder's hidden layer (dvae).")
    var hiddenNoise = 0.1

    @Option(help: "How the RBM trains: cd, pcd or fpcd.")
    var training: RestrictedBoltzmannMachine.Training = .pcd

    @Option(help: "The RBM's sampler: gibbs, herding or rates-fpcd.")
    var sampler: RBMSampler = .gibbs

    @Option(help: "Gibbs steps of CD-k (rbm).")
    var cdSteps = 1

    @Option(help: "Write a grid of generated digits to this PNG file (vae, dvae, rbm).")
    var samples: String?

    @Option(help: "Save the trained parameters to this .npz file, which NumPy reads (mlp, logreg, lenet).")
    var save: String?

    @Option(help: "Start from the parameters in this .npz file, saved by --save (mlp, logreg, lenet).")
    var resume: String?

    @Option(help: "Draw the loss and the other per-epoch figures of each training run into this SVG file.")
    var plot: String?

    @Option(help: "Directory with MNIST IDX files (instead of the bundled digits).")
    var data: String?

    /// How `rnn` trains.
    enum TrainingMethod: String, ExpressibleByArgument, CaseIterable {
        case sgd
        case hessianFree = "hessian-free"
    }

    @Option(help: "How rnn trains: sgd, or hessian-free (after SGD, for the same time, both curves with --plot).")
    var optimizer: TrainingMethod = .sgd

    @Option(help: "Write the first held-out sequence's frames with the attention window as PNG files into this directory (tracker).")
    var frames: String?

    @Option(help: "The recurrent layer of charlm: lstm or irnn (default: both).")
    var cell: CharacterLanguageModel.Cell?

    @Option(help: "The norm stabilizer's weight β for charlm (default: compare none with 50; 0 trains without it).")
    var normStabilizer: Double?

    @Flag(help: "Also evaluate with the embeddings updated after every prediction (rnnlm).")
    var online = false

    @Option(help: "Step size of the test-time updates of the embeddings (rnnlm --online).")
    var onlineRate = 0.5

    @Option(help: "Documents of the generated corpus, a fifth held out (bow).")
    var documents = 7_500

    @Option(help: "Seed for the weights, the split, the minibatch order and the random streams.")
    var seed: UInt64 = 1234

    @Flag(help: "Train by synchronous data-parallel SGD over the processes of an MPI job: mpirun -np N theano train mlp --distributed (mlp, lenet, lstm).")
    var distributed = false

    @Flag(help: "With --distributed, check after every step that all processes hold the same parameters (every epoch otherwise).")
    var verifyEveryStep = false

    @Flag(help: "Print where each training step spends its time (bow).")
    var profile = false

    @Flag(help: "Run with the reference interpreter instead of the native backend.")
    var reference = false

    func validate() throws {
        for (name, value) in [("--epochs", epochs), ("--batch-size", batchSize), ("--hidden", hidden), ("--cd-steps", cdSteps), ("--documents", documents)] {
            if let value, value < 1 { throw ValidationError("\(name) must be at least 1, not \(value)") }
        }
        if depth < 0 { throw ValidationError("--depth must not be negative, not \(depth)") }
        if let learningRate, !(learningRate > 0) { throw ValidationError("--learning-rate must be positive, not \(learningRate)") }
        if bottleneck != nil, depth < 2 { throw ValidationError("--bottleneck needs --depth 2 or more (it goes between hidden layers)") }
        if optimizer != .sgd, model != .rnn { throw ValidationError("--optimizer hessian-free works with rnn") }
        if online, model != .rnnlm { throw ValidationError("--online works with rnnlm") }
        if distributed, ![.mlp, .lenet, .lstm].contains(model) { throw ValidationError("--distributed works with mlp, lenet and lstm") }
        if distributed, dropout > 0 || bottleneck != nil { throw ValidationError("--distributed trains the plain MLP (no --dropout or --bottleneck)") }
        if verifyEveryStep, !distributed { throw ValidationError("--verify-every-step works with --distributed") }
        if cell != nil || normStabilizer != nil, model != .charlm { throw ValidationError("--cell and --norm-stabilizer work with charlm") }
        if frames != nil, model != .tracker { throw ValidationError("--frames works with tracker") }
        if save != nil || resume != nil, ![.mlp, .logreg, .lenet].contains(model), !distributed {
            throw ValidationError("--save and --resume work with mlp, logreg and lenet")
        }
    }

    func run() throws {
        let options: CompileOptions = reference ? .default : .native
        let batchSize = self.batchSize ?? (model == .rbm ? 20 : 32)
        CurvePlot.shared.draw(to: plot)
        /// The options given, or the model's defaults.
        func settings(epochs defaultEpochs: Int, hidden defaultHidden: Int = 0, learningRate defaultRate: Double) -> TrainingSettings {
            TrainingSettings(epochs: epochs ?? defaultEpochs, batchSize: batchSize, hidden: hidden ?? defaultHidden,
                             learningRate: learningRate ?? defaultRate, seed: seed, options: options)
        }
        switch model {
        case .mlp where distributed:
            try DistributedTraining(settings: settings(epochs: 30, hidden: 32, learningRate: 0.1), model: .mlp(depth: depth, data: try loadData()),
                                    savePath: save, resumePath: resume, verifyEveryStep: verifyEveryStep).run()
        case .lenet where distributed:
            let settings = settings(epochs: 12, learningRate: 0.001)
            let images = try ClassifierTraining(settings: settings, data: try loadData(), l2: 0, savePath: nil, resumePath: nil).lenetImages()
            try DistributedTraining(settings: settings, model: .lenet(size: images.size, data: (images.train, images.test)),
                                    savePath: save, resumePath: resume, verifyEveryStep: verifyEveryStep).run()
        case .lstm where distributed:
            let settings = settings(epochs: 10, hidden: 32, learningRate: 1)
            let (train, test) = SequenceTraining(settings: settings).reberStreams()
            try DistributedTraining(settings: settings, model: .lstm(train: train, test: test, alphabet: EmbeddedReberGrammar().alphabet.count),
                                    savePath: save, resumePath: resume, verifyEveryStep: verifyEveryStep).run()
        case .rnn, .lstm:
            let training = SequenceTraining(settings: settings(epochs: 10, hidden: model == .rnn ? 128 : 32, learningRate: model == .rnn ? 0.3 : 1))
            if model == .rnn, optimizer == .hessianFree {
                try HessianFreeTraining(settings: training.settings, plotPath: plot).run()
            } else {
                try model == .rnn ? training.languageModel() : training.reber()
            }
        case .mlp, .logreg, .lenet, .dropoutAugment:
            let training = ClassifierTraining(settings: settings(epochs: model == .lenet ? 12 : 30, hidden: 32, learningRate: model == .logreg ? 0.5 : 0.1),
                                              data: try loadData(), l2: l2, savePath: save, resumePath: resume)
            switch model {
            case .logreg: try training.logisticRegression()
            case .mlp: try training.mlp(dropout: dropout, depth: depth, bottleneck: bottleneck)
            case .lenet: try training.lenet(learningRate: learningRate ?? 0.001)
            default: try training.dropoutAugmentation(dropout: dropout > 0 ? dropout : 0.5)
            }
        case .dae, .zae, .vae, .dvae:
            let training = GenerativeTraining(data: try loadData(), epochs: epochs, batchSize: batchSize, hidden: hidden,
                                              learningRate: learningRate, masking: masking, gaussianNoise: gaussianNoise, hiddenNoise: hiddenNoise,
                                              samplesPath: samples, seed: seed, options: options)
            switch model {
            case .dae: try training.denoisingAutoencoder()
            case .zae: try training.zeroBiasAutoencoders()
            default: try training.variationalAutoencoder(denoising: model == .dvae)
            }
        case .rbm:
            try RBMTraining(training: training, sampler: sampler, samplesPath: samples, hidden: hidden ?? 16, epochs: epochs ?? 60,
                            learningRate: learningRate ?? 0.05, batchSize: batchSize, cdSteps: cdSteps, seed: seed, options: options).run()
        case .charlm:
            try CharacterModelTraining(epochs: epochs, batchSize: batchSize, hidden: hidden ?? 128, learningRate: learningRate, seed: seed, options: options,
                                       cells: cell.map { [$0] } ?? CharacterLanguageModel.Cell.allCases,
                                       stabilizers: normStabilizer.map { [$0 > 0 ? $0 : nil] } ?? [nil, 50]).run()
        case .tracker:
            try TrackerTraining(settings: settings(epochs: 10, hidden: 64, learningRate: 0.003), framesDirectory: frames).run()
        case .rnnlm:
            try LanguageModelTraining(settings: settings(epochs: 8, hidden: 64, learningRate: 0.01), onlineRate: onlineRate, online: online).run()
        case .seqclass:
            try SequenceClassifierTraining(settings: settings(epochs: 20, hidden: 32, learningRate: 0.01), data: try loadData()).run()
        case .bow:
            try BagOfWordsTraining(settings: settings(epochs: 10, learningRate: 0.5), documents: documents, profile: profile).run()
        case .stochastic, .binaryconnect:
            let training = StochasticTraining(settings: settings(epochs: model == .stochastic ? 30 : 100, hidden: 64, learningRate: 0.1), data: try loadData())
            try model == .stochastic ? training.gatedClassifiers() : training.binaryConnect()
        }
    }

    private func loadData() throws -> (train: Dataset, test: Dataset) {
        if let data { return try Dataset.mnist(directory: data) }
        return try Dataset.digits().split(testFraction: 0.25, seed: seed)
    }
}

func fixed(_ value: Double) -> String { String(format: "%.4f", value) }
func nats(_ value: Double) -> String { String(format: "%.2f nats", value) }
func pad(_ value: Int, _ largest: Int) -> String {
    String(repeating: " ", count: String(largest).count - String(value).count) + String(value)
}
func format(_ duration: Duration) -> String {
    let seconds = seconds(duration)
    return seconds < 1 ? String(format: "%.1f ms", seconds * 1000) : String(format: "%.2f s", seconds)
}

/// The time `body` takes, printed as `compiled in …` for model construction.
func compiling<T>(_ body: () throws -> T) rethrows -> T {
    let started = ContinuousClock.now
    defer { print("compiled in \(format(ContinuousClock.now - started))") }
    return try body()
}
