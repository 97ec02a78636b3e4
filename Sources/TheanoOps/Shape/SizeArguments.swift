import TheanoCore

/// What is known, when the graph is built, of sizes given as `int64` scalars (one per
/// dimension, as `alloc`, `reshape`, `split` and random draws take them): the value of each
/// constant, else nothing.
package func staticSizes(_ sizes: [Variable]) -> [Int?] {
    sizes.map { ($0 as? Constant).map { Int($0.value.scalar(as: Int64.self)) } }
}

/// The shape asked for by sizes given as `int64` scalars, none of them negative.
package func requestedShape(_ sizes: ArraySlice<NDArray>) throws -> [Int] {
    let shape = sizes.map { Int($0.scalar(as: Int64.self)) }
    guard shape.allSatisfy({ $0 >= 0 }) else { throw OpError("negative size in \(shapeText(shape))") }
    return shape
}
