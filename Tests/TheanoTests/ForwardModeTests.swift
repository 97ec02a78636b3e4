@testable import Theano
import Testing
import TheanoTestSupport

@Suite struct ForwardModeTests {
    /// Every gradient case also checks forward mode: the same graphs cover every op.
    @Test(arguments: GradientCases.allCases)
    func ropMatchesFiniteDifferencesAndTransposedPullbacks(_ testCase: GradientCase) throws {
        var random = RandomState(seed: 11)
        let point = testCase.inputs.map { $0.sample(using: &random) }
        let tolerance = testCase.tolerance
        try verifyRop(testCase.build, at: point, step: tolerance.step,
                      absoluteTolerance: tolerance.absolute, relativeTolerance: tolerance.relative)
    }
}
