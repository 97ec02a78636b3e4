import Foundation
import Theano

/// Grey-scale pictures laid out in a grid and written as a PNG file: how the generative
/// models show their samples (`theano train vae --samples digits.png`).
///
/// The PNG is written by hand: an 8-bit grey image whose pixel data is stored in
/// uncompressed deflate blocks, which every PNG reader accepts, so the project needs no
/// compression library for it.
public struct ImageGrid {
    /// The grid's pixels, row by row, 0 (black) to 255 (white).
    public let pixels: [UInt8]
    /// The grid's size in pixels.
    public let width: Int, height: Int

    /// Lays out each row of `images` (values in `[0, 1]`, one `imageHeight × imageWidth`
    /// picture per row) in `columns` columns, separated by one-pixel black lines, each
    /// picture's pixel drawn as a `scale × scale` square.
    public init(images: NDArray, imageWidth: Int, imageHeight: Int, columns: Int, scale: Int = 4) throws {
        let count = images.shape.first ?? 0
        guard images.ndim == 2, images.shape[1] == imageWidth * imageHeight, columns > 0, count > 0, scale > 0 else {
            throw TheanoError.data(path: "", reason: "cannot lay out \(images.shape) as \(imageHeight)×\(imageWidth) pictures in \(columns) columns at scale \(scale)")
        }
        let rows = (count + columns - 1) / columns, values = images.elements(as: Double.self)
        let (cellWidth, cellHeight) = (imageWidth * scale + 1, imageHeight * scale + 1)
        width = columns * cellWidth + 1
        height = rows * cellHeight + 1
        var pixels = [UInt8](repeating: 0, count: width * height)
        for image in 0..<count {
            let (left, top) = (image % columns * cellWidth + 1, image / columns * cellHeight + 1)
            for y in 0..<(imageHeight * scale) {
                for x in 0..<(imageWidth * scale) {
                    let value = values[image * imageWidth * imageHeight + y / scale * imageWidth + x / scale]
                    pixels[(top + y) * width + left + x] = UInt8((Swift.min(Swift.max(value, 0), 1) * 255).rounded())
                }
            }
        }
        self.pixels = pixels
    }

    /// The grid as a PNG file's bytes.
    public var png: Data {
        var file = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var header = Data()
        header.appendBigEndian(UInt32(width))
        header.appendBigEndian(UInt32(height))
        header.append(contentsOf: [8, 0, 0, 0, 0])  // 8-bit grey, deflate, adaptive filters, no interlace
        file.appendChunk("IHDR", header)
        // Each scan line starts with its filter type, 0 (none).
        var scanLines = [UInt8]()
        scanLines.reserveCapacity((width + 1) * height)
        for y in 0..<height { scanLines.append(0); scanLines += pixels[(y * width)..<((y + 1) * width)] }
        file.appendChunk("IDAT", Self.zlibStored(scanLines))
        file.appendChunk("IEND", Data())
        return file
    }

    /// Writes the PNG file to `path`.
    public func write(to path: String) throws {
        try writeFile(png, to: path)
    }

    /// `bytes` as a zlib stream of stored (uncompressed) deflate blocks.
    static func zlibStored(_ bytes: [UInt8]) -> Data {
        var stream = Data([0x78, 0x01])
        var start = 0
        repeat {
            let length = Swift.min(65_535, bytes.count - start), last = start + length == bytes.count
            stream.append(last ? 1 : 0)
            stream.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)])
            stream.append(contentsOf: bytes[start..<(start + length)])
            start += length
        } while start < bytes.count
        var (a, b): (UInt32, UInt32) = (1, 0)
        for byte in bytes { a = (a + UInt32(byte)) % 65_521; b = (b + a) % 65_521 }
        stream.appendBigEndian(b << 16 | a)
        return stream
    }
}

extension Data {
    mutating func appendBigEndian(_ value: UInt32) {
        append(contentsOf: [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)])
    }

    /// A PNG chunk: length, type, data, and the CRC-32 of type and data.
    mutating func appendChunk(_ type: String, _ data: Data) {
        appendBigEndian(UInt32(data.count))
        let typed = Data(type.utf8) + data
        append(typed)
        appendBigEndian(crc32(typed))
    }
}
