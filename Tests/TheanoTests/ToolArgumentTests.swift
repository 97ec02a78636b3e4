import Foundation
import Testing

/// The `theano` tool refuses numbers that make no sense with a message naming the option,
/// instead of trapping inside the training loop.
@Suite("Tool arguments", .enabled(if: Tool.executable != nil))
struct ToolArgumentTests {
    @Test(arguments: [
        (["--batch-size", "0"], "--batch-size must be at least 1, not 0"),
        (["--epochs", "0"], "--epochs must be at least 1, not 0"),
        (["--hidden=-2"], "--hidden must be at least 1, not -2"),
        (["--learning-rate", "nan"], "--learning-rate must be positive, not nan"),
        (["--learning-rate=-0.1"], "--learning-rate must be positive, not -0.1"),
        (["--depth=-1"], "--depth must not be negative, not -1"),
    ])
    func nonsensicalNumbersAreRefused(arguments: [String], message: String) throws {
        let result = try Tool.start(["train", "mlp"] + arguments).finish()
        #expect(result.status != 0 && result.errors.contains(message), "\(result.errors)")
    }

    @Test func graphPagesNeedAPlaceAndSteps() throws {
        let negative = try Tool.start(["viz", "mlp", "--steps=-1"]).finish()
        #expect(negative.status != 0 && negative.errors.contains("--steps must not be negative, not -1"), "\(negative.errors)")
        let nowhere = try Tool.start(["viz", "logreg", "--steps", "0", "--output", "/nonexistent/directory/graph.html"]).finish()
        #expect(nowhere.status != 0 && nowhere.errors.contains("cannot write /nonexistent/directory/graph.html"), "\(nowhere.errors)")
    }

    @Test func benchmarksNeedARun() throws {
        let result = try Tool.start(["bench", "W7", "--runs", "0"]).finish()
        #expect(result.status != 0 && result.errors.contains("--runs must be at least 1, not 0"), "\(result.errors)")
    }
}
