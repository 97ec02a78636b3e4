import Foundation
import Testing
@testable import Theano
import TheanoModels
import TheanoTestSupport

// The pieces of the Recurrent Attentive Tracking Model: the Gaussian filterbank read against a
// direct computation, its gradients by finite differences, the bouncing-ball generator, and
// intersection over union.

@Suite("Attention and tracking data")
struct AttentionTests {
    /// The read equals `F_y · image · F_xᵀ` computed element by element, each filter summing to 1.
    @Test func glimpsesMatchTheDirectFilterbank() throws {
        let (n, height, width) = (3, 5, 6)
        var random = RandomState(seed: 3)
        let images = NDArray.uniform([2, height, width], dtype: .float64, using: &random)
        let (xs, ys, strides, variances) = ([2.5, 1.0], [1.5, 3.2], [1.2, 0.7], [0.8, 1.5])
        let v = (0..<5).map { i in i == 0 ? tensor3("images", dtype: .float64) : vector(dtype: .float64) }
        let images3 = try reshape(v[0], [2, height, width])
        let glimpse = GaussianGlimpse(size: n)
        let f = try function(inputs: v, outputs: [glimpse.read(images3, x: v[1], y: v[2], stride: v[3], variance: v[4]),
                                                  glimpse.filterbank(center: v[1], stride: v[3], variance: v[4], length: width)])
        let results = try f([images, NDArray(xs), NDArray(ys), NDArray(strides), NDArray(variances)])
        let (read, bank) = (results[0].elements(as: Double.self), results[1].elements(as: Double.self))
        let pixels = images.elements(as: Double.self)
        func filters(_ center: Double, _ stride: Double, _ variance: Double, _ length: Int) -> [[Double]] {
            (0..<n).map { i in
                let mean = center + (Double(i) - Double(n - 1) / 2) * stride
                let row = (0..<length).map { a in Foundation.exp(-(Double(a) - mean) * (Double(a) - mean) / (2 * variance)) }
                let total = row.reduce(0, +)
                return row.map { $0 / total }
            }
        }
        for b in 0..<2 {
            let fy = filters(ys[b], strides[b], variances[b], height), fx = filters(xs[b], strides[b], variances[b], width)
            for i in 0..<n {
                #expect(abs((0..<width).reduce(0) { $0 + bank[(b * n + i) * width + $1] } - 1) < 1e-12)
                for j in 0..<n {
                    var expected = 0.0
                    for r in 0..<height { for c in 0..<width { expected += fy[i][r] * pixels[(b * height + r) * width + c] * fx[j][c] } }
                    #expect(abs(read[(b * n + i) * n + j] - expected) < 1e-12)
                }
            }
        }
    }

    /// Gradients of the read with respect to the image and every attention parameter agree
    /// with finite differences in float64.
    @Test func glimpseGradientsMatchFiniteDifferences() throws {
        var random = RandomState(seed: 4)
        let point = [NDArray.uniform([2, 5, 6], dtype: .float64, using: &random), NDArray([2.5, 1.0]), NDArray([1.5, 3.2]), NDArray([1.2, 0.7]), NDArray([0.8, 1.5])]
        try verifyGrad({ v in
            try GaussianGlimpse(size: 3).read(reshape(v[0], [2, 5, 6]), x: v[1], y: v[2], stride: v[3], variance: v[4])
        }, at: point)
    }

    /// The generator repeats itself for a seed, keeps the ball inside the box, draws it where
    /// it says, and moves it by a constant speed between bounces.
    @Test func bouncingBallsAreReproducibleAndInside() {
        let balls = BouncingBalls(sequences: 3, steps: 30, size: 24, radius: 2.5, seed: 9)
        let again = BouncingBalls(sequences: 3, steps: 30, size: 24, radius: 2.5, seed: 9)
        #expect(balls.frames == again.frames && balls.centers == again.centers && balls.frames.shape == [3, 30, 24, 24])
        let centers = balls.centers.elements(as: Float.self), frames = balls.frames.elements(as: Float.self)
        for k in 0..<(3 * 30) {
            let (x, y) = (Double(centers[2 * k]), Double(centers[2 * k + 1]))
            #expect(x >= 2.5 - 1e-4 && x <= 20.5 + 1e-4 && y >= 2.5 - 1e-4 && y <= 20.5 + 1e-4)
            let (row, column) = (Int(y.rounded()), Int(x.rounded()))
            #expect(frames[k * 576 + row * 24 + column] > 0.9, "the pixel nearest the centre is lit")
            #expect(frames[k * 576] == 0, "a corner is dark")
        }
    }

    /// Intersection over union of boxes by hand.
    @Test func intersectionOverUnionByHand() {
        #expect(intersectionOverUnion((0, 0, 2, 2), (0, 0, 2, 2)) == 1)
        #expect(intersectionOverUnion((0, 0, 2, 2), (1, 1, 3, 3)) == 1.0 / 7)
        #expect(intersectionOverUnion((0, 0, 1, 1), (2, 2, 3, 3)) == 0)
    }
}

@Suite("Recurrent attentive tracker")
struct RecurrentAttentiveTrackerTests {
    /// Trained through its glimpses, the tracker's windows follow the ball better than they
    /// did; each frame gets a window, the first where the ball starts.
    @Test func trainingBringsTheWindowsToTheBall() throws {
        let balls = BouncingBalls(sequences: 8, steps: 6, size: 16, radius: 2, seed: 5)
        let batch = balls.batch(Array(0..<8))
        let model = try RecurrentAttentiveTracker(frameSize: 16, glimpseSize: 4, hidden: 8, learningRate: 0.01, seed: 2, options: .default)
        let first = try model.step(frames: batch.frames, start: batch.start, centers: batch.centers)
        var last = first
        for _ in 0..<40 { last = try model.step(frames: batch.frames, start: batch.start, centers: batch.centers) }
        #expect(last < 0.5 * first, "cost \(first) → \(last)")
        let windows = try model.track(frames: batch.frames, start: batch.start)
        #expect(windows.shape == [6, 8, 4])
        let w = windows.elements(as: Float.self), start = batch.start.elements(as: Float.self)
        for b in 0..<8 {
            let window = Array(w[(4 * b)..<(4 * b + 3)]), ball = Array(start[(2 * b)..<(2 * b + 2)])
            #expect(window == ball + [1.5])
        }
    }
}
