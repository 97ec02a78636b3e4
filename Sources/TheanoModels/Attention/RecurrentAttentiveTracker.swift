import Theano

/// The Recurrent Attentive Tracking Model (Kahou, Michalski, Memisevic, 2015), small: at every
/// frame a ``GaussianGlimpse`` reads an `N×N` window where the model decided to look, a GRU
/// takes the glimpse, and a linear layer of its state says where to look in the next frame —
/// a shift of the window's centre (up to a quarter of the frame per step) and a rescaling of
/// its stride and variance. Given the object's centre in the first frame, it is trained by
/// Adam (clipped) on the squared distance between the window's centre and the object's in
/// every later frame, through the glimpses (the read is differentiable) and back in time.
public final class RecurrentAttentiveTracker {
    public let glimpse: GaussianGlimpse
    public let cell: GRUCell
    /// Hidden state → (shift x, shift y, log-scale of the stride, of the variance).
    public let locator: Dense
    /// The window's stride and variance before any rescaling.
    public let baseStride: Double, baseVariance: Double
    /// Everything training moves.
    public var parameters: [SharedVariable] { cell.parameters + locator.parameters }
    private let trainStep: Function, tracker: Function

    /// A tracker of `frameSize`² frames through `glimpseSize`² glimpses.
    public init(frameSize: Int, glimpseSize: Int = 8, hidden: Int = 64, baseStride: Double = 1.5, baseVariance: Double = 1,
                learningRate: Double = 0.003, seed: UInt64 = 1234, options: CompileOptions = .native) throws {
        var random = RandomState(seed: seed)
        glimpse = GaussianGlimpse(size: glimpseSize)
        cell = try GRUCell(inputs: glimpseSize * glimpseSize, hidden: hidden, name: "tracker", random: &random)
        locator = try Dense(hidden, 4, name: "locator", scale: 0.1, random: &random)
        (self.baseStride, self.baseVariance) = (baseStride, baseVariance)

        let frames = tensor4("frames", dtype: .float32, shape: (nil, nil, frameSize, frameSize)), start = matrix("start", dtype: .float32)
        let centers = tensor3("centers", dtype: .float32)
        let batch = try frames.shape[1]
        let h0 = try alloc(constant(0, dtype: .float32), sizes: [batch, constant(NDArray(scalar: Int64(hidden)))])
        let baseScales = constant(NDArray([Float(baseStride), Float(baseVariance)]))
        let scales = try alloc(baseScales, sizes: [batch, constant(NDArray(scalar: Int64(2)))])
        let a0 = try concatenate([start, scales], axis: 1)                                   // [batch, 4]: x, y, stride, variance
        let (glimpse, cell, locator, reach) = (self.glimpse, self.cell, self.locator, Double(frameSize) / 4)
        let loop = try scan(sequences: [ScanSequence(frames)], outputsInfo: [.recurrent(h0), .recurrent(a0)], name: "tracker") { v in
            let (frame, h, a) = (v[0], v[1], v[2])
            let seen = try glimpse.read(frame, x: a[.all, 0], y: a[.all, 1], stride: a[.all, 2], variance: a[.all, 3])
            let state = try cell(flatten(seen, ndim: 2), states: [h])[0]
            let raw = try tanh(locator(state))
            let next = try concatenate([a[.all, 0..<2] + reach * raw[.all, 0..<2],
                                        baseScales.dimshuffle(.newAxis, 0) * exp(raw[.all, 2..<4])], axis: 1)
            return [state, next]
        }
        // The window each frame was read through: the start, then each step's decision.
        let used = try concatenate([a0.dimshuffle(.newAxis, 0, 1), loop[1][..<(-1)]], axis: 0)   // [steps, batch, 4]
        let cost = try mean(sum(sqr(used[1..., .all, 0..<2] - centers[1...]), axis: 2))
        let updates = try Optimizer(.adam(), learningRate: .constant(learningRate), clipNorm: 5).updates(cost, parameters: cell.parameters + locator.parameters)
        trainStep = try function(inputs: [frames, start, centers], outputs: [cost], updates: updates, name: "train", options: options)
        tracker = try function(inputs: [frames, start], outputs: [used], name: "track", options: options)
    }

    /// One step on frames `[steps, batch, size, size]`, the first frame's centres `[batch, 2]`
    /// and every frame's `[steps, batch, 2]`; returns the cost (squared pixels).
    public func step(frames: NDArray, start: NDArray, centers: NDArray) throws -> Double {
        try trainStep(frames, start, centers)[0].scalar(as: Double.self)
    }

    /// The window each frame is read through, `[steps, batch, 4]`: centre x, y, stride, variance.
    public func track(frames: NDArray, start: NDArray) throws -> NDArray { try tracker(frames, start)[0] }
}
