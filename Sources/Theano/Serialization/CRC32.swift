import Foundation

/// The CRC-32 of each byte value, for ``crc32(_:)``.
private let crcTable: [UInt32] = (0..<256).map { byte in
    (0..<8).reduce(UInt32(byte)) { crc, _ in crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
}

/// The CRC-32 of `bytes` (the polynomial of ZIP, zlib and PNG).
package func crc32(_ bytes: Data) -> UInt32 {
    ~bytes.reduce(UInt32.max) { crc, byte in crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
}
