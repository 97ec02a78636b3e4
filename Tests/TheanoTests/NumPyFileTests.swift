import Foundation
import Testing
@testable import Theano
@testable import TheanoCore

// Arrays exchanged with NumPy: files numpy.save, numpy.savez and numpy.savez_compressed wrote
// (Fixtures/NumPyFiles, made by the fixture script) read back, the writer's bytes equal to
// numpy.save's, archives written and read, and checkpoints of shared variables.

/// The path of a file NumPy wrote.
private func numpyFile(_ name: String) throws -> String {
    try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/NumPyFiles")).path
}

/// A fresh path in the temporary folder.
private func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID().uuidString)-\(name)").path
}

@Suite("NumPy files")
struct NumPyFileTests {
    /// The arrays the fixture script saves, as the library builds them.
    static let saved: [(String, NDArray)] = [
        ("float32_2x3", NDArray((0..<6).map { Float($0) / 4 }, shape: [2, 3])),
        ("float64_vector", NDArray([0.5, -1.25, .infinity, 3e300] as [Double])),
        ("int64_scalar", NDArray(scalar: Int64(-7))),
        ("bool_2x2", NDArray([true, false, false, true], shape: [2, 2])),
        ("uint8_empty", NDArray([UInt8](), shape: [0, 3])),
        ("int8_3x1x2", NDArray((-3..<3).map(Int8.init), shape: [3, 1, 2])),
    ]

    /// Each file numpy.save wrote reads back as its array, and the writer makes the same bytes.
    @Test(arguments: saved.map(\.0))
    func numpySavedFiles(_ name: String) throws {
        let expected = try #require(Self.saved.first { $0.0 == name }).1
        let path = try numpyFile("\(name).npy")
        let array = try NPYFile.read(path)
        #expect(array.dtype == expected.dtype && array.shape == expected.shape)
        #expect(array.elements(as: Double.self) == expected.elements(as: Double.self))
        #expect(try NPYFile.encode(expected) == FileManager.default.contents(atPath: path), "the bytes numpy.save makes")
    }

    /// Fortran order and big-endian data, which the writer never makes, read correctly.
    @Test func otherOrdersAndByteOrders() throws {
        let fortran = try NPYFile.read(numpyFile("float64_fortran_3x2.npy"))
        #expect(fortran.shape == [3, 2] && fortran.elements(as: Double.self) == [0, 1, 2, 3, 4, 5])
        let big = try NPYFile.read(numpyFile("int32_big_endian.npy"))
        #expect(big.dtype == .int32 && big.elements(as: Int64.self) == [1, -2, 70000])
        let short = try NPYFile.read(numpyFile("int16_big_endian_2x2.npy"))
        #expect(short.shape == [2, 2] && short.elements(as: Int64.self) == [1, -2, 300, -400])
    }

    /// Archives of numpy.savez (stored) and numpy.savez_compressed (deflated, ZIP64 headers).
    @Test func numpyArchives() throws {
        let stored = try NPZArchive.read(numpyFile("stored.npz"))
        #expect(stored.map(\.name) == ["W", "b"])
        #expect(stored[0].array.shape == [3, 4] && stored[0].array.elements(as: Double.self) == (0..<12).map(Double.init))
        #expect(stored[1].array.elements(as: Double.self) == [1.5, -2.5])
        let compressed = Dictionary(uniqueKeysWithValues: try NPZArchive.read(numpyFile("compressed.npz")).map { ($0.name, $0.array) })
        let big = try #require(compressed["big"])
        #expect(big.shape == [50, 100] && big.elements(as: Double.self) == (0..<5000).map { Double($0 % 100) })
        #expect(compressed["small"]?.elements(as: Int64.self) == [7, 8, 9])
        #expect(compressed["noise"]?.shape == [300] && compressed["noise"]?.dtype == .uint8)
    }

