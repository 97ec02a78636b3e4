import Foundation
import Synchronization

/// A symbolic tensor: a node of the graph that stands for a value computed when a compiled
/// function runs.
///
/// A variable is either a free input (made by `scalar`, `matrix`, `tensor`, …), the output of
/// an ``Apply`` node (`owner`), a ``Constant`` or a ``SharedVariable``. Identity is object
/// identity: two variables are the same node only if they are the same object.
public class Variable: Hashable, CustomStringConvertible {
    /// The static type: dtype and what is known of the shape.
    public let type: TensorType
    /// A name for printing and error messages.
    public var name: String?
    /// The node that computes this variable, or `nil` for a leaf.
    public package(set) var owner: Apply?
    /// Which of `owner`'s outputs this is.
    public package(set) var outputIndex: Int
    /// Where the user built this variable (for a leaf) or its owner.
    public let location: SourceLocation

    package init(type: TensorType, name: String? = nil, owner: Apply? = nil, outputIndex: Int = 0, location: SourceLocation) {
        self.type = type
        self.name = name
        self.owner = owner
        self.outputIndex = outputIndex
        self.location = location
    }

    /// The element type.
    public var dtype: DType { type.dtype }
    /// The number of dimensions.
    public var ndim: Int { type.ndim }
    /// The static shape (`nil` for dimensions known only at run time).
    public var staticShape: [Int?] { type.shape }

    public static func == (lhs: Variable, rhs: Variable) -> Bool { lhs === rhs }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }

    /// The name, or the op that computes it, with the type: `x: float32[?, 784]`.
    public var description: String {
        let label = name ?? owner.map { "\($0.op)(…)" } ?? "<\(kindName)>"
        return "\(label): \(type)"
    }

    var kindName: String { "input" }
}

/// A variable whose value is fixed when the graph is built. Constants with equal type and
/// elements are interchangeable, and compilation merges them.
public final class Constant: Variable {
    /// The constant's value.
    public let value: NDArray

    package init(_ value: NDArray, name: String? = nil, location: SourceLocation) {
        self.value = value
        super.init(type: TensorType(value.dtype, shape: value.shape, format: value.format), name: name, location: location)
    }

    /// Whether `other` holds the same dtype, shape and elements (NaNs compare by bits).
    func hasSameValue(as other: Constant) -> Bool {
        if value.sparse != nil || other.value.sparse != nil { return value.sparse == other.value.sparse }
        return value.dtype == other.value.dtype && value.shape == other.value.shape
            && value.contiguous().withBytes { a in other.value.contiguous().withBytes { b in a.elementsEqual(b) } }
    }

    override var kindName: String { "constant \(value.count == 1 ? value.description : "")" }
}

/// A variable with a value that lives between calls of compiled functions: model parameters,
/// optimizer state. Compiled functions read it, and write it through their `updates`.
///
/// It may be read and set from any thread: each variable has a read-write lock. `value`
/// reads under it and `setValue(_:)` writes; a compiled function holds it from reading the
/// variables it uses to writing its updates — for reading where it only reads the variable
/// (so functions serving predictions from one model run at once), for writing where it
/// updates it. The locks of several variables are taken in the order the variables were
/// made, so two functions never wait for each other.
public final class SharedVariable: Variable, @unchecked Sendable {
    private let lock = ReadWriteLock()
    /// The value, read and written under `lock`.
    private var stored: NDArray
    /// The order in which functions take the locks of several variables: when it was made.
    let lockOrder: Int

    package init(_ value: NDArray, type: TensorType, name: String?, location: SourceLocation) {
        stored = value
        lockOrder = SharedVariable.made.add(1, ordering: .relaxed).oldValue
        super.init(type: type, name: name, location: location)
    }

    private static let made = Atomic<Int>(0)

    /// The current value.
    public var value: NDArray { lock.reading { stored } }

    /// The new value a compiled function gives this variable after each call when the
    /// function reads it and its `updates` give none (Theano's `default_update`): a random
    /// stream's state advances this way. `function(…, noDefaultUpdates: true)` applies none.
    public var defaultUpdate: Variable? {
        get { lock.reading { storedDefaultUpdate } }
        set { lock.writing { storedDefaultUpdate = newValue } }
    }
    private var storedDefaultUpdate: Variable?

    /// Replaces the value; it must fit the variable's type.
    public func setValue(_ newValue: NDArray) throws {
        guard type.accepts(newValue) else {
            throw TheanoError.badInput(function: "SharedVariable.setValue", input: name ?? "shared variable",
                                       expected: type, dtype: newValue.dtype, shape: newValue.shape)
        }
        lock.writing { stored = newValue }
    }

    /// The value, for a function that holds the lock (see ``withLocks(of:_:)``).
    var lockedValue: NDArray { stored }

    /// Stores a value computed by a function update (already checked against the type), for
    /// a function that holds the lock.
    package func store(_ newValue: NDArray) { stored = newValue }

    /// Whether no array but this variable's value refers to its memory, so an update may
    /// be written over it without anyone seeing (for a function that holds the lock).
    func ownsValueMemory() -> Bool { stored.hasUniqueStorage() }

    /// Runs `body` holding the locks of `read` (for reading) and `written` (for writing; a
    /// variable in both is written), taken in the order the variables were made and released
    /// in reverse.
    package static func withLocks<R>(reading read: [SharedVariable], writing written: [SharedVariable], _ body: () throws -> R) rethrows -> R {
        try withLocks(LockPlan(reading: read, writing: written), body)
    }

    /// The locks of a set of variables in the order they are taken, worked out once for the
    /// calls of a function.
    package struct LockPlan {
        let variables: [SharedVariable]
        let writes: [Bool]

        /// The locks of `read` (for reading) and `written` (for writing; a variable in both is
        /// written), in the order the variables were made.
        package init(reading read: [SharedVariable], writing written: [SharedVariable]) {
            let writing = Set(written)
            variables = writing.union(read).sorted { $0.lockOrder < $1.lockOrder }
            writes = variables.map(writing.contains)
        }
    }

    /// Runs `body` holding the locks of `plan`, taken in its order and released in reverse.
    // Specialized for the calls of functions (in another module).
    @_specialize(exported: true, where R == [NDArray])
    package static func withLocks<R>(_ plan: LockPlan, _ body: () throws -> R) rethrows -> R {
        for (variable, writes) in zip(plan.variables, plan.writes) { writes ? variable.lock.lockForWriting() : variable.lock.lockForReading() }
        defer { for variable in plan.variables.reversed() { variable.lock.unlock() } }
        return try body()
    }

    override var kindName: String { "shared" }
}
