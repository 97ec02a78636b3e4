import Foundation
import TheanoCore
import TheanoOps
import TheanoOptimizer
import TheanoAutodiff
import TheanoNative
import TheanoLoops

/// Reads the IDX format of MNIST: a big-endian header (two zero bytes, a type code, the
/// number of dimensions, one 32-bit size per dimension) followed by the data.
///
/// Only unsigned-byte data (type code 0x08), which MNIST and the bundled digits use, is
/// supported. Compressed files (`.gz`) must be decompressed first.
public enum IDXFile {
    /// The array stored in the file at `path`, as `uint8`.
    public static func read(_ path: String) throws -> NDArray {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TheanoError.data(path: path, reason: path.hasSuffix(".gz") ? "compressed IDX files are not supported; gunzip it first" : "no such file or it is unreadable")
        }
        return try decode(data, path: path)
    }

    static func decode(_ data: Data, path: String) throws -> NDArray {
        let bytes = [UInt8](data)
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else { throw TheanoError.data(path: path, reason: "not an IDX file (bad magic number)") }
        guard bytes[2] == 0x08 else { throw TheanoError.data(path: path, reason: "IDX type code \(bytes[2]) is not unsigned bytes (0x08)") }
        let rank = Int(bytes[3])
        let header = 4 + 4 * rank
        guard bytes.count >= header else { throw TheanoError.data(path: path, reason: "truncated header") }
        let shape = (0..<rank).map { d in
            (0..<4).reduce(0) { $0 << 8 | Int(bytes[4 + 4 * d + $1]) }
        }
        let count = shape.reduce(1, *)
        guard bytes.count - header == count else {
            throw TheanoError.data(path: path, reason: "expected \(count) data bytes for shape \(shapeText(shape)), found \(bytes.count - header)")
        }
        return NDArray(Array(bytes[header...]), shape: shape)
    }

    /// Writes `array` (converted to `uint8`) in the IDX format.
    public static func write(_ array: NDArray, to path: String) throws {
        var bytes: [UInt8] = [0, 0, 0x08, UInt8(array.ndim)]
        for size in array.shape { bytes += (0..<4).map { UInt8(truncatingIfNeeded: size >> (8 * (3 - $0))) } }
        bytes += array.elements(as: UInt8.self)
        try writeFile(Data(bytes), to: path)
    }
}
