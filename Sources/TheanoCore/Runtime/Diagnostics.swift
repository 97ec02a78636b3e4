import Foundation
import Synchronization

/// Warnings the library prints to standard error, each distinct message once per process
/// (a missing C compiler should not be announced for every function compiled).
package enum Diagnostics {
    private static let said = Mutex<Set<String>>([])

    /// Prints `message` to standard error unless it was printed before.
    package static func warnOnce(_ message: String) {
        let isNew = said.withLock { $0.insert(message).inserted }
        if isNew { FileHandle.standardError.write(Data("swift-theano: warning: \(message)\n".utf8)) }
    }
}
