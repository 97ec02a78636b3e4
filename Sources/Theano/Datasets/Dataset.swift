import Foundation
import TheanoCore
import TheanoOps
import TheanoOptimizer
import TheanoAutodiff
import TheanoNative
import TheanoLoops

/// A labelled classification data set: one example per row of `images`, pixel values scaled
/// to `[0, 1]`, and integer class labels.
public struct Dataset: Sendable {
    /// Examples × features, `float32` in `[0, 1]`.
    public var images: NDArray
    /// One `int64` class per example.
    public var labels: NDArray
    /// The number of classes.
    public var classes: Int

    /// The number of examples.
    public var count: Int { images.shape[0] }
    /// The number of features (pixels) per example.
    public var features: Int { images.shape[1] }

    /// Pairs IDX images (any rank, flattened per example) with IDX labels; pixels are divided
    /// by `maximum` (the largest raw value, 16 for the digits and 255 for MNIST).
    public init(images: NDArray, labels: NDArray, maximum: Double) throws {
        guard images.shape.first == labels.shape.first, labels.ndim == 1 else {
            throw TheanoError.data(path: "", reason: "\(images.shape.first ?? 0) images but \(labels.shape.first ?? 0) labels")
        }
        let count = images.shape[0]
        let pixels = images.elements(as: Double.self).map { Float($0 / maximum) }
        self.images = NDArray(pixels, shape: [count, images.count / Swift.max(count, 1)])
        self.labels = labels.cast(to: .int64)
        self.classes = Int(labels.elements(as: Int64.self).max() ?? 0) + 1
    }

    /// The UCI optical handwritten digits bundled with the library: 1,797 8×8 images of
    /// digits 0–9 (E. Alpaydin and C. Kaynak, 1998; CC BY 4.0).
    public static func digits() throws -> Dataset {
        func resource(_ name: String) throws -> NDArray {
            guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Resources") else {
                throw TheanoError.data(path: name, reason: "the bundled resource is missing")
            }
            return try IDXFile.read(url.path)
        }
        return try Dataset(images: resource("digits-images.idx3-ubyte"), labels: resource("digits-labels.idx1-ubyte"), maximum: 16)
    }

    /// MNIST from the four IDX files in `directory` (`train-images-idx3-ubyte`, …):
    /// returns the training and test sets.
    public static func mnist(directory: String) throws -> (train: Dataset, test: Dataset) {
        func load(_ prefix: String) throws -> Dataset {
            try Dataset(images: IDXFile.read("\(directory)/\(prefix)-images-idx3-ubyte"),
                        labels: IDXFile.read("\(directory)/\(prefix)-labels-idx1-ubyte"), maximum: 255)
        }
        return (try load("train"), try load("t10k"))
    }

    /// The examples at `rows`, in that order.
    public func subset(_ rows: [Int]) -> Dataset {
        var copy = self
        copy.images = images.rows(rows)
        copy.labels = labels.rows(rows)
        return copy
    }

    /// The same examples with each pixel set to 1 where it exceeds `threshold`, else 0: the
    /// binary data of the models over binary units (RBMs, Bernoulli decoders).
    public func binarized(threshold: Double = 0.5) -> Dataset {
        var copy = self
        copy.images = NDArray(images.elements(as: Float.self).map { Double($0) > threshold ? Float(1) : 0 }, shape: images.shape)
        return copy
    }

    /// These examples followed by `other`'s (of the same width).
    public func appending(_ other: Dataset) -> Dataset {
        var copy = self
        copy.images = NDArray(images.elements(as: Float.self) + other.images.elements(as: Float.self), shape: [count + other.count, features])
        copy.labels = NDArray(labels.elements(as: Int64.self) + other.labels.elements(as: Int64.self))
        copy.classes = Swift.max(classes, other.classes)
        return copy
    }

    /// A shuffled split: the first `1 - testFraction` of the examples for training, the rest
    /// for testing.
    public func split(testFraction: Double, seed: UInt64) -> (train: Dataset, test: Dataset) {
        var random = RandomState(seed: seed)
        let order = Array(0..<count).shuffled(using: &random)
        let cut = count - Int((Double(count) * testFraction).rounded())
        return (subset(Array(order[..<cut])), subset(Array(order[cut...])))
    }
}

extension NDArray {
    /// The rows (slices along the first dimension) at `indices`, as a new array.
    public func rows(_ indices: [Int]) -> NDArray {
        let source = contiguous()
        let rowBytes = shape.dropFirst().reduce(1, *) * dtype.byteSize
        let out = NDArray(uninitialized: [indices.count] + shape.dropFirst(), dtype: dtype)
        out.withUnsafeMutableRawPointer { target in
            source.withUnsafeRawPointer { source in
                for (i, row) in indices.enumerated() { (target + i * rowBytes).copyMemory(from: source + row * rowBytes, byteCount: rowBytes) }
            }
        }
        return out
    }
}
