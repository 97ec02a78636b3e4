import Foundation
import TheanoCore

/// A model's state in a file: the values of its shared variables, each under its name, in an
/// `.npz` archive that NumPy reads (`numpy.load(path)["W0"]`).
public enum Checkpoint {
    /// Writes the value of each of `variables` (which need distinct names) to `path`.
    public static func save(_ variables: [SharedVariable], to path: String) throws {
        try NPZArchive.write(try named(variables, path: path).map { ($0, $1.value) }, to: path)
    }

    /// Gives each of `variables` the value stored under its name in the archive at `path`;
    /// throws, changing nothing, when one is missing or does not fit its variable.
    public static func load(_ variables: [SharedVariable], from path: String) throws {
        let stored = Dictionary(try NPZArchive.read(path).map { ($0.name, $0.array) }) { first, _ in first }
        let pairs = try named(variables, path: path).map { name, variable in
            guard let value = stored[name] else {
                throw TheanoError.data(path: path, reason: "the checkpoint has no array \(name) (it has \(stored.keys.sorted().joined(separator: ", ")))")
            }
            guard value.dtype == variable.dtype, variable.type.accepts(shape: value.shape) else {
                throw TheanoError.data(path: path, reason: "array \(name) is \(value.dtype) \(value.shape), which does not fit \(variable.type)")
            }
            return (variable, value)
        }
        for (variable, value) in pairs { try variable.setValue(value) }
    }

    /// Each variable with its name, which must exist and be unique.
    private static func named(_ variables: [SharedVariable], path: String) throws -> [(String, SharedVariable)] {
        var seen: Set<String> = []
        return try variables.map { variable in
            guard let name = variable.name, seen.insert(name).inserted else {
                throw TheanoError.data(path: path, reason: "every saved variable needs a name of its own; \(variable.name.map { "\($0) is used twice" } ?? "one has none")")
            }
            return (name, variable)
        }
    }
}
