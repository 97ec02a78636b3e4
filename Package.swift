// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "swift-theano",
    products: [
        .library(name: "Theano", targets: ["Theano"]),
        .library(name: "TheanoModels", targets: ["TheanoModels"]),
        .library(name: "TheanoDistributed", targets: ["TheanoDistributed"]),
        .library(name: "TheanoTestSupport", targets: ["TheanoTestSupport"]),
        .executable(name: "theano", targets: ["theano"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Documentation only (`swift package generate-documentation`); no target depends on it.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    // The layers, each a target that sees only those below it:
    // TheanoCore → TheanoOps → TheanoOptimizer → TheanoAutodiff → TheanoLoops → Theano,
    // with TheanoNative (the C backend) above TheanoOps. `Theano` re-exports them all.
    targets: [
        .target(name: "TheanoCore", dependencies: [.product(name: "RealModule", package: "swift-numerics")]),
        .target(name: "TheanoOps", dependencies: ["TheanoCore", .product(name: "RealModule", package: "swift-numerics")]),
        .target(name: "TheanoOptimizer", dependencies: ["TheanoOps"]),
        .target(name: "TheanoAutodiff", dependencies: ["TheanoOptimizer"]),
        .target(name: "TheanoNative", dependencies: ["TheanoOps"]),
        .target(name: "TheanoLoops", dependencies: ["TheanoAutodiff"]),
        .target(
            name: "Theano",
            dependencies: ["TheanoLoops", "TheanoNative"],
            resources: [.copy("Datasets/Resources")]
        ),
        // Collectives over MPI (loaded at run time) and the graph op that calls them.
        .target(name: "TheanoDistributed", dependencies: ["Theano"]),
        .target(name: "TheanoModels", dependencies: ["Theano", "TheanoDistributed"]),
        .target(name: "TheanoTestSupport", dependencies: ["Theano"]),
        .executableTarget(
            name: "theano",
            dependencies: ["Theano", "TheanoModels", "TheanoDistributed", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(
            name: "TheanoTests",
            // The tool is built for tests that run it as a second process (the kernel cache).
            dependencies: ["TheanoCore", "TheanoOps", "TheanoOptimizer", "TheanoAutodiff", "TheanoNative", "TheanoLoops", "Theano",
                           "TheanoModels", "TheanoDistributed", "TheanoTestSupport", "theano"],
            resources: [.copy("Fixtures")]
        ),
    ]
)
