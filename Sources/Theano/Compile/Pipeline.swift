import Foundation
import TheanoCore
import TheanoOps
import TheanoOptimizer
import TheanoAutodiff
import TheanoNative
import TheanoLoops

/// The one place where rules are assembled into phases.
enum Pipeline {
    /// A step of the pipeline: a phase's rules under a driver, or a whole-graph pass.
    enum Stage {
        case rules(RewritePhase, [Rewrite], RewriteDriver.Strategy)
        case pass(RewritePhase, GraphPass)
    }

    static func stages(_ phase: RewritePhase) -> [Stage] {
        switch phase {
        case .inline: [.rules(.inline, inlineRules, .equilibrium(maxPasses: 20))]
        case .merge: [.pass(.merge, mergeEquivalentNodes)]
        case .constantFolding: [.rules(.constantFolding, [constantFolding], .equilibrium(maxPasses: 20))]
        case .shape: [.rules(.shape, shapeRules, .equilibrium(maxPasses: 20))]
        case .canonicalize: [.rules(.canonicalize, canonicalizeRules + [constantFolding], .equilibrium(maxPasses: 20)),
                             .pass(.canonicalize, mergeEquivalentNodes)]
        case .loops: loopRewrites.map { .pass(.loops, $0) }
        case .stabilize: [.rules(.stabilize, stabilizeRules, .equilibrium(maxPasses: 20))]
        case .specialize: [.rules(.specialize, specializeRules + [constantFolding], .equilibrium(maxPasses: 20)),
                           // Last, so that gemv sees dot(A, x) inside sums first.
                           .rules(.specialize, [matrixVectorProduct], .inToOut),
                           .pass(.specialize, mergeEquivalentNodes)]
        case .fusion: [.rules(.fusion, fusionRules, .equilibrium(maxPasses: 50)),
                       .rules(.fusion, [drawFusion], .inToOut),
                       .rules(.fusion, [reductionFusion], .inToOut)]
        }
    }

    /// Rewrites `graph` in place as `options` ask.
    static func optimize(_ graph: FunctionGraph, options: CompileOptions) -> RewriteReport {
        var report = RewriteReport()
        let start = ContinuousClock.now
        for phase in options.optimization.phases where !options.excluding.contains(phase.rawValue) {
            for stage in stages(phase) {
                switch stage {
                case .rules(let phase, let rules, let strategy):
                    let added = options.additionalRules.filter { $0.phase == phase }.map(\.rule)
                    let kept = (rules + added).filter { !options.excluding.contains($0.name) }
                    RewriteDriver(phase: phase.rawValue, rules: kept, strategy: strategy)
                        .run(on: graph, report: &report, trace: options.trace, check: options.checkInvariants)
                case .pass(let phase, let pass):
                    guard !options.excluding.contains(pass.name), report.failures[pass.name] == nil else { continue }
                    do {
                        let changes = try pass.run(graph)
                        if changes > 0 {
                            report.counts[pass.name, default: 0] += changes
                            if options.trace {
                                report.events.append(.init(phase: phase.rawValue, rule: pass.name, op: "\(changes) node(s)", location: pass.location))
                            }
                        }
                        if options.checkInvariants, let violation = GraphChecker.violation(in: graph) {
                            report.violations.append("after \(pass.name): \(violation)")
                        }
                    } catch {
                        report.failures[pass.name] = "\(error)"
                    }
                }
            }
        }
        report.seconds = seconds(since: start)
        return report
    }
}
