import TheanoCore
import TheanoOps
import TheanoOptimizer
import TheanoAutodiff

/// One run of a scan's loop over concrete arrays.
struct ScanLoop {
    package let body: ScanBody
    let stepExecutor: any Executor
    /// The step in direct form, when it has one.
    package let direct: DirectLoopStep?

    package init(body: ScanBody, stepExecutor: any Executor) {
        self.body = body
        self.stepExecutor = stepExecutor
        direct = body.signature.hasUntil ? nil : DirectLoopStep(stepExecutor)
    }

    package func run(_ inputs: [NDArray]) throws -> [NDArray] {
        let signature = body.signature
        let sequences = signature.sequenceTaps.indices.map { i in
            let x = inputs[signature.firstSequence + i]
            return signature.goBackwards ? x.reversedAlongFirstAxis() : x
        }
        let nonSequences = Array(inputs[signature.firstNonSequence...])
        let steps = try stepCount(inputs, sequences: sequences)
        // A windowed history is a ring of its last rows (one more than the deepest tap reads).
        let capacity = signature.outputTaps.indices.map { j in
            signature.windowedOutputs.contains(j) ? signature.historyOffset(j) + 1 : signature.historyOffset(j) + steps
        }
        let ring = capacity.indices.map { signature.windowedOutputs.contains($0) ? capacity[$0] : 0 }
        func row(_ j: Int, _ index: Int) -> Int { Self.wrapped(index, ring: ring[j]) }
        var histories: [NDArray?] = try signature.outputTaps.indices.map { j in
            guard let position = signature.recurrentOutputs.firstIndex(of: j) else { return nil }
            return try history(of: j, initial: inputs[signature.firstInitial + position], rows: capacity[j])
        }
        let sequenceRows = sequences.map(RowViews.init)
        var historyRows = histories.map { $0.map(RowViews.init) }
        var arguments: [NDArray] = []
        arguments.reserveCapacity(signature.argumentCount)
        func readArguments(step t: Int) {
            arguments.removeAll(keepingCapacity: true)
            for (i, taps) in signature.sequenceTaps.enumerated() {
                for tap in taps { arguments.append(sequenceRows[i][signature.sequenceElement(i, tap: tap, step: t)]) }
            }
            for j in signature.recurrentOutputs {
                for tap in signature.outputTaps[j] { arguments.append(historyRows[j]![row(j, signature.historyRow(j, tap: tap, step: t))]) }
            }
            arguments += nonSequences
        }

        var first = 0, done = steps
        if let direct, steps > 0 {
            readArguments(step: 0)
            let dtypes = direct.launches.map(\.runner.outputDType)
            if let shape = direct.resultShape(arguments: arguments), histories.indices.allSatisfy({ j in
                histories[j].map { $0.dtype == dtypes[j] && Array($0.shape.dropFirst()) == shape } ?? true
            }) {
                for j in histories.indices where histories[j] == nil {
                    histories[j] = NDArray(uninitialized: [capacity[j]] + shape, dtype: dtypes[j])
                }
                runDirectly(direct, steps: steps, elements: shape.reduce(1, *), sequences: sequences,
                            histories: histories.map { $0! }, nonSequences: nonSequences, ring: ring)
                first = steps
            }
        }
        var targets: [NDArray?] = Array(repeating: nil, count: signature.outputTaps.count)
        for t in first..<steps {
            readArguments(step: t)
            // Each result goes into its history row: computed there when the step can, copied otherwise.
            for j in targets.indices { targets[j] = historyRows[j]?[row(j, t + signature.historyOffset(j))] }
            let results = try stepExecutor.run(inputs: arguments, outputTargets: targets)
            for j in signature.outputTaps.indices {
                let value = results[j]
                if histories[j] == nil {
                    histories[j] = NDArray(uninitialized: [capacity[j]] + value.shape, dtype: value.dtype)
                    historyRows[j] = RowViews(histories[j]!)
                }
                let target = targets[j] ?? historyRows[j]![row(j, t + signature.historyOffset(j))]
                guard value.shape == target.shape else {
                    throw OpError("step \(t) gives output \(j) the shape \(shapeText(value.shape)), where earlier values have \(shapeText(target.shape))")
                }
                if !value.startsAtSameAddress(as: target) { target.assign(from: value) }
            }
            if signature.hasUntil, results.last!.scalar(as: Bool.self) {
                done = t + 1
                break
            }
        }
        return signature.outputTaps.indices.map { j in
            let rows = done + signature.historyOffset(j)
            let history = histories[j] ?? NDArray(zeros: [0] + body.stateTypes[j].shape.map { $0 ?? 0 }, dtype: body.stateTypes[j].dtype)
            guard signature.windowedOutputs.contains(j) else {
                return rows == history.shape[0] ? history : history.sliced(axis: 0, start: 0, count: rows)
            }
            return lastRows(Swift.min(rows, Swift.max(signature.historyOffset(j), 1)), of: history, written: rows)
        }
    }

