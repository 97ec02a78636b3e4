import TheanoCore
import TheanoOps

/// Runs a node through its compiled elementwise kernel. A class: the interpreter and the
/// closures that split its loops across cores share one reference instead of copying its fields.
final class ElementwiseKernelRunner: OverwritingRunner, TargetWritingRunner, RowKernelRunner {
    typealias Flat = RowFunction
    typealias Strided = @convention(c) (Int32, UnsafePointer<Int64>, UnsafePointer<Int64>, Int64, Int64,
                                        UnsafePointer<UnsafeRawPointer?>, UnsafeMutableRawPointer) -> Void

    package let node: Apply
    package let kernel: ElementwiseKernelSource
    /// Kept so the module stays loaded while the runner exists.
    package let library: DynamicLibrary
    /// The entry points; they may write over the input the kernel plans to overwrite.
    package let entryPoints: (flat: Flat, strided: Strided)
    package let outputDType: DType
    package let inputTypes: [TensorType]
    let recycler = OutputRecycler()

    package var rowFunction: RowFunction { entryPoints.flat }
    /// The longest row an input constant along rows is spread over (in elements): longer
    /// rows of such inputs run the strided loop, which needs no copy.
    static let longestSpreadRow = 1 << 16
    package var scalarInputs: [Bool] { kernel.scalarInputs }
    package var workPerElement: Int { Swift.max(kernel.composite.operations.count, 1) }

    package init(node: Apply, kernel: ElementwiseKernelSource, library: DynamicLibrary) throws {
        self.node = node
        self.kernel = kernel
        self.library = library
        entryPoints = (try library.function(kernel.name + "_flat", as: Flat.self),
                       try library.function(kernel.name + "_strided", as: Strided.self))
        outputDType = node.outputTypes[0].dtype
        inputTypes = node.inputs.map(\.type)
    }

    package func run(_ inputs: [NDArray]) throws -> [NDArray] {
        let shape = try outputShape(inputs)
        let out = try recycler.array(shape, dtype: outputDType)
        launch(inputs: inputs, shape: shape, output: out)
        return [out]
    }

    package func run(_ inputs: [NDArray], into target: NDArray) throws -> Bool {
        let shape = try outputShape(inputs)
        guard target.dtype == outputDType, target.isFlat(as: shape) else { return false }
        launch(inputs: inputs, shape: shape, output: target)
        return true
    }

    package func overwriting(_ inputs: [NDArray], position: Int) throws -> Overwrite? {
        let shape = try outputShape(inputs)
        let target = inputs[position]
        guard position == kernel.overwrites, target.isFlat(as: shape) else { return nil }
        return Overwrite(results: [target]) {
            self.launch(inputs: inputs, shape: shape, output: target)
        }
    }

    /// The broadcast shape of `inputs`, whose stretched dimensions must be the static ones
    /// (when they are not, the error names the fused step at fault).
    private func outputShape(_ inputs: [NDArray]) throws -> [Int] {
        // Operands of one shape (the common case) stretch nothing.
        if let first = inputs.first, inputs.allSatisfy({ $0.shape == first.shape }) { return first.shape }
        do {
            let shape = try broadcastShape(of: inputs)
            try checkStaticBroadcasting(inputs, types: inputTypes, to: shape)
            return shape
        } catch is OpError {
            try kernel.composite.checkShapes(inputs.map(\.shape), types: inputTypes)
            throw OpError("operands of shapes \(inputs.map { shapeText($0.shape) }.joined(separator: ", ")) do not broadcast together")
        }
    }

