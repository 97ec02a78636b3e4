import Theano

/// The zero-bias autoencoder of Memisevic, Konda and Krueger ("Zero-bias autoencoders and the
/// benefits of co-adapting features", 2015): hidden units without biases, whose
/// nonlinearity passes a unit's input only where it clears a threshold θ — the thresholded
/// rectifier `TRec(z) = z · [z > θ]` or the thresholded linear unit `TLin(z) = z · [|z| > θ]`
/// — and a linear decoder with tied weights, `r = h · Wᵀ`, trained on the squared error.
/// `Encoder.standard` is the usual autoencoder to compare with (``TiedAutoencoder``):
/// sigmoid hidden units with biases, decoder biases.
public final class PatchAutoencoder {
    /// The hidden units.
    public enum Encoder: Sendable {
        /// Thresholded rectifier, no biases.
        case thresholdedRectifier(threshold: Double)
        /// Thresholded linear, no biases.
        case thresholdedLinear(threshold: Double)
        /// Sigmoid units with biases (and decoder biases).
        case standard
    }

    /// `W`, `b` and `c`; the zero-bias encoders train `W` alone (the biases stay 0 and unused).
    public let autoencoder: TiedAutoencoder
    private let trainStep: Function
    private let features: Function

    /// Builds and compiles the model.
    public init(visible: Int, hidden: Int, encoder: Encoder, learningRate: Double, seed: UInt64 = 1234,
                options: CompileOptions = .default) throws {
        var random = RandomState(seed: seed)
        let autoencoder = try TiedAutoencoder(visible: visible, hidden: hidden, random: &random)
        self.autoencoder = autoencoder
        let x = matrix("x", shape: (nil, visible)), weights = autoencoder.encoder.weights
        let (code, reconstruction, parameters): (Variable, Variable, [SharedVariable])
        switch encoder {
        case .standard:
            (code, reconstruction, parameters) = (try autoencoder.encode(x), try autoencoder.reconstruct(x), autoencoder.parameters)
        case .thresholdedRectifier(let threshold), .thresholdedLinear(let threshold):
            // A unit passes its input `z` where it clears the threshold (its magnitude, for TLin).
            let z = try dot(x, weights)
            let clears = if case .thresholdedRectifier = encoder { try gt(z, threshold) } else { try gt(abs(z), threshold) }
            code = try z * cast(clears, to: z.dtype)
            (reconstruction, parameters) = (try dot(code, weights.T), [weights])
        }
        let cost = try mean(sum(sqr(reconstruction - x), axis: 1))
        trainStep = try function(inputs: [x], outputs: [cost], updates: Optimizer(.sgd, learningRate: .constant(learningRate)).updates(cost, parameters: parameters),
                                 name: "train_autoencoder", options: options)
        features = try function(inputs: [x], outputs: [code], name: "features", options: options)
    }

    /// One SGD step on a minibatch of patches; returns its squared reconstruction error.
    public func step(_ patches: NDArray) throws -> Double { try trainStep(patches)[0].scalar(as: Double.self) }

    /// The hidden code of each row of `patches`.
    public func encode(_ patches: NDArray) throws -> NDArray { try features(patches)[0] }
}

/// Square patches of square images: each row of `images` (`side × side` pixels, row-major)
/// cut into the `patch × patch` windows at every `stride` pixels, the windows of an image
/// consecutive, as rows.
public func imagePatches(_ images: NDArray, side: Int, patch: Int, stride: Int) throws -> NDArray {
    guard images.ndim == 2, images.shape[1] == side * side, patch <= side, patch > 0, stride > 0 else {
        throw TheanoError.data(path: "", reason: "cannot cut \(patch)×\(patch) patches at stride \(stride) from \(images.shape) images of side \(side)")
    }
    let values = images.elements(as: Float.self), positions = Swift.stride(from: 0, through: side - patch, by: stride).map { $0 }
    var rows: [Float] = []
    rows.reserveCapacity(images.shape[0] * positions.count * positions.count * patch * patch)
    for image in 0..<images.shape[0] {
        for top in positions {
            for left in positions {
                for y in 0..<patch { rows += values[(image * side * side + (top + y) * side + left)...].prefix(patch) }
            }
        }
    }
    return NDArray(rows, shape: [images.shape[0] * positions.count * positions.count, patch * patch])
}
