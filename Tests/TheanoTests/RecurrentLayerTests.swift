import Foundation
import Testing
@testable import Theano
@testable import TheanoCore
import TheanoModels
import TheanoTestSupport

// The recurrent layers library (Sources/TheanoModels/Recurrent): each cell over a sequence
// against the same equations unrolled by hand, gradients by finite differences in float64,
// masks proven inert, truncated backpropagation against the unrolled gradient with the early
// steps held constant, and the losses and helpers.

/// Float64 arrays drawn from `seed`.
private func draws(_ shapes: [[Int]], seed: UInt64, scale: Double = 0.5) -> [NDArray] {
    var random = RandomState(seed: seed)
    return shapes.map { NDArray.uniform($0, low: -scale, high: scale, dtype: .float64, using: &random) }
}

/// `outputs` computed from `inputs` at `values`.
private func evaluate(_ inputs: [Variable], _ outputs: [Variable], _ values: [NDArray]) throws -> [NDArray] {
    try function(inputs: inputs, outputs: outputs)(values)
}

/// A float64 placeholder of `value`'s static shape.
private func placeholder(_ value: NDArray) -> Variable { tensor(dtype: .float64, shape: value.shape) }

@Suite("Recurrent layers")
struct RecurrentLayerTests {
    static let (steps, batch, inputs, hidden) = (5, 3, 4, 6)

    /// The cells and, for each, the step written out by hand from its weights.
    static func cells(_ w: [Variable]) throws -> [(name: String, cell: any RecurrentCell, step: (Variable, [Variable]) throws -> [Variable])] {
        let n = hidden
        func slice(_ z: Variable, _ k: Int) throws -> Variable { try z[.all, (k * n)..<((k + 1) * n)] }
        return [
            ("elman", try ElmanCell(inputWeights: w[0], recurrentWeights: w[1], bias: w[2]), { x, s in
                [try tanh(dot(x, w[0]) + dot(s[0], w[1]) + w[2])]
            }),
            ("relu elman", try ElmanCell(inputWeights: w[0], recurrentWeights: w[1], bias: w[2], activation: .relu), { x, s in
                [try relu(dot(x, w[0]) + dot(s[0], w[1]) + w[2])]
            }),
            ("lstm with peepholes", try LSTMCell(inputWeights: w[3], recurrentWeights: w[4], bias: w[5], peepholes: w[6]), { x, s in
                let z = try dot(x, w[3]) + dot(s[0], w[4]) + w[5]
                let i = try sigmoid(slice(z, 0) + w[6][0] * s[1]), f = try sigmoid(slice(z, 1) + w[6][1] * s[1])
                let c = try f * s[1] + i * tanh(slice(z, 3))
                return [try sigmoid(slice(z, 2) + w[6][2] * c) * tanh(c), c]
            }),
            ("lstm", try LSTMCell(inputWeights: w[3], recurrentWeights: w[4], bias: w[5]), { x, s in
                let z = try dot(x, w[3]) + dot(s[0], w[4]) + w[5]
                let c = try sigmoid(slice(z, 1)) * s[1] + sigmoid(slice(z, 0)) * tanh(slice(z, 3))
                return [try sigmoid(slice(z, 2)) * tanh(c), c]
            }),
            ("gru", try GRUCell(inputWeights: w[7], gateWeights: w[8], candidateWeights: w[9], bias: w[10]), { x, s in
                let a = try dot(x, w[7]) + w[10]
                let z = try sigmoid(slice(a, 0) + dot(s[0], w[8][.all, 0..<n]))
                let r = try sigmoid(slice(a, 1) + dot(s[0], w[8][.all, n..<(2 * n)]))
                let candidate = try tanh(slice(a, 2) + dot(r * s[0], w[9]))
                return [try (1 - z) * candidate + z * s[0]]
            }),
        ]
    }

    /// The weights of every cell, then the sequence.
    static let weightShapes = [[inputs, hidden], [hidden, hidden], [hidden], [inputs, 4 * hidden], [hidden, 4 * hidden], [4 * hidden],
                               [3, hidden], [inputs, 3 * hidden], [hidden, 2 * hidden], [hidden, hidden], [3 * hidden]]