    /// Runs `flat` on each row (the last axis) of `shape`, each input's pointer (from `base`)
    /// moved to its row. The inputs at `spread`, constant along rows (stride 0 there: a column
    /// broadcast over the others), are first spread over a row of their own, so the flat loop
    /// reads them as it reads the others.
    private func launchByRows(_ flat: Flat, inputs: [NDArray], base: UnsafePointer<UnsafeRawPointer?>, strides: [[Int]], spread: [Int],
                              shape: [Int], rows: Int, inner: Int, work: Int, output: UnsafeMutableRawPointer) {
        let outer = Array(shape.dropLast()), rowBytes = inner * outputDType.byteSize
        let elementBytes = inputs.map(\.dtype.byteSize)
        let spreadBytes = spread.map { (inner * elementBytes[$0] + 63) & ~63 }
        parallelFor(rows, workPerItem: work * inner) { begin, end in
            withUnsafeTemporaryAllocation(of: UnsafeRawPointer?.self, capacity: Swift.max(inputs.count, 1)) { pointers in
                withUnsafeTemporaryAllocation(byteCount: spreadBytes.reduce(0, +), alignment: 64) { rowCopies in
                    var sources = [UnsafeRawPointer?](repeating: nil, count: spread.count)
                    for row in begin..<end {
                        for i in inputs.indices {
                            var rest = row, offset = 0
                            for d in outer.indices.reversed() {
                                offset += (rest % outer[d]) * strides[i][d]
                                rest /= outer[d]
                            }
                            pointers[i] = base[i]! + offset * elementBytes[i]
                        }
                        var copy = rowCopies.baseAddress
                        for (k, i) in spread.enumerated() {
                            if sources[k] != pointers[i] {
                                sources[k] = pointers[i]
                                repeatElement(at: pointers[i]!, bytes: elementBytes[i], count: inner, into: copy!)
                            }
                            pointers[i] = UnsafeRawPointer(copy)
                            copy! += spreadBytes[k]
                        }
                        flat(0, Int64(inner), UnsafePointer(pointers.baseAddress!), output + row * rowBytes)
                    }
                }
            }
        }
    }

    /// Writes the `bytes`-long element at `source` `count` times in a row from `destination`,
    /// doubling what is written with each copy.
    private func repeatElement(at source: UnsafeRawPointer, bytes: Int, count: Int, into destination: UnsafeMutableRawPointer) {
        destination.copyMemory(from: source, byteCount: bytes)
        var written = 1
        while written < count {
            let more = Swift.min(written, count - written)
            (destination + written * bytes).copyMemory(from: destination, byteCount: more * bytes)
            written += more
        }
    }

    /// Runs the kernel over `shape` into the contiguous `output`, split across cores when
    /// the work is large.
    private func launch(inputs: [NDArray], shape: [Int], output: NDArray) {
        output.withUnsafeMutableRawPointer { output in
            withUnsafeRawPointers(to: inputs) { base in launch(inputs: inputs, base: base, shape: shape, output: output) }
        }
    }

    private func launch(inputs: [NDArray], base: UnsafePointer<UnsafeRawPointer?>,
                        shape: [Int], output: UnsafeMutableRawPointer) {
        let count = shape.reduce(1, *)
        let isFlat = zip(inputs, kernel.scalarInputs).allSatisfy { input, scalar in scalar ? input.count == 1 : input.isFlat(as: shape) }
        let work = workPerElement
        if isFlat {
            parallelFor(count, workPerItem: work) { begin, end in entryPoints.flat(Int64(begin), Int64(end), base, output) }
            return
        }
        guard count > 0 else { return }
        let inputStrides = inputs.map { $0.broadcastStrides(to: shape) }
        let rows = count / Swift.max(shape.last ?? 1, 1)
        let spread = inputs.indices.filter { !kernel.scalarInputs[$0] && inputStrides[$0].last == 0 }
        if let inner = shape.last, inner >= 16, spread.isEmpty || inner <= Self.longestSpreadRow,
           zip(inputStrides, kernel.scalarInputs).allSatisfy({ strides, scalar in scalar || strides.last == 1 || strides.last == 0 }) {
            // Every row of every input is contiguous (a row broadcast over the others, a
            // slice of wider rows) or one value (a column broadcast): the flat loop, which
            // vectorizes, row by row.
            launchByRows(entryPoints.flat, inputs: inputs, base: base, strides: inputStrides, spread: spread, shape: shape, rows: rows, inner: inner,
                         work: work, output: output)
            return
        }
        let strides = inputStrides.flatMap { $0.map(Int64.init) }
        let sizes = shape.map(Int64.init)
        strides.withUnsafeBufferPointer { strides in
            sizes.withUnsafeBufferPointer { sizes in
                parallelFor(rows, workPerItem: work * Swift.max(shape.last ?? 1, 1)) { begin, end in
                    entryPoints.strided(Int32(shape.count), sizes.baseAddress ?? UnsafePointer(bitPattern: 8)!,
                                        strides.baseAddress ?? UnsafePointer(bitPattern: 8)!, Int64(begin), Int64(end), base, output)
                }
            }
        }
    }
}
