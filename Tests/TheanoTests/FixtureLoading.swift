import Foundation
import Testing
import Theano

// Reads the NumPy reference fixtures in Fixtures/*.json (written by Fixtures/generate.py).
// The graphs their cases stand for are built by the op records (OpRecords+*.swift).

/// Why a fixture could not be read or interpreted.
struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The elements of a fixture array, in row-major order, in the Swift type that holds them
/// exactly: `Double` for floats, `Int64` for integers, `Bool` for booleans.
enum FixtureElements: Sendable {
    case floats([Double])
    case integers([Int64])
    case booleans([Bool])

    var count: Int {
        switch self {
        case .floats(let values): values.count
        case .integers(let values): values.count
        case .booleans(let values): values.count
        }
    }
}

/// A float element as the fixtures write it: a JSON number, or one of the strings "nan",
/// "inf" and "-inf" that JSON cannot spell as numbers.
private struct FixtureFloat: Decodable {
    let value: Double

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            value = number
            return
        }
        switch try container.decode(String.self) {
        case "nan": value = .nan
        case "inf": value = .infinity
        case "-inf": value = -.infinity
        case let text: throw FixtureError("unexpected float element \"\(text)\"")
        }
    }
}

/// An array of a fixture: `{"dtype": "float32", "shape": [2, 3], "data": [...]}`.
struct FixtureArray: Decodable, Sendable {
    let dtype: DType
    let shape: [Int]
    let elements: FixtureElements

    private enum CodingKeys: String, CodingKey { case dtype, shape, data }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let name = try container.decode(String.self, forKey: .dtype)
        guard let dtype = DType(rawValue: name) else { throw FixtureError("unknown dtype \"\(name)\"") }
        self.dtype = dtype
        shape = try container.decode([Int].self, forKey: .shape)
        if dtype.isFloat {
            elements = .floats(try container.decode([FixtureFloat].self, forKey: .data).map(\.value))
        } else if dtype == .bool {
            elements = .booleans(try container.decode([Bool].self, forKey: .data))
        } else {
            elements = .integers(try container.decode([Int64].self, forKey: .data))
        }
        guard elements.count == shape.reduce(1, *) else {
            throw FixtureError("\(elements.count) elements do not fill shape \(shape)")
        }
    }

    /// The array as a contiguous ``NDArray`` of its dtype.
    var ndarray: NDArray { elementsArray(shape: shape) }

    /// The elements laid out with `shape` (which must have as many elements), converted to
    /// the fixture's dtype.
    func elementsArray(shape: [Int]) -> NDArray {
        switch elements {
        case .floats(let values): NDArray(values, shape: shape).cast(to: dtype)
        case .integers(let values): NDArray(values, shape: shape).cast(to: dtype)
        case .booleans(let values): NDArray(values, shape: shape)
        }
    }

    /// The elements in a larger array where every dimension longer than 1 is doubled and
    /// the fixture's elements sit at the even positions; the odd positions hold `filler`
    /// (NaN for floats) so that reading them shows up in the result.
    func interleavedWithFiller() -> NDArray {
        switch elements {
        case .floats(let values): spread(values, filler: .nan).cast(to: dtype)
        case .integers(let values): spread(values, filler: -99).cast(to: dtype)
        case .booleans(let values): spread(values, filler: true)
        }
    }

    /// The shape ``interleavedWithFiller()`` produces.
    var interleavedShape: [Int] { shape.map { $0 > 1 ? 2 * $0 : $0 } }

    private func spread<T: Element>(_ values: [T], filler: T) -> NDArray {
        let largeShape = interleavedShape
        var large = [T](repeating: filler, count: largeShape.reduce(1, *))
        var index = [Int](repeating: 0, count: shape.count)
        for value in values {
            // Row-major offset in the large array of the element at `index` (doubled).
            let offset = zip(index, largeShape).reduce(0) { partial, dimension in
                let (position, size) = dimension
                return partial * size + (size > 1 ? 2 * position : position)
            }
            large[offset] = value
            advance(&index, within: shape)
        }
        return NDArray(large, shape: largeShape)
    }
}

/// Moves a row-major multi-index to the next element of `shape`.
private func advance(_ index: inout [Int], within shape: [Int]) {
    for dimension in shape.indices.reversed() {
        index[dimension] += 1
        if index[dimension] < shape[dimension] { return }
        index[dimension] = 0
    }
}

/// Any JSON value: the parameters of a case (axes, shapes, index entries, …).
enum JSONValue: Decodable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// The value as an integer, if it is a whole number.
    var int: Int? {
        guard case .number(let value) = self, value.rounded() == value else { return nil }
        return Int(value)
    }

    /// The value as a list of integers, if it is one.
    var ints: [Int]? {
        guard case .array(let values) = self else { return nil }
        let converted = values.compactMap(\.int)
        return converted.count == values.count ? converted : nil
    }
}

/// The `params` object of a case, with typed accessors that say which key is missing or
/// malformed.
struct FixtureParameters: Decodable, Sendable {
    let values: [String: JSONValue]

    init(from decoder: any Decoder) throws {
        values = try decoder.singleValueContainer().decode([String: JSONValue].self)
    }

    /// Whether `key` is present (even if null).
    func contains(_ key: String) -> Bool { values[key] != nil }

