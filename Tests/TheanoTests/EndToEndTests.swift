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