    /// Each cell in a ``Sequencer`` (forwards and backwards, from given initial states) gives
    /// what its equations unrolled step by step give.
    @Test func sequencersMatchTheUnrolledEquations() throws {
        let values = draws(Self.weightShapes + [[Self.steps, Self.batch, Self.inputs], [Self.batch, Self.hidden], [Self.batch, Self.hidden]], seed: 1)
        let variables = values.map(placeholder)
        let (x, h0, c0) = (variables[11], variables[12], variables[13])
        for (name, cell, step) in try Self.cells(variables) {
            let start = Array([h0, c0].prefix(cell.stateCount))
            for backwards in [false, true] {
                let output = try Sequencer(cell, goBackwards: backwards)(x, initialStates: start)
                var states = start, unrolled = [Variable](repeating: h0, count: Self.steps)
                for t in backwards ? Array((0..<Self.steps).reversed()) : Array(0..<Self.steps) {
                    states = try step(x[t], states)
                    unrolled[t] = states[0]
                }
                let results = try evaluate(variables, [output.outputs, stack(unrolled)] + output.finalStates + states, values)
                #expect(results[0].isClose(to: results[1], rtol: 1e-12, atol: 1e-12), "\(name), backwards \(backwards)")
                for k in 0..<cell.stateCount {
                    #expect(results[2 + k].isClose(to: results[2 + cell.stateCount + k], rtol: 1e-12, atol: 1e-12), "\(name) final state \(k)")
                }
            }
        }
    }

    /// The gradient of every cell's masked sequence with respect to the sequence, the initial
    /// states and every weight agrees with finite differences in float64.
    @Test func gradientsMatchFiniteDifferences() throws {
        let mask = NDArray([1.0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 0, 1, 0, 0], shape: [Self.steps, Self.batch])
        let full = draws(Self.weightShapes + [[Self.steps, Self.batch, Self.inputs], [Self.batch, Self.hidden], [Self.batch, Self.hidden]], seed: 5)
        // The weights each cell reads, then the sequence and its initial states.
        let used = [[0, 1, 2, 11, 12], [0, 1, 2, 11, 12], [3, 4, 5, 6, 11, 12, 13], [3, 4, 5, 11, 12, 13], [7, 8, 9, 10, 11, 12]]
        for (index, positions) in used.enumerated() {
            try verifyGrad({ v in
                var all = full.map { constant($0) as Variable }
                // verifyGrad's inputs have unknown sizes; the cells need the hidden size.
                for (k, position) in positions.enumerated() { all[position] = try reshape(v[k], full[position].shape) }
                let cell = try Self.cells(all)[index].cell
                let start = Array([all[12], all[13]].prefix(cell.stateCount))
                let output = try Sequencer(cell, normStabilizer: 0.5)(all[11], mask: constant(mask), initialStates: start)
                return try output.outputs * 1.5 + output.penalty + sum(output.finalStates.last!)
            }, at: positions.map { full[$0] })
        }
    }

