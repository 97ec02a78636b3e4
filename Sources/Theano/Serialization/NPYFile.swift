import Foundation
import TheanoCore

/// NumPy's `.npy` format (version 1.0, or 2.0 for long headers): a magic string, a Python
/// dictionary literal with the dtype (`descr`), the memory order and the shape, then the
/// elements. What `numpy.save` writes and `numpy.load` reads.
///
/// Writing produces the bytes `numpy.save` produces for the same array. Reading accepts
/// either byte order and Fortran order, for the dtypes the library has (`bool`, `int8`,
/// `int16`, `int32`, `int64`, `uint8`, `float32`, `float64`).
public enum NPYFile {
    /// The array in the file at `path`.
    public static func read(_ path: String) throws -> NDArray {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TheanoError.data(path: path, reason: "no such file or it is unreadable")
        }
        return try decode(data, path: path)
    }

    /// Writes `array` to `path` as `numpy.save` would.
    public static func write(_ array: NDArray, to path: String) throws {
        try writeFile(encode(array, path: path), to: path)
    }

    /// The file's bytes for `array`; throws for a sparse matrix, which the format cannot hold
    /// (``Checkpoint`` saves its parts).
    public static func encode(_ array: NDArray, path: String = "") throws -> Data {
        guard array.format == .dense else {
            throw TheanoError.data(path: path, reason: "a \(array.format) sparse matrix is not an .npy array; save its data, indices and indptr (Checkpoint does)")
        }
        let shape = array.shape.map(String.init).joined(separator: ", ") + (array.ndim == 1 ? "," : "")
        var header = "{'descr': '\(descriptor(array.dtype))', 'fortran_order': False, 'shape': (\(shape)), }"
        // The magic, the version, the length and the header (ending in a newline) fill a
        // multiple of 64 bytes.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        data.append(contentsOf: [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        data.append(contentsOf: Array(header.utf8))
        let contiguous = array.contiguous()
        contiguous.withUnsafeRawPointer { data.append($0.assumingMemoryBound(to: UInt8.self), count: array.count * array.dtype.byteSize) }
        return data
    }

    /// The array the file's bytes `data` hold.
    public static func decode(_ data: Data, path: String = "") throws -> NDArray {
        func fail(_ reason: String) -> TheanoError { .data(path: path, reason: reason) }
        let bytes = [UInt8](data)
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else { throw fail("not an .npy file (bad magic string)") }
        let major = bytes[6]
        guard major == 1 || major == 2 || major == 3 else { throw fail(".npy version \(major).\(bytes[7]) is not supported") }
        let lengthBytes = major == 1 ? 2 : 4
        guard bytes.count >= 8 + lengthBytes else { throw fail("truncated header") }
        let headerLength = (0..<lengthBytes).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
        let start = 8 + lengthBytes + headerLength
        guard bytes.count >= start, let header = String(bytes: bytes[(8 + lengthBytes)..<start], encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw fail("truncated header")
        }
        guard let descr = field("descr", in: header), let order = field("fortran_order", in: header), let shapeText = field("shape", in: header) else {
            throw fail("the header \(header.trimmingCharacters(in: .whitespacesAndNewlines)) lacks descr, fortran_order or shape")
        }
        guard let (dtype, swapped) = dtype(descr) else { throw fail("dtype \(descr) is not supported") }
        let shape = try shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() ")).split(separator: ",").map { size in
            guard let value = Int(size.trimmingCharacters(in: .whitespaces)), value >= 0 else { throw fail("bad shape \(shapeText)") }
            return value
        }
        let count = shape.reduce(1, *), byteCount = count * dtype.byteSize
        guard bytes.count - start == byteCount else {
            throw fail("expected \(byteCount) data bytes for shape \(shape) of \(dtype), found \(bytes.count - start)")
        }
        let fortran = order == "True"
        let array = NDArray(uninitialized: fortran ? shape.reversed() : shape, dtype: dtype)
        array.withUnsafeMutableRawPointer { target in
            bytes.withUnsafeBytes { source in
                target.copyMemory(from: source.baseAddress! + start, byteCount: byteCount)
                if swapped { swapBytes(target, count: count, width: dtype.byteSize) }
            }
        }
        return fortran ? array.transposed().contiguous() : array
    }

    /// NumPy's name of `dtype`, little-endian.
    static func descriptor(_ dtype: DType) -> String {
        switch dtype {
        case .bool: "|b1"
        case .int8: "|i1"
        case .int16: "<i2"
        case .int32: "<i4"
        case .int64: "<i8"
        case .uint8: "|u1"
        case .float32: "<f4"
        case .float64: "<f8"
        }
    }

    /// The dtype a NumPy descriptor names, and whether its bytes are the other way round.
    private static func dtype(_ descriptor: String) -> (DType, swapped: Bool)? {
        let order = descriptor.first, kind = String(descriptor.dropFirst())
        guard let order, "<>|=".contains(order) else { return nil }
        let matching = DType.allCases.first { self.descriptor($0).dropFirst() == kind }
        return matching.map { ($0, order == ">" && $0.byteSize > 1) }
    }

    /// The text of `key`'s value in the header's dictionary literal.
    private static func field(_ key: String, in header: String) -> String? {
        guard let keyRange = header.range(of: "'\(key)'"), let colon = header[keyRange.upperBound...].firstIndex(of: ":") else { return nil }
        let rest = header[header.index(after: colon)...].drop { $0 == " " }
        switch rest.first {
        case "'": return rest.dropFirst().prefix { $0 != "'" }.description
        case "(": return rest.prefix { $0 != ")" }.description + ")"
        default: return rest.prefix { $0 != "," && $0 != "}" }.trimmingCharacters(in: .whitespaces)
        }
    }

    private static func swapBytes(_ base: UnsafeMutableRawPointer, count: Int, width: Int) {
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        for i in 0..<count {
            for j in 0..<(width / 2) { swap(&bytes[i * width + j], &bytes[i * width + width - 1 - j]) }
        }
    }
}

/// Creates the file at `path` holding `data`.
package func writeFile(_ data: Data, to path: String) throws {
    guard FileManager.default.createFile(atPath: path, contents: data) else {
        throw TheanoError.data(path: path, reason: "cannot create the file")
    }
}
