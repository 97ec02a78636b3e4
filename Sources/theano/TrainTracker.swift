import Foundation
import Theano
import TheanoModels

/// `theano train tracker`: the Recurrent Attentive Tracking Model on generated bouncing
/// balls; reports the held-out intersection over union of the attention window and the ball
/// (from the second frame on: the first is given), and with `--frames DIR` writes the first
/// held-out sequence's frames with the window drawn as PNG files.
struct TrackerTraining: TrainingDriver {
    let settings: TrainingSettings
    let framesDirectory: String?
    let steps = 20, size = 32, glimpseSize = 8

    func run() throws {
        let train = BouncingBalls(sequences: 800, steps: steps, size: size, seed: seed)
        let test = BouncingBalls(sequences: 100, steps: steps, size: size, seed: seed + 1)
        print("recurrent attentive tracker: \(glimpseSize)×\(glimpseSize) Gaussian glimpses of \(size)×\(size) frames, a GRU of \(hidden) units; "
              + "800 training and 100 held-out sequences of \(steps) frames (ball radius \(train.radius))")
        let model = try compiling {
            try RecurrentAttentiveTracker(frameSize: size, glimpseSize: glimpseSize, hidden: hidden, learningRate: learningRate, seed: seed, options: options)
        }
        var random = RandomState(seed: seed)
        let held = test.batch(Array(0..<100))
        try trainEpochs(epochs, title: "tracker") { _ in
            let loss = try meanOverMinibatches(count: 800, batchSize: batchSize, random: &random) { indices in
                let batch = train.batch(indices)
                return try model.step(frames: batch.frames, start: batch.start, centers: batch.centers)
            }
            return EpochReport(loss: loss, ["held-out IoU": try meanIntersectionOverUnion(model.track(frames: held.frames, start: held.start), held.centers, radius: test.radius)])
        }
        let windows = try model.track(frames: held.frames, start: held.start)
        if let framesDirectory { try drawFrames(held.frames, windows, to: framesDirectory) }
        print("held-out intersection over union: \(fixed(meanIntersectionOverUnion(windows, held.centers, radius: test.radius)))")
    }

    /// The window of side `N · stride` around each centre against the ball's box, averaged over
    /// the frames after the first.
    private func meanIntersectionOverUnion(_ windows: NDArray, _ centers: NDArray, radius: Double) -> Double {
        let w = windows.elements(as: Float.self).map(Double.init), c = centers.elements(as: Float.self).map(Double.init)
        let (count, batch) = (windows.shape[0], windows.shape[1])
        var total = 0.0
        for t in 1..<count {
            for b in 0..<batch {
                let k = t * batch + b, half = Double(glimpseSize) * w[4 * k + 2] / 2
                total += intersectionOverUnion((w[4 * k] - half, w[4 * k + 1] - half, w[4 * k] + half, w[4 * k + 1] + half),
                                               (c[2 * k] - radius, c[2 * k + 1] - radius, c[2 * k] + radius, c[2 * k + 1] + radius))
            }
        }
        return total / Double((count - 1) * batch)
    }

    /// The first sequence's frames with the window's outline in grey, one PNG per frame.
    private func drawFrames(_ frames: NDArray, _ windows: NDArray, to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let batch = frames.shape[1], pixels = frames.elements(as: Float.self).map(Double.init), w = windows.elements(as: Float.self).map(Double.init)
        for t in 0..<frames.shape[0] {
            var image = Array(pixels[((t * batch) * size * size)..<((t * batch + 1) * size * size)])
            let k = t * batch, half = Double(glimpseSize) * w[4 * k + 2] / 2
            let (left, right) = (Int((w[4 * k] - half).rounded()), Int((w[4 * k] + half).rounded()))
            let (top, bottom) = (Int((w[4 * k + 1] - half).rounded()), Int((w[4 * k + 1] + half).rounded()))
            for x in Swift.max(0, left)...Swift.min(size - 1, Swift.max(0, right)) {
                for y in [top, bottom] where (0..<size).contains(y) { image[y * size + x] = 0.5 }
            }
            for y in Swift.max(0, top)...Swift.min(size - 1, Swift.max(0, bottom)) {
                for x in [left, right] where (0..<size).contains(x) { image[y * size + x] = 0.5 }
            }
            let grid = try ImageGrid(images: NDArray(image, shape: [1, size * size]), imageWidth: size, imageHeight: size, columns: 1, scale: 8)
            try grid.write(to: "\(directory)/frame-\(String(format: "%02d", t)).png")
        }
        print("wrote \(frames.shape[0]) frames to \(directory)")
    }
}