    /// A sequence padded at its end, with garbage in the padding, ends with the states of its
    /// last real step and costs what it costs alone; going backwards, its outputs at the real
    /// steps are those of the unpadded sequence.
    @Test func masksAreInert() throws {
        var random = RandomState(seed: 9)
        let cell = try LSTMCell(inputs: Self.inputs, hidden: Self.hidden, peepholes: true, dtype: .float64, random: &random)
        let x = tensor3("x", dtype: .float64), m = matrix("m", dtype: .float64)
        let labels = matrix("labels", dtype: .int64)
        let forward = try Sequencer(cell, normStabilizer: 0.3)(x, mask: m), backward = try Sequencer(cell, goBackwards: true)(x, mask: m)
        let logits = try forward.outputs[.all, .all, 0..<4]
        let cost = try sequenceCrossentropy(logits, labels, mask: m) + forward.penalty
        let f = try function(inputs: [x, m, labels], outputs: [forward.finalStates[0], forward.finalStates[1], cost, backward.outputs])
        let real = draws([[3, 1, Self.inputs]], seed: 2)[0], garbage = draws([[2, 1, Self.inputs]], seed: 3, scale: 50)[0]
        let padded = NDArray(real.elements(as: Double.self) + garbage.elements(as: Double.self), shape: [5, 1, Self.inputs])
        let targets = NDArray([1, 3, 0] as [Int64], shape: [3, 1])
        let alone = try f([real, NDArray([1.0, 1, 1], shape: [3, 1]), targets])
        let withPadding = try f([padded, NDArray([1.0, 1, 1, 0, 0], shape: [5, 1]), NDArray([1, 3, 0, 2, 2] as [Int64], shape: [5, 1])])
        for k in 0..<3 { #expect(withPadding[k].isClose(to: alone[k], rtol: 1e-12, atol: 1e-12), "output \(k)") }
        #expect(withPadding[3].slicedSteps(0..<3).isClose(to: alone[3], rtol: 1e-12, atol: 1e-12), "backward outputs at the real steps")
    }

    /// Chunks of a long sequence, each starting from the states the last one carried:
    /// the forward states match the whole sequence's, and each chunk's gradient is the
    /// unrolled gradient of its steps with the states entering it held constant.
    @Test func truncatedBackpropagationMatchesTheUnrolledGradient() throws {
        var random = RandomState(seed: 4)
        let cell = try GRUCell(inputs: Self.inputs, hidden: Self.hidden, dtype: .float64, random: &random)
        let carried = try CarriedState(for: [cell], batch: Self.batch)
        let chunk = tensor3("chunk", dtype: .float64)
        let output = try Sequencer(cell)(chunk, initialStates: carried.variables)
        let cost = try sum(sqr(output.outputs))
        let train = try function(inputs: [chunk], outputs: [cost] + grad(cost, wrt: cell.parameters), updates: carried.updates(output.finalStates))

        let whole = tensor3("whole", dtype: .float64)
        let first = try Sequencer(cell)(whole[0..<3]), held = try disconnectedGrad(first.finalStates[0])
        let second = try Sequencer(cell)(whole[3..<6], initialStates: [held])
        let unrolledCost = try sum(sqr(second.outputs))
        let unrolled = try function(inputs: [whole], outputs: [unrolledCost] + grad(unrolledCost, wrt: cell.parameters))

        let sequence = draws([[6, Self.batch, Self.inputs]], seed: 8)[0]
        _ = try train([sequence.slicedSteps(0..<3)])
        let chunked = try train([sequence.slicedSteps(3..<6)]), expected = try unrolled([sequence])
        for (a, e) in zip(chunked, expected) { #expect(a.isClose(to: e, rtol: 1e-12, atol: 1e-12)) }
        try carried.reset()
        #expect(carried.variables[0].value == NDArray(zeros: [Self.batch, Self.hidden], dtype: .float64))
    }

    /// A repeater is a sequencer over its input repeated; a stack is its sequencers in turn;
    /// a bidirectional layer concatenates (or sums) the two directions.
    @Test func repeatersStacksAndBidirectionalLayersCompose() throws {
        var random = RandomState(seed: 6)
        let lower = try ElmanCell(inputs: Self.inputs, hidden: Self.hidden, dtype: .float64, random: &random)
        let upper = try LSTMCell(inputs: Self.hidden, hidden: 2, dtype: .float64, random: &random)
        let x = tensor3("x", dtype: .float64), row = matrix("row", dtype: .float64)
        let repeater = try Repeater(lower, normStabilizer: 0.7)(row, steps: constant(NDArray(scalar: Int64(4))))
        let repeated = repeater.outputs, penaltyByHand = try normStabilizerPenalty(repeated, beta: 0.7)
        let tiled = try Sequencer(lower)(alloc(row, sizes: [constant(NDArray(scalar: Int64(4))), row.shape[0], row.shape[1]])).outputs
        let stacked = try RecurrentStack([Sequencer(lower), Sequencer(upper)])(x).outputs
        let byHand = try Sequencer(upper)(Sequencer(lower)(x).outputs).outputs
        let both = try BiSequencer(forward: lower, backward: lower, merge: .sum)(x).outputs
        let bySum = try Sequencer(lower)(x).outputs + Sequencer(lower, goBackwards: true)(x).outputs
        let concatenated = try BiSequencer(forward: lower, backward: lower)(x).outputs
        let values = draws([[Self.steps, Self.batch, Self.inputs], [Self.batch, Self.inputs]], seed: 12)
        let r = try evaluate([x, row], [repeated, tiled, stacked, byHand, both, bySum, concatenated, repeater.penalty, penaltyByHand], values)
        #expect(r[7].scalar(as: Double.self) > 0 && r[7] == r[8])
        #expect(r[0].isClose(to: r[1], rtol: 1e-12, atol: 1e-12) && r[2].isClose(to: r[3], rtol: 1e-12, atol: 1e-12))
        #expect(r[4].isClose(to: r[5], rtol: 1e-12, atol: 1e-12) && r[6].shape == [Self.steps, Self.batch, 2 * Self.hidden])
    }

    /// Weights that do not fit each other are errors when the cell is made.
    @Test func mismatchedWeightsAreErrors() {
        let w = tensor(dtype: .float64, shape: [4, 6]), u = tensor(dtype: .float64, shape: [6, 6]), b = tensor(dtype: .float64, shape: [6])
        #expect(throws: TheanoError.self) { try ElmanCell(inputWeights: w, recurrentWeights: matrix(dtype: .float64), bias: b) }
        #expect(throws: TheanoError.self) { try ElmanCell(inputWeights: w, recurrentWeights: u, bias: tensor(dtype: .float64, shape: [5])) }
        #expect(throws: TheanoError.self) { try LSTMCell(inputWeights: w, recurrentWeights: u, bias: b) }
        #expect(throws: TheanoError.self) {
            try GRUCell(inputWeights: tensor(dtype: .float64, shape: [4, 18]), gateWeights: u, candidateWeights: u, bias: tensor(dtype: .float64, shape: [18]))
        }
        #expect(throws: TheanoError.self) { try Sequencer(ElmanCell(inputWeights: w, recurrentWeights: u, bias: b))(matrix(dtype: .float64)) }
    }

    /// The norm stabilizer's value by hand, clipping by norm, and the IRNN's start.
    @Test func penaltiesAndHelpers() throws {
        let h = NDArray([3.0, 4, 0, 1, 6, 8, 0, 2], shape: [2, 2, 2])   // norms [[5, 1], [10, 2]]
        let states = tensor3("h", dtype: .float64), m = matrix("m", dtype: .float64)
        let penalties = try evaluate([states, m], [normStabilizerPenalty(states, beta: 2), normStabilizerPenalty(states, mask: m, beta: 2)],
                                     [h, NDArray([1.0, 1, 1, 0], shape: [2, 2])])
        #expect(abs(penalties[0].scalar(as: Double.self) - 2 * (25 + 1) / 2) < 1e-9)
        #expect(abs(penalties[1].scalar(as: Double.self) - 2 * 25) < 1e-9)

        let a = vector("a", dtype: .float64), b = vector("b", dtype: .float64)
        let clipped = try evaluate([a, b], clipByNorm([a, b], maxNorm: 1) + clipByNorm([a, b], maxNorm: 10), [NDArray([3.0]), NDArray([4.0, 0])])
        #expect(clipped[0].isClose(to: NDArray([0.6])) && clipped[1].isClose(to: NDArray([0.8, 0])))
        #expect(clipped[2] == NDArray([3.0]) && clipped[3] == NDArray([4.0, 0]))

        var random = RandomState(seed: 1)
        let irnn = try ElmanCell.irnn(inputs: 3, hidden: 4, dtype: .float64, random: &random)
        #expect(irnn.activation == .relu && (irnn.recurrentWeights as! SharedVariable).value == NDArray((0..<16).map { $0 % 5 == 0 ? 1.0 : 0 }, shape: [4, 4]))
    }
}

@Suite("Sequence classification")
struct SequenceClassifierTests {
    /// Rows dropped at random keep their order, at least one survives, and a batch holds each
    /// survivor at its step with the mask 1 there and 0 after.
    @Test func rowSequencesPadWithMasks() throws {
        let data = try Dataset.digits().subset(Array(0..<40))
        var random = RandomState(seed: 2)
        let sequences = RowSequences(data, drop: 0.5, random: &random)
        #expect(sequences.kept.allSatisfy { !$0.isEmpty && $0 == $0.sorted() } && Set(sequences.kept.map(\.count)).count > 1)
        let (x, mask, labels) = sequences.batch([3, 7])
        #expect(x.shape == [8, 2, 8] && mask.shape == [8, 2] && labels == NDArray([data.labels.elements(as: Int64.self)[3], data.labels.elements(as: Int64.self)[7]]))
        let pixels = data.images.elements(as: Float.self), m = mask.elements(as: Float.self), values = x.elements(as: Float.self)
        for (b, example) in [3, 7].enumerated() {
            let rows = sequences.kept[example]
            #expect((0..<8).map { m[$0 * 2 + b] } == (0..<8).map { $0 < rows.count ? 1 : 0 })
            for (t, row) in rows.enumerated() {
                #expect(Array(values[((t * 2 + b) * 8)..<((t * 2 + b) * 8 + 8)]) == Array(pixels[(example * 64 + row * 8)..<(example * 64 + row * 8 + 8)]))
            }
        }
    }

