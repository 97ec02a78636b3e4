#if canImport(Glibc)
import Glibc
#endif

/// A shared library loaded with `dlopen`, kept loaded while this value lives.
package final class DynamicLibrary: @unchecked Sendable {
    package let path: String
    private let handle: UnsafeMutableRawPointer

    /// Loads the library at `path` (or a name the loader searches for, like
    /// `libopenblas.so.0`); `nil` with the loader's message when it cannot. With `global`,
    /// its symbols resolve the libraries loaded after it (as MPI's plugins need).
    package static func load(_ path: String, global: Bool = false) -> Result<DynamicLibrary, LoadError> {
        guard let handle = dlopen(path, RTLD_NOW | (global ? RTLD_GLOBAL : RTLD_LOCAL)) else {
            return .failure(LoadError(message: dlerror().map { String(cString: $0) } ?? "dlopen failed"))
        }
        return .success(DynamicLibrary(path: path, handle: handle))
    }

    package struct LoadError: Error, CustomStringConvertible {
        package let message: String
        package var description: String { message }
    }

    private init(path: String, handle: UnsafeMutableRawPointer) {
        self.path = path
        self.handle = handle
    }

    /// The address of `symbol`, or `nil`.
    package func symbol(_ name: String) -> UnsafeMutableRawPointer? { dlsym(handle, name) }

    deinit { dlclose(handle) }
}

extension DynamicLibrary {
    /// The function `name`, as type `T`; throws if the module lacks it.
    package func function<T>(_ name: String, as type: T.Type) throws -> T {
        guard let symbol = symbol(name) else { throw TheanoError.toolFailed(tool: "dlsym", reason: "\(name) is missing from \(path)") }
        return unsafeBitCast(symbol, to: type)
    }
}