    /// All steps through ``DirectLoopStep``: each step, a pointer to each argument's row and
    /// to each result's row of its history (a window's rows go round its `ring` of rows).
    private func runDirectly(_ direct: DirectLoopStep, steps: Int, elements: Int, sequences: [NDArray], histories: [NDArray],
                             nonSequences: [NDArray], ring: [Int]) {
        let signature = body.signature
        func rowBytes(_ array: NDArray) -> Int { array.strides.first.map { $0 * array.dtype.byteSize } ?? 0 }
        /// Per argument and result: the array it reads (by position in `arrays`), the bytes
        /// between rows, the row step 0 reads, and the rows it goes round (0: none).
        let arrays = sequences + histories + nonSequences
        var rows: [(array: Int, bytes: Int, first: Int, ring: Int)] = []
        for (i, taps) in signature.sequenceTaps.enumerated() {
            for tap in taps { rows.append((i, rowBytes(sequences[i]), signature.sequenceElement(i, tap: tap, step: 0), 0)) }
        }
        for j in signature.recurrentOutputs {
            for tap in signature.outputTaps[j] {
                rows.append((sequences.count + j, rowBytes(histories[j]), signature.historyRow(j, tap: tap, step: 0), ring[j]))
            }
        }
        for k in nonSequences.indices { rows.append((sequences.count + histories.count + k, 0, 0, 0)) }
        let results = histories.indices.map { j in
            (array: sequences.count + j, bytes: rowBytes(histories[j]), first: signature.historyOffset(j), ring: ring[j])
        }
        // The histories are this loop's own fresh arrays: their rows are written in place.
        withUnsafeRawPointers(to: arrays) { bases in
            direct.withCalls { calls in
                withUnsafeTemporaryAllocation(of: UnsafeRawPointer?.self, capacity: Swift.max(rows.count, 1)) { arguments in
                    withUnsafeTemporaryAllocation(of: UnsafeMutableRawPointer.self, capacity: results.count) { targets in
                        withUnsafeTemporaryAllocation(of: UnsafeRawPointer?.self, capacity: Swift.max(direct.maximumInputs, 1)) { scratch in
                            for t in 0..<steps {
                                for (i, r) in rows.enumerated() { arguments[i] = bases[r.array]! + Self.wrapped(r.first + t, ring: r.ring) * r.bytes }
                                for (j, r) in results.enumerated() {
                                    targets[j] = UnsafeMutableRawPointer(mutating: bases[r.array]!) + Self.wrapped(r.first + t, ring: r.ring) * r.bytes
                                }
                                calls.run(count: elements, arguments: UnsafePointer(arguments.baseAddress!),
                                          results: UnsafePointer(targets.baseAddress!), scratch: scratch.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
    }

    /// History row `index` in a window of `ring` rows (0: a whole history, no window).
    private static func wrapped(_ index: Int, ring: Int) -> Int { ring == 0 ? index : index % ring }

    /// The last `count` of the `written` rows of a ring of rows, in order.
    private func lastRows(_ count: Int, of ring: NDArray, written: Int) -> NDArray {
        let first = written - count
        guard count > 0 else { return ring.sliced(axis: 0, start: 0, count: 0) }
        guard first % ring.shape[0] + count > ring.shape[0] else { return ring.sliced(axis: 0, start: first % ring.shape[0], count: count) }
        let rows = NDArray(uninitialized: [count] + ring.shape.dropFirst(), dtype: ring.dtype)
        let (source, target) = (RowViews(ring), RowViews(rows))
        for i in 0..<count { target[i].assign(from: source[(first + i) % ring.shape[0]]) }
        return rows
    }

    /// The number of steps: the one given, which every sequence must be long enough for, or
    /// the one all sequences allow (they must agree).
    private func stepCount(_ inputs: [NDArray], sequences: [NDArray]) throws -> Int {
        let signature = body.signature
        let allowed = sequences.indices.map { sequences[$0].shape[0] - signature.extent(ofSequence: $0) }
        func lengths() -> String {
            sequences.indices.map { "sequence \($0): \(sequences[$0].shape[0]) elements, taps \(signature.sequenceTaps[$0])" }.joined(separator: "; ")
        }
        guard signature.hasStepCount else {
            guard let steps = allowed.first, allowed.allSatisfy({ $0 == steps }), steps >= 0 else {
                throw OpError("the sequences do not allow one number of steps (\(lengths())); pass nSteps to use fewer elements")
            }
            return steps
        }
        let steps = Int(inputs[0].scalar(as: Int64.self))
        guard steps >= 0 else { throw OpError("nSteps is \(steps); it must not be negative") }
        guard allowed.allSatisfy({ $0 >= steps }) else { throw OpError("\(steps) steps need more elements (\(lengths()))") }
        return steps
    }

    /// A new history for output `j` of `rows` rows: its initial values, then room for the steps'.
    private func history(of j: Int, initial: NDArray, rows: Int) throws -> NDArray {
        let signature = body.signature
        let depth = signature.historyOffset(j)
        let initialRows = signature.outputTaps[j] == [-1] ? initial.expanded([nil] + Array(0..<initial.ndim)) : initial
        guard initialRows.shape[0] == depth else {
            throw OpError("output \(j) reads \(depth) steps back, so its initial value needs \(depth) rows; it has \(initialRows.shape[0])")
        }
        let state = Array(initialRows.shape.dropFirst())
        let history = NDArray(uninitialized: [rows] + state, dtype: initial.dtype)
        history.sliced(axis: 0, start: 0, count: depth).assign(from: initialRows)
        return history
    }
}

extension NDArray {
    /// A view with the first axis reversed.
    func reversedAlongFirstAxis() -> NDArray {
        shape[0] == 0 ? self : sliced(axis: 0, start: shape[0] - 1, count: shape[0], step: -1)
    }
}