    /// A few Adam steps on one padded batch bring its cost down.
    @Test func trainingLowersTheCost() throws {
        let data = try Dataset.digits().subset(Array(0..<64))
        var random = RandomState(seed: 3)
        let sequences = RowSequences(data, drop: 0.25, random: &random)
        let model = try SequenceClassifier(features: 8, hidden: 8, classes: 10, learningRate: 0.02, options: .default)
        let (x, mask, labels) = sequences.batch(Array(0..<64))
        let first = try model.step(x, mask: mask, labels: labels)
        var last = first
        for _ in 0..<30 { last = try model.step(x, mask: mask, labels: labels) }
        #expect(last < 0.7 * first, "cost \(first) → \(last)")
        #expect(try model.predict(x, mask: mask).shape == [64])
    }
}

@Suite("Recurrent language model")
struct RecurrentLanguageModelTests {
    /// Word by word, the frozen evaluation leaves the embeddings alone and repeats itself; the
    /// online one moves them while it reads (a different perplexity) and puts them back; the
    /// perplexity is exp of the mean loss, so it starts near the vocabulary's size.
    @Test func onlineEvaluationAdaptsAndRestoresTheEmbeddings() throws {
        let model = try RecurrentLanguageModel(vocabulary: 30, hidden: 8, learningRate: 0.05, onlineRate: 0.5, seed: 4, options: .default)
        var random = RandomState(seed: 5)
        let documents = (0..<4).map { _ in (0..<12).map { _ in Int.random(in: 0..<6, using: &random) } }
        let before = model.embeddings.value
        let frozen = try model.perplexity(of: documents, online: false)
        #expect(try model.perplexity(of: documents, online: false) == frozen && model.embeddings.value == before)
        #expect(frozen > 15 && frozen < 60, "an untrained model of 30 words: perplexity \(frozen)")
        let adapted = try model.perplexity(of: documents, online: true)
        #expect(adapted < frozen, "reading words from 6 of 30 adapts towards them: \(adapted) against \(frozen)")
        #expect(model.embeddings.value == before)

        let words = NDArray((0..<40).map { Int64($0 % 6) }, shape: [10, 4]), targets = NDArray((0..<40).map { Int64(($0 + 1) % 6) }, shape: [10, 4])
        let first = try model.step(words: words, targets: targets)
        for _ in 0..<20 { _ = try model.step(words: words, targets: targets) }
        #expect(try model.step(words: words, targets: targets) < 0.8 * first)
    }
}

extension NDArray {
    /// Steps `range` of a `[steps, …]` array, contiguous.
    fileprivate func slicedSteps(_ range: Range<Int>) -> NDArray {
        sliced(axis: 0, start: range.lowerBound, count: range.count, step: 1).contiguousCopy()
    }
}
