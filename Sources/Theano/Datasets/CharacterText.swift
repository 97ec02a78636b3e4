import Foundation
import TheanoCore

/// A text as a stream of character identifiers, for character-level language models: the
/// distinct characters sorted (the alphabet) and each character's position in it.
public struct CharacterText: Sendable {
    /// The distinct characters, sorted by their Unicode scalars.
    public let alphabet: [Character]
    /// The text, each character as its index in ``alphabet``.
    public let symbols: [Int]

    /// The characters of `text`.
    public init(_ text: String) {
        alphabet = Set(text).sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
        let index = Dictionary(uniqueKeysWithValues: alphabet.enumerated().map { ($1, $0) })
        symbols = text.map { index[$0]! }
    }

    /// The Book of Genesis in the King James Version (1611, in the public domain), bundled with
    /// the library: one verse per line, 196,818 characters of 60 kinds.
    public static func genesis() throws -> CharacterText {
        guard let url = Bundle.module.url(forResource: "genesis", withExtension: "txt", subdirectory: "Resources") else {
            throw TheanoError.data(path: "genesis.txt", reason: "the bundled resource is missing")
        }
        return CharacterText(try String(contentsOf: url, encoding: .utf8))
    }

    /// Windows of `steps` characters starting at `starts`, and the character after each:
    /// `[steps, starts.count]` int64 arrays of inputs and targets (time first).
    public func windows(starts: [Int], steps: Int) -> (characters: NDArray, targets: NDArray) {
        var characters = [Int64](repeating: 0, count: steps * starts.count), targets = characters
        for (b, start) in starts.enumerated() {
            for t in 0..<steps {
                characters[t * starts.count + b] = Int64(symbols[start + t])
                targets[t * starts.count + b] = Int64(symbols[start + t + 1])
            }
        }
        return (NDArray(characters, shape: [steps, starts.count]), NDArray(targets, shape: [steps, starts.count]))
    }

    /// The starts of consecutive windows of `steps` characters (each with its next character)
    /// in `range` of the text.
    public func windowStarts(in range: Range<Int>, steps: Int) -> [Int] {
        Array(stride(from: range.lowerBound, through: range.upperBound - steps - 1, by: steps))
    }
}
