import FusionCore
import Testing

@testable import RegistryStore

/// The gate decides: superiority by McNemar or the bootstrap, non-inferiority by the one-sided
/// bootstrap bound against the margin, on the metric asked for.
struct PromotionGateTests {
    /// 2,000 samples of 4 classes. A is right on samples `0..<aRight`; B on `0..<bRight − 30` and
    /// on the 30 samples after A's, so both have samples only they get right (as real models do);
    /// the true class gets 0.9 when right, 0.05 otherwise.
    func comparison(aRight: Int, bRight: Int, n: Int = 2000) throws -> PairedComparison {
        let labels = (0..<n).map { $0 % 4 }
        func model(_ isRight: (Int) -> Bool) -> SamplePredictions {
            SamplePredictions(
                labels: labels,
                predictedClasses: labels.indices.map { isRight($0) ? labels[$0] : (labels[$0] + 1) % 4 },
                trueClassProbabilities: labels.indices.map { isRight($0) ? 0.9 : 0.05 },
                classCount: 4
            )
        }
        let a = model { $0 < aRight }
        let b = model { $0 < bRight - 30 || (aRight..<aRight + 30).contains($0) }
        return try PairedComparison(a: a, b: b, alpha: 0.05, resamples: 2000, seed: 7)
    }

    @Test func notWorseRefusesASlightlyWorseCandidateUnlessTheMarginCoversIt() throws {
        // B is 0.5 points worse (1790 vs 1800 right of 2000).
        let slightlyWorse = try comparison(aRight: 1800, bRight: 1790)
        #expect(slightlyWorse.verdict == .noDifference)  // the old "not-worse" (McNemar did not favour A) passed this
        #expect(!PromotionGate(.notWorse, margin: 0.001).judge(slightlyWorse).passed)
        #expect(!PromotionGate(.notWorse, margin: 0.005).judge(slightlyWorse).passed)
        #expect(PromotionGate(.notWorse, margin: 0.02).judge(slightlyWorse).passed)
        // The bound is the 5th percentile of the paired bootstrap of ΔAccuracy, below the estimate.
        let (estimate, bound) = PromotionGate(.notWorse).improvement(slightlyWorse)
        #expect(abs(estimate - -0.005) < 1e-12)
        #expect(bound < estimate && bound > -0.02)
        #expect(!PromotionGate(.better).judge(slightlyWorse).passed)
    }

    @Test func betterNeedsSignificanceOnTheChosenMetric() throws {
        let clearlyBetter = try comparison(aRight: 1700, bRight: 1800)
        for metric in GateMetric.allCases {
            #expect(PromotionGate(.better, metric: metric).judge(clearlyBetter).passed, "\(metric)")
            #expect(PromotionGate(.notWorse, metric: metric, margin: 0).judge(clearlyBetter).passed, "\(metric)")
        }
        let same = try comparison(aRight: 1800, bRight: 1800)
        // Equal on average: non-inferior within a margin wider than the noise (NLL is noisier: each
        // discordant sample moves it by log(0.9 / 0.05) ≈ 2.9 / n).
        let margins: [GateMetric: Double] = [.accuracy: 0.01, .macroF1: 0.01, .nll: 0.05]
        for metric in GateMetric.allCases {
            #expect(!PromotionGate(.better, metric: metric).judge(same).passed, "\(metric)")
            #expect(PromotionGate(.notWorse, metric: metric, margin: margins[metric]!).judge(same).passed, "\(metric)")
        }
        let clearlyWorse = try comparison(aRight: 1800, bRight: 1700)
        for metric in GateMetric.allCases {
            #expect(!PromotionGate(.notWorse, metric: metric, margin: 0.01).judge(clearlyWorse).passed, "\(metric)")
        }
    }

    @Test func nllIsJudgedInItsOwnDirection() throws {
        // B is right as often but less confident: accuracy equal, NLL worse.
        let labels = (0..<1000).map { $0 % 2 }
        let a = SamplePredictions(
            labels: labels,
            predictedClasses: labels,
            trueClassProbabilities: Array(repeating: 0.95, count: 1000),
            classCount: 2
        )
        let b = SamplePredictions(
            labels: labels,
            predictedClasses: labels,
            trueClassProbabilities: Array(repeating: 0.6, count: 1000),
            classCount: 2
        )
        let s = try PairedComparison(a: a, b: b, resamples: 200)
        // A bound of exactly 0 is not above 0.
        #expect(PromotionGate(.notWorse, metric: .accuracy, margin: 0).judge(s).passed == false)
        #expect(PromotionGate(.notWorse, metric: .accuracy, margin: 0.001).judge(s).passed)
        #expect(!PromotionGate(.notWorse, metric: .nll, margin: 0.1).judge(s).passed)  // ΔNLL = log(0.95/0.6) ≈ 0.46
        #expect(PromotionGate(.notWorse, metric: .nll, margin: 0.5).judge(s).passed)
    }

    @Test func marginAndAlphaAreChecked() {
        #expect(throws: RegistryError.self) { try PromotionGate(.notWorse, margin: -0.01).validate() }
        #expect(throws: RegistryError.self) { try PromotionGate(alpha: 1).validate() }
    }
}
