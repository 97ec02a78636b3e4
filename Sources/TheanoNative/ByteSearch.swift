import Foundation

/// Searches and replaces in generated C text byte by byte. Foundation's `contains` and
/// `replacingOccurrences` and the standard library's `split(separator:)` cost tens of
/// nanoseconds a byte, which added milliseconds to every warm compile (a training step's
/// kernels are tens of kilobytes).
enum ByteSearch {
    /// The byte offsets at which `word` starts in `text`, left to right, not overlapping.
    static func offsets(of word: String, in text: String) -> [Int] {
        var found: [Int] = []
        forEachOffset(of: word, in: text) { found.append($0); return true }
        return found
    }

    /// Whether `word` occurs in `text` (the search stops at the first occurrence).
    static func contains(_ word: String, in text: String) -> Bool {
        var found = false
        forEachOffset(of: word, in: text) { _ in found = true; return false }
        return found
    }

    /// Calls `body` with each offset at which `word` starts in `text`, left to right, not
    /// overlapping, until it returns `false`.
    private static func forEachOffset(of word: String, in text: String, _ body: (Int) -> Bool) {
        var text = text, word = word
        text.withUTF8 { t in
            word.withUTF8 { w in
                guard let first = w.first, w.count <= t.count else { return }
                var i = 0
                while i <= t.count - w.count {
                    if t[i] == first && memcmp(t.baseAddress! + i, w.baseAddress!, w.count) == 0 {
                        guard body(i) else { return }
                        i += w.count
                    } else {
                        i += 1
                    }
                }
            }
        }
    }

    /// `text` with every occurrence of `word` replaced by `replacement`.
    static func replacing(_ word: String, with replacement: String, in text: String) -> String {
        let starts = offsets(of: word, in: text)
        guard !starts.isEmpty else { return text }
        var bytes: [UInt8] = [], position = 0
        let source = Array(text.utf8), length = word.utf8.count
        bytes.reserveCapacity(source.count + starts.count * (replacement.utf8.count - length))
        for start in starts {
            bytes += source[position..<start]
            bytes += replacement.utf8
            position = start + length
        }
        bytes += source[position...]
        return String(decoding: bytes, as: UTF8.self)
    }
}
