import Testing
import TheanoDistributed

extension OpRecords {
    /// The collectives of TheanoDistributed run only inside MPI jobs, so their facets are
    /// checked by tests of their own, in jobs of one and two processes.
    static let distributed: [OpRecord] = [
        OpRecord(AllReduce.self,
                 values: .checkedElsewhere(by: "DistributedTests.collectivesGiveTheExpectedValues (theano mpi, 1–3 processes)"),
                 gradients: .checkedElsewhere(by: "DistributedInnerTests.gradientsAndTangentsMatchFiniteDifferences"),
                 forwardMode: .notApplicable(because: "checked by DistributedInnerTests.gradientsAndTangentsMatchFiniteDifferences (verifyRop)"),
                 gradientTypes: .checkedElsewhere(by: "DistributedInnerTests.gradientsKeepTheirTypesAndShapesAreInferred"),
                 shapes: .checkedElsewhere(by: "DistributedInnerTests.gradientsKeepTheirTypesAndShapesAreInferred"),
                 native: .notApplicable(because: .noNativeKernel)),
    ]
}