    /// An archive written here reads back; truncated or foreign files are errors.
    @Test func archivesRoundTrip() throws {
        let path = temporaryPath("roundtrip.npz")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let arrays = Self.saved.map { (name: $0.0, array: $0.1) }
        try NPZArchive.write(arrays, to: path)
        let read = try NPZArchive.read(path)
        #expect(read.map(\.name) == arrays.map(\.name))
        for (a, b) in zip(read, arrays) { #expect(a.array.shape == b.array.shape && a.array.elements(as: Double.self) == b.array.elements(as: Double.self)) }
        let bytes = try #require(FileManager.default.contents(atPath: path))
        #expect(throws: TheanoError.self) { try NPZArchive.decode(bytes.prefix(bytes.count - 30)) }
        #expect(throws: TheanoError.self) { try NPYFile.decode(Data("not numpy".utf8)) }
        #expect(throws: TheanoError.self) { try NPYFile.decode(try NPYFile.encode(NDArray([1, 2, 3] as [Double])).dropLast(8)) }
        #expect(throws: TheanoError.self) { try NPZArchive.write([(name: "", array: NDArray(scalar: 1.0))], to: path) }
    }

    /// A checkpoint restores every shared variable by name, and refuses missing or misfitting arrays.
    @Test func checkpointsRestoreSharedVariables() throws {
        let path = temporaryPath("model.npz")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let W = try shared(NDArray((0..<6).map(Float.init), shape: [2, 3]), name: "W"), b = try shared(NDArray([Float(1), 2, 3]), name: "b")
        try Checkpoint.save([W, b], to: path)
        try W.setValue(NDArray([Float](repeating: 0, count: 6), shape: [2, 3]))
        try Checkpoint.load([W, b], from: path)
        #expect(W.value.elements(as: Float.self) == (0..<6).map(Float.init))
        let other = try shared(NDArray([Float(0)]), name: "missing"), wrong = try shared(NDArray([Float(0), 0]), name: "b")
        #expect(throws: TheanoError.self) { try Checkpoint.load([other], from: path) }
        #expect(throws: TheanoError.self) { try Checkpoint.load([wrong], from: path) }
        #expect(throws: TheanoError.self) { try Checkpoint.save([W, try shared(NDArray(scalar: Float(1)), name: "W")], to: path) }
        #expect(try NPZArchive.read(path).map(\.name) == ["W", "b"])
    }

    /// A sparse shared variable is saved as its parts, which SciPy's constructors take, and
    /// loads into a variable of either format; NPY itself refuses a sparse value.
    @Test func checkpointsHoldSparseMatrices() throws {
        let path = temporaryPath("sparse.npz")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let matrix = try SparseMatrix(dense: NDArray([[0.0, 1.5, 0], [2, 0, -3]]))
        let S = try shared(NDArray(sparse: matrix), name: "S"), b = try shared(NDArray([1.0, 2]), name: "b")
        try Checkpoint.save([S, b], to: path)
        #expect(try NPZArchive.read(path).map(\.name) == ["S.csr.data", "S.csr.indices", "S.csr.indptr", "S.csr.shape", "b"])
        try S.setValue(NDArray(sparse: try SparseMatrix(dense: NDArray([[0.0, 0, 0], [0, 0, 1]]))))
        try Checkpoint.load([S, b], from: path)
        #expect(S.value.sparse == matrix)
        let columns = try shared(NDArray(sparse: try matrix.converted(to: .csc)), name: "S")
        try columns.setValue(NDArray(sparse: try SparseMatrix(dense: NDArray([[0.0, 0, 0], [0, 0, 0]]), format: .csc)))
        try Checkpoint.load([columns], from: path)
        #expect(columns.value.sparse == (try matrix.converted(to: .csc)))
        let dense = try shared(NDArray([[0.0, 0, 0], [0, 0, 0]]), name: "S"), wider = try shared(NDArray(sparse: try SparseMatrix(dense: NDArray([[1.0, 0]]))), name: "S")
        #expect(throws: TheanoError.self) { try Checkpoint.load([dense], from: path) }
        #expect(throws: TheanoError.self) { try Checkpoint.load([wider], from: path) }
        #expect(throws: TheanoError.self) { try NPYFile.write(S.value, to: path) }
    }
}
