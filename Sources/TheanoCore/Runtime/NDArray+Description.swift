extension NDArray: CustomStringConvertible {
    /// NumPy's repr: `array([[1., 2.], [3., 4.]], dtype=float32)` laid out over lines.
    public var description: String {
        if let sparse { return sparse.description }
        let texts = elementsText
        let width = texts.map(\.count).max() ?? 0
        var index = 0
        func render(_ dim: Int, indent: Int) -> String {
            if dim == ndim {
                defer { index += 1 }
                let text = texts[index]
                return String(repeating: " ", count: width - text.count) + text
            }
            let parts = (0..<shape[dim]).map { _ in render(dim + 1, indent: indent + 1) }
            let separator = dim == ndim - 1 ? ", " : "," + String(repeating: "\n", count: ndim - dim - 1) + String(repeating: " ", count: indent + 1)
            return "[" + parts.joined(separator: separator) + "]"
        }
        let body = render(0, indent: 6)
        return "array(\(body), dtype=\(dtype))"
    }

    /// Each element as NumPy prints it (`1.`, `-inf`, `True`).
    package var elementsText: [String] {
        if let sparse { return sparse.dense().elementsText }
        switch dtype {
        case .bool: return elements(as: Bool.self).map { $0 ? "True" : "False" }
        case .float32, .float64:
            return elements(as: Double.self).map { value in
                if value.isNaN { return "nan" }
                if value.isInfinite { return value < 0 ? "-inf" : "inf" }
                let text = dtype == .float32 ? "\(Float(value))" : "\(value)"
                return text.hasSuffix(".0") ? String(text.dropLast()) : text
            }
        default: return elements(as: Int64.self).map { "\($0)" }
        }
    }
}
