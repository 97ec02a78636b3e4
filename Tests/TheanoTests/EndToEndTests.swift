import Foundation
import Testing
import Theano
import TheanoModels

@Test func trainsLogisticRegressionOnDigits() throws {
    let (train, test) = try Dataset.digits().split(testFraction: 0.25, seed: 7)
    let model = try Classifier(sizes: [64, 10], learningRate: 0.5)
    var random = RandomState(seed: 1)
    var loss = 0.0
    for _ in 0..<10 { loss = try model.trainEpoch(on: train, batchSize: 32, random: &random) }
    let accuracy = try model.accuracy(on: test)
    print("loss", loss, "accuracy", accuracy)
    #expect(accuracy > 0.9)
}

@Test func trainsOnMNISTFilesFromADirectory() throws {
    // A tiny MNIST-shaped data set: 28×28 images whose class is the row of a bright bar.
    let directory = "/tmp/theano-mnist-\(UInt64.random(in: 0...UInt64.max))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    func write(_ prefix: String, count: Int) throws {
        var pixels = [UInt8](repeating: 0, count: count * 28 * 28), labels: [UInt8] = []
        for i in 0..<count {
            let label = i % 10
            labels.append(UInt8(label))
            for column in 0..<28 { pixels[i * 784 + (label * 2 + 4) * 28 + column] = 255 }
        }
        try IDXFile.write(NDArray(pixels, shape: [count, 28, 28]), to: "\(directory)/\(prefix)-images-idx3-ubyte")
        try IDXFile.write(NDArray(labels), to: "\(directory)/\(prefix)-labels-idx1-ubyte")
    }
    try write("train", count: 100)
    try write("t10k", count: 30)
    let (train, test) = try Dataset.mnist(directory: directory)
    #expect(train.count == 100 && train.features == 784 && test.count == 30 && train.classes == 10)
    let model = try Classifier(sizes: [784, 10], learningRate: 0.5)
    var random = RandomState(seed: 3)
    for _ in 0..<5 { _ = try model.trainEpoch(on: train, batchSize: 10, random: &random) }
    #expect(try model.accuracy(on: test) == 1)
}