    subscript(_ key: String) -> JSONValue? { values[key] }

    /// Throws a ``FixtureError`` naming `key` and what was expected of it.
    private func require<T>(_ key: String, as kind: String, _ convert: (JSONValue) -> T?) throws -> T {
        guard let value = values[key], let converted = convert(value) else {
            throw FixtureError("parameter \"\(key)\" should be \(kind), found \(values[key].map { "\($0)" } ?? "nothing")")
        }
        return converted
    }

    func int(_ key: String) throws -> Int { try require(key, as: "an integer") { $0.int } }
    func ints(_ key: String) throws -> [Int] { try require(key, as: "a list of integers") { $0.ints } }

    func double(_ key: String) throws -> Double {
        try require(key, as: "a number") { if case .number(let value) = $0 { value } else { nil } }
    }

    /// A Swift number written beside a tensor: an `Int` when the case says the Python
    /// literal was an integer (`2`), else a `Double` (`2.0`), as the two differ in dtype.
    func literal(_ key: String) throws -> any ScalarLiteral {
        let value = try double(key)
        return try bool("integer_literal", default: false) ? Int(value) : value
    }

    func string(_ key: String) throws -> String {
        try require(key, as: "a string") { if case .string(let value) = $0 { value } else { nil } }
    }

    /// A boolean parameter, `defaultValue` when absent.
    func bool(_ key: String, default defaultValue: Bool) throws -> Bool {
        guard contains(key) else { return defaultValue }
        return try require(key, as: "a boolean") { if case .bool(let value) = $0 { value } else { nil } }
    }

    /// An integer parameter that may be null or absent.
    func optionalInt(_ key: String) throws -> Int? {
        guard let value = values[key], value != .null else { return nil }
        return try int(key)
    }

    /// A list of integers that may be null or absent.
    func optionalInts(_ key: String) throws -> [Int]? {
        guard let value = values[key], value != .null else { return nil }
        return try ints(key)
    }

    func dtype(_ key: String) throws -> DType {
        let name = try string(key)
        guard let dtype = DType(rawValue: name) else { throw FixtureError("parameter \"\(key)\": unknown dtype \"\(name)\"") }
        return dtype
    }

    /// A dimshuffle pattern: input dimensions as numbers, "x" for a new axis.
    func dimPattern(_ key: String) throws -> [DimPattern] {
        guard case .array(let entries)? = values[key] else { throw FixtureError("parameter \"\(key)\" should be a list") }
        return try entries.map { entry in
            if let dimension = entry.int { return .input(dimension) }
            guard entry == .string("x") else { throw FixtureError("bad pattern entry \(entry)") }
            return .newAxis
        }
    }

    /// Subscript entries (see generate.py): {"at": i}, {"slice": [start, stop, step]},
    /// {"newaxis": true}, {"input": k} (the k-th of `operands`) and {"arange_rows": true}
    /// (arange over the first dimension of the subscripted tensor, the first operand, built
    /// in the graph).
    func indices(_ key: String, operands: [Variable]) throws -> [TensorIndex] {
        guard case .array(let entries)? = values[key] else { throw FixtureError("parameter \"\(key)\" should be a list") }
        return try entries.map { entry in
            guard case .object(let fields) = entry, let (kind, argument) = fields.first, fields.count == 1 else {
                throw FixtureError("bad index entry \(entry)")
            }
            switch (kind, argument, argument.int) {
            case ("at", _, let position?): return .at(position)
            case ("slice", .array(let bounds), _) where bounds.count == 3:
                return .slice(start: bounds[0].int, stop: bounds[1].int, step: bounds[2].int)
            case ("newaxis", _, _): return .expand
            case ("input", _, let position?): return .tensor(operands[position])
            case ("arange_rows", _, _): return .tensor(try arange(try operands[0].shape[0]))
            default: throw FixtureError("bad index entry \(entry)")
            }
        }
    }

    /// Reduction axes: null (all), one integer or a list of integers.
    func axes(_ key: String) throws -> Axes {
        switch values[key] {
        case nil, .null?: return .all
        case let value?:
            if let axis = value.int { return Axes([axis]) }
            return Axes(try ints(key))
        }
    }
}

/// One reference case: an op applied to inputs, and the output NumPy computed.
struct FixtureCase: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let op: String
    let params: FixtureParameters
    let inputs: [FixtureArray]
    let expected: FixtureArray

    var testDescription: String { name }
}

/// The fixture files of the test bundle.
enum Fixtures {
    private struct File: Decodable {
        let cases: [FixtureCase]
    }

    /// The names of the fixture files (`Fixtures/*.json`), without their extension.
    static func stems() throws -> [String] {
        guard let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            throw FixtureError("Fixtures is not in the test bundle")
        }
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        return files.filter { $0.pathExtension == "json" }.map { $0.deletingPathExtension().lastPathComponent }.sorted()
    }

    /// The cases of `Fixtures/<stem>.json`.
    static func cases(in stem: String) throws -> [FixtureCase] {
        guard let url = Bundle.module.url(forResource: stem, withExtension: "json", subdirectory: "Fixtures") else {
            throw FixtureError("Fixtures/\(stem).json is not in the test bundle")
        }
        do {
            return try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases
        } catch {
            throw FixtureError("cannot read Fixtures/\(stem).json: \(error)")
        }
    }
}
