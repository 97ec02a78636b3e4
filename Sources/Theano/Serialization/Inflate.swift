/// A decoder of raw deflate streams (RFC 1951): the members of `numpy.savez_compressed`
/// archives. Huffman codes are decoded a bit at a time from their canonical counts, which is
/// short and exact, if slower than table-driven decoders.
struct Inflater {
    /// Malformed or truncated input.
    struct Malformed: Error { let reason: String }

    private let input: [UInt8]
    private var position = 0
    private var bitBuffer = 0, bitCount = 0
    private var output: [UInt8] = []

    /// The decompressed bytes of the deflate stream `input`.
    static func inflate(_ input: [UInt8], expectedCount: Int? = nil) throws -> [UInt8] {
        var inflater = Inflater(input: input)
        if let expectedCount { inflater.output.reserveCapacity(expectedCount) }
        var last = false
        while !last {
            last = try inflater.bits(1) == 1
            switch try inflater.bits(2) {
            case 0: try inflater.storedBlock()
            case 1: try inflater.compressedBlock(literals: fixedLiterals, distances: fixedDistances)
            case 2: try inflater.dynamicBlock()
            default: throw Malformed(reason: "a block of the reserved type 3")
            }
        }
        return inflater.output
    }

    private init(input: [UInt8]) { self.input = input }

    /// The next `count` bits, least significant first.
    private mutating func bits(_ count: Int) throws -> Int {
        while bitCount < count {
            guard position < input.count else { throw Malformed(reason: "the stream ends early") }
            bitBuffer |= Int(input[position]) << bitCount
            position += 1
            bitCount += 8
        }
        let value = bitBuffer & ((1 << count) - 1)
        bitBuffer >>= count
        bitCount -= count
        return value
    }

    private mutating func storedBlock() throws {
        (bitBuffer, bitCount) = (0, 0)  // to the byte boundary
        guard position + 4 <= input.count else { throw Malformed(reason: "the stream ends early") }
        let length = Int(input[position]) | Int(input[position + 1]) << 8
        let complement = Int(input[position + 2]) | Int(input[position + 3]) << 8
        guard length == ~complement & 0xFFFF else { throw Malformed(reason: "a stored block's length does not match its complement") }
        position += 4
        guard position + length <= input.count else { throw Malformed(reason: "the stream ends early") }
        output += input[position..<(position + length)]
        position += length
    }

    /// A canonical Huffman code: how many codes of each length, and the symbols in code order.
    struct Huffman {
        var counts = [Int](repeating: 0, count: 16)
        var symbols: [Int] = []

        init(lengths: [Int]) {
            for length in lengths { counts[length] += 1 }
            counts[0] = 0
            var offsets = [Int](repeating: 0, count: 16)
            for length in 1..<15 { offsets[length + 1] = offsets[length] + counts[length] }
            symbols = [Int](repeating: 0, count: lengths.count)
            for (symbol, length) in lengths.enumerated() where length != 0 {
                symbols[offsets[length]] = symbol
                offsets[length] += 1
            }
        }
    }

    private mutating func decode(_ code: Huffman) throws -> Int {
        var value = 0, first = 0, index = 0
        for length in 1...15 {
            value |= try bits(1)
            let count = code.counts[length]
            if value - count < first { return code.symbols[index + value - first] }
            index += count
            first = (first + count) << 1
            value <<= 1
        }
        throw Malformed(reason: "an invalid Huffman code")
    }

    private static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
                                       4097, 6145, 8193, 12289, 16385, 24577]
    private static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    private static let fixedLiterals = Huffman(lengths: (0..<288).map { $0 < 144 ? 8 : $0 < 256 ? 9 : $0 < 280 ? 7 : 8 })
    private static let fixedDistances = Huffman(lengths: [Int](repeating: 5, count: 30))

    private mutating func compressedBlock(literals: Huffman, distances: Huffman) throws {
        while true {
            var symbol = try decode(literals)
            if symbol < 256 {
                output.append(UInt8(symbol))
                continue
            }
            if symbol == 256 { return }
            symbol -= 257
            guard symbol < 29 else { throw Malformed(reason: "an invalid length code") }
            let length = Self.lengthBase[symbol] + (try bits(Self.lengthExtra[symbol]))
            let code = try decode(distances)
            guard code < 30 else { throw Malformed(reason: "an invalid distance code") }
            let distance = Self.distanceBase[code] + (try bits(Self.distanceExtra[code]))
            guard distance <= output.count else { throw Malformed(reason: "a distance reaching before the start") }
            let start = output.count - distance
            for i in 0..<length { output.append(output[start + i]) }
        }
    }

    private mutating func dynamicBlock() throws {
        let literalCount = try bits(5) + 257, distanceCount = try bits(5) + 1, lengthCodeCount = try bits(4) + 4
        let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
        var lengthCodeLengths = [Int](repeating: 0, count: 19)
        for i in 0..<lengthCodeCount { lengthCodeLengths[order[i]] = try bits(3) }
        let lengthCode = Huffman(lengths: lengthCodeLengths)
        var lengths: [Int] = []
        while lengths.count < literalCount + distanceCount {
            let symbol = try decode(lengthCode)
            switch symbol {
            case 0..<16: lengths.append(symbol)
            case 16:
                guard let previous = lengths.last else { throw Malformed(reason: "a repeat with nothing before it") }
                lengths += [Int](repeating: previous, count: 3 + (try bits(2)))
            case 17: lengths += [Int](repeating: 0, count: 3 + (try bits(3)))
            default: lengths += [Int](repeating: 0, count: 11 + (try bits(7)))
            }
        }
        guard lengths.count == literalCount + distanceCount else { throw Malformed(reason: "code lengths overrun their count") }
        try compressedBlock(literals: Huffman(lengths: Array(lengths[..<literalCount])), distances: Huffman(lengths: Array(lengths[literalCount...])))
    }
}
