import Foundation
import TheanoCore

/// A model's state in a file: the values of its shared variables, each under its name, in an
/// `.npz` archive that NumPy reads (`numpy.load(path)["W0"]`).
///
/// A sparse matrix is stored as its parts, as SciPy builds one: `W.csr.data`, `W.csr.indices`,
/// `W.csr.indptr` and `W.csr.shape` (`csc` for CSC), so that
/// `scipy.sparse.csr_matrix((z["W.csr.data"], z["W.csr.indices"], z["W.csr.indptr"]), shape=z["W.csr.shape"])`
/// reads it back. Loading takes either format and converts it to the variable's.
public enum Checkpoint {
    /// Writes the value of each of `variables` (which need distinct names) to `path`.
    public static func save(_ variables: [SharedVariable], to path: String) throws {
        let members = try named(variables, path: path).flatMap { name, variable -> [(name: String, array: NDArray)] in
            guard let matrix = variable.value.sparse else { return [(name, variable.value)] }
            let prefix = "\(name).\(matrix.format)"
            return [("\(prefix).data", matrix.data), ("\(prefix).indices", NDArray(matrix.indices.map(Int64.init))),
                    ("\(prefix).indptr", NDArray(matrix.indptr.map(Int64.init))), ("\(prefix).shape", NDArray(matrix.shape.map(Int64.init)))]
        }
        try NPZArchive.write(members, to: path)
    }

    /// Gives each of `variables` the value stored under its name in the archive at `path`;
    /// throws, changing nothing, when one is missing or does not fit its variable.
    public static func load(_ variables: [SharedVariable], from path: String) throws {
        let stored = Dictionary(try NPZArchive.read(path).map { ($0.name, $0.array) }) { first, _ in first }
        let pairs = try named(variables, path: path).map { name, variable in
            guard let value = try stored[name] ?? sparseMatrix(named: name, in: stored, path: path) else {
                throw TheanoError.data(path: path, reason: "the checkpoint has no array \(name) (it has \(stored.keys.sorted().joined(separator: ", ")))")
            }
            let fitting = variable.type.isSparse && value.format != .dense ? NDArray(sparse: try value.sparse!.converted(to: variable.type.format)) : value
            guard value.dtype == variable.dtype, variable.type.accepts(fitting) else {
                throw TheanoError.data(path: path, reason: "array \(name) is \(value.dtype) \(value.format == .dense ? "" : "\(value.format) ")\(value.shape), which does not fit \(variable.type)")
            }
            return (variable, fitting)
        }
        for (variable, value) in pairs { try variable.setValue(value) }
    }

    /// The sparse matrix stored as the parts `name.csr.*` or `name.csc.*`, if there is one.
    private static func sparseMatrix(named name: String, in stored: [String: NDArray], path: String) throws -> NDArray? {
        for format in [StorageFormat.csr, .csc] {
            let prefix = "\(name).\(format)"
            guard let data = stored["\(prefix).data"] else { continue }
            let parts = try ["indices", "indptr", "shape"].map { part in
                guard let array = stored["\(prefix).\(part)"], array.dtype.isInteger, array.ndim == 1 else {
                    throw TheanoError.data(path: path, reason: "the sparse matrix \(name) lacks an integer vector \(prefix).\(part)")
                }
                return array.cast(to: .int64).elements(as: Int64.self).map(Int.init)
            }
            do {
                return NDArray(sparse: try SparseMatrix(format: format, shape: parts[2], data: data, indices: parts[0], indptr: parts[1]))
            } catch let error as OpError {
                throw TheanoError.data(path: path, reason: "the sparse matrix \(name) is malformed: \(error.description)")
            }
        }
        return nil
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
