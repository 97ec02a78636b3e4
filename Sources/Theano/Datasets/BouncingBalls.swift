import Foundation
import TheanoCore

/// Sequences of frames of one ball bouncing in a square box, generated from a seed: the
/// tracking task of the Recurrent Attentive Tracking Model.
///
/// The ball starts at a random position with a random velocity, moves by its velocity every
/// step and bounces off the walls elastically (the component normal to the wall reverses).
/// A frame is the ball drawn as a disc with an antialiased edge (pixel value
/// `clamp(radius + ½ − distance, 0, 1)` from the pixel's centre to the ball's).
public struct BouncingBalls: Sendable {
    /// Frames, `[sequences, steps, size, size]` float32 in [0, 1].
    public let frames: NDArray
    /// The ball's centre `(x, y)` in pixels at every frame, `[sequences, steps, 2]` float32.
    public let centers: NDArray
    /// The frames' side and the ball's radius, in pixels.
    public let size: Int, radius: Double

    public init(sequences: Int, steps: Int, size: Int = 32, radius: Double = 3, speed: ClosedRange<Double> = 1...2.5, seed: UInt64 = 1234) {
        var random = RandomState(seed: seed)
        var pixels = [Float](repeating: 0, count: sequences * steps * size * size), path = [Float](repeating: 0, count: sequences * steps * 2)
        let (low, high) = (radius, Double(size - 1) - radius)
        for s in 0..<sequences {
            var position = (x: low + random.nextUnit() * (high - low), y: low + random.nextUnit() * (high - low))
            let angle = 2 * Double.pi * random.nextUnit(), magnitude = speed.lowerBound + random.nextUnit() * (speed.upperBound - speed.lowerBound)
            var velocity = (x: magnitude * cos(angle), y: magnitude * sin(angle))
            for t in 0..<steps {
                let frame = (s * steps + t) * size * size
                for row in 0..<size {
                    for column in 0..<size {
                        let distance = ((Double(column) - position.x) * (Double(column) - position.x) + (Double(row) - position.y) * (Double(row) - position.y)).squareRoot()
                        pixels[frame + row * size + column] = Float(Swift.min(1, Swift.max(0, radius + 0.5 - distance)))
                    }
                }
                (path[(s * steps + t) * 2], path[(s * steps + t) * 2 + 1]) = (Float(position.x), Float(position.y))
                // Move, reflecting off the walls.
                position.x += velocity.x
                position.y += velocity.y
                if position.x < low { (position.x, velocity.x) = (2 * low - position.x, -velocity.x) }
                if position.x > high { (position.x, velocity.x) = (2 * high - position.x, -velocity.x) }
                if position.y < low { (position.y, velocity.y) = (2 * low - position.y, -velocity.y) }
                if position.y > high { (position.y, velocity.y) = (2 * high - position.y, -velocity.y) }
            }
        }
        frames = NDArray(pixels, shape: [sequences, steps, size, size])
        centers = NDArray(path, shape: [sequences, steps, 2])
        (self.size, self.radius) = (size, radius)
    }
}

extension BouncingBalls {
    /// The sequences `indices` time-major, as a recurrent model reads them: frames
    /// `[steps, batch, size, size]`, the first frame's centres `[batch, 2]` and every frame's
    /// `[steps, batch, 2]`.
    public func batch(_ indices: [Int]) -> (frames: NDArray, start: NDArray, centers: NDArray) {
        let centers = self.centers.rows(indices).transposed([1, 0, 2]).contiguousCopy()
        return (frames.rows(indices).transposed([1, 0, 2, 3]).contiguousCopy(), self.centers.rows(indices).sliced(axis: 1, start: 0, count: 1, step: 1)
                    .reshaped([indices.count, 2]).contiguousCopy(), centers)
    }
}

/// The intersection over union of two axis-aligned boxes, each `(minX, minY, maxX, maxY)`:
/// 0 when they do not overlap, 1 when they are the same.
public func intersectionOverUnion(_ a: (Double, Double, Double, Double), _ b: (Double, Double, Double, Double)) -> Double {
    let width = Swift.max(0, Swift.min(a.2, b.2) - Swift.max(a.0, b.0)), height = Swift.max(0, Swift.min(a.3, b.3) - Swift.max(a.1, b.1))
    let intersection = width * height
    let union = (a.2 - a.0) * (a.3 - a.1) + (b.2 - b.0) * (b.3 - b.1) - intersection
    return union > 0 ? intersection / union : 0
}
