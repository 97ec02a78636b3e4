import Foundation
import TheanoCore

/// NumPy's `.npz` format: a ZIP archive whose member `name.npy` holds the array `name`. What
/// `numpy.savez` writes and `numpy.load` reads.
///
/// Writing stores the members uncompressed (as `numpy.savez` does). Reading takes stored or
/// deflated members (`numpy.savez_compressed`), with ZIP64 sizes.
public enum NPZArchive {
    /// The arrays in the archive at `path`, by name, in the archive's order.
    public static func read(_ path: String) throws -> [(name: String, array: NDArray)] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TheanoError.data(path: path, reason: "no such file or it is unreadable")
        }
        return try decode(data, path: path)
    }

    /// Writes `arrays` to `path` as `numpy.savez` would, each as the member `name.npy`.
    public static func write(_ arrays: [(name: String, array: NDArray)], to path: String) throws {
        try writeFile(encode(arrays, path: path), to: path)
    }

    /// The archive's bytes for `arrays`.
    static func encode(_ arrays: [(name: String, array: NDArray)], path: String = "") throws -> Data {
        var archive = Data(), directory = Data()
        for (name, array) in arrays {
            let member = try NPYFile.encode(array, path: "\(path)[\(name)]"), fileName = Data("\(name).npy".utf8)
            guard archive.count + member.count < 0xFFFF_FFFF, !name.isEmpty else {
                throw TheanoError.data(path: path, reason: name.isEmpty ? "an array needs a name" : "the archive would pass 4 GiB, which needs ZIP64")
            }
            let checksum = crc32(member)
            // version 2.0, no flags, stored, 1980-01-01 00:00, CRC, sizes, name length, no extra field
            let common = le16(20) + le16(0) + le16(0) + le16(0) + le16(0x21) + le32(checksum) + le32(member.count) + le32(member.count)
                + le16(fileName.count) + le16(0)
            directory += le32(0x0201_4B50) + le16(20) + common + le16(0) + le16(0) + le16(0) + le32(0) + le32(archive.count) + fileName
            archive += le32(0x0403_4B50) + common + fileName + member
        }
        let end = le32(0x0605_4B50) + le16(0) + le16(0) + le16(arrays.count) + le16(arrays.count) + le32(directory.count) + le32(archive.count)
            + le16(0)
        return archive + directory + end
    }

    /// The arrays the archive's bytes `data` hold.
    static func decode(_ data: Data, path: String = "") throws -> [(name: String, array: NDArray)] {
        func fail(_ reason: String) -> TheanoError { .data(path: path, reason: reason) }
        let bytes = [UInt8](data)
        func number(_ at: Int, _ width: Int) throws -> Int {
            guard at >= 0, at + width <= bytes.count else { throw fail("truncated archive") }
            return (0..<width).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) }
        }
        // The end-of-directory record: the last one, before a comment of up to 64 KiB.
        guard let end = stride(from: bytes.count - 22, through: Swift.max(0, bytes.count - 22 - 0xFFFF), by: -1)
            .first(where: { (try? number($0, 4)) == 0x0605_4B50 }) else { throw fail("not an .npz (ZIP) archive") }
        var entries = try number(end + 10, 2), offset = try number(end + 16, 4)
        if entries == 0xFFFF || offset == 0xFFFF_FFFF, end >= 20, try number(end - 20, 4) == 0x0706_4B50 {
            // ZIP64: the locator points at the ZIP64 end record.
            let record = try number(end - 12, 8)
            guard try number(record, 4) == 0x0606_4B50 else { throw fail("a bad ZIP64 end record") }
            (entries, offset) = (try number(record + 32, 8), try number(record + 48, 8))
        }
        var arrays: [(name: String, array: NDArray)] = []
        for _ in 0..<entries {
            guard try number(offset, 4) == 0x0201_4B50 else { throw fail("a bad central directory entry") }
            let method = try number(offset + 10, 2)
            var (compressed, size, local) = (try number(offset + 20, 4), try number(offset + 24, 4), try number(offset + 42, 4))
            let nameLength = try number(offset + 28, 2), extraLength = try number(offset + 30, 2), commentLength = try number(offset + 32, 2)
            guard offset + 46 + nameLength <= bytes.count else { throw fail("truncated archive") }
            let name = String(decoding: bytes[(offset + 46)..<(offset + 46 + nameLength)], as: UTF8.self)
            // ZIP64 sizes and offset, those marked 0xFFFFFFFF, in this order.
            var extra = offset + 46 + nameLength
            while extra + 4 <= offset + 46 + nameLength + extraLength {
                let (id, length) = (try number(extra, 2), try number(extra + 2, 2))
                if id == 1 {
                    var field = extra + 4
                    if size == 0xFFFF_FFFF { size = try number(field, 8); field += 8 }
                    if compressed == 0xFFFF_FFFF { compressed = try number(field, 8); field += 8 }
                    if local == 0xFFFF_FFFF { local = try number(field, 8) }
                }
                extra += 4 + length
            }
            offset += 46 + nameLength + extraLength + commentLength
            guard try number(local, 4) == 0x0403_4B50 else { throw fail("a bad local header for \(name)") }
            let start = local + 30 + (try number(local + 26, 2)) + (try number(local + 28, 2))
            guard start + compressed <= bytes.count else { throw fail("truncated member \(name)") }
            let stored = Array(bytes[start..<(start + compressed)])
            let member: [UInt8]
            switch method {
            case 0: member = stored
            case 8:
                do { member = try Inflater.inflate(stored, expectedCount: size) } catch let error as Inflater.Malformed {
                    throw fail("member \(name): \(error.reason)")
                }
            default: throw fail("member \(name) uses compression method \(method); only stored and deflated members are supported")
            }
            guard member.count == size else { throw fail("member \(name) has \(member.count) bytes, not \(size)") }
            let arrayName = name.hasSuffix(".npy") ? String(name.dropLast(4)) : name
            arrays.append((arrayName, try NPYFile.decode(Data(member), path: "\(path)[\(name)]")))
        }
        return arrays
    }

    private static func le16(_ value: Int) -> Data { Data([UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF)]) }
    private static func le32(_ value: Int) -> Data { Data((0..<4).map { UInt8(value >> (8 * $0) & 0xFF) }) }
    private static func le32(_ value: UInt32) -> Data { le32(Int(value)) }
}
