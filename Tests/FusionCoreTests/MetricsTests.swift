import RealModule
import Testing

@testable import FusionCore
@testable import TensorCore

struct MetricsTests {
    // Reference values computed with numpy (NLL, Brier) and by hand (per-class scores, ECE).
    let labels = [0, 0, 1, 1, 2, 2, 2, 0]
    let probabilities = Matrix([
        [0.7, 0.2, 0.1], [0.3, 0.4, 0.3], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6],
        [0.1, 0.1, 0.8], [0.3, 0.3, 0.4], [0.5, 0.2, 0.3], [0.6, 0.3, 0.1],
    ])

    @Test func classificationMetricsMatchReferenceValues() {
        let m = ClassificationMetrics(probabilities: probabilities, labels: labels)
        #expect(m.accuracy == 0.625)
        #expect(m.confusion == [[2, 1, 0], [0, 1, 1], [1, 0, 2]])
        #expect(m.perClass.map(\.support) == [3, 2, 3])
        #expect(m.perClass[1].precision.isApproximatelyEqual(to: 0.5))
        #expect(m.macroF1.isApproximatelyEqual(to: 11.0 / 18.0, relativeTolerance: 1e-12))
        #expect(m.weightedF1.isApproximatelyEqual(to: 0.625, relativeTolerance: 1e-12))
        #expect(m.balancedAccuracy.isApproximatelyEqual(to: 11.0 / 18.0, relativeTolerance: 1e-12))
        #expect(m.nll.isApproximatelyEqual(to: 0.7809327404116588, relativeTolerance: 1e-6))  // numpy
        #expect(m.brier.isApproximatelyEqual(to: 0.4525, relativeTolerance: 1e-6))  // numpy
        #expect(m.ece.isApproximatelyEqual(to: 0.2, absoluteTolerance: 1e-6))
        #expect(m.eceBins == 15)
        #expect(m.topK[2] == 1.0)
        #expect(m.scalars["top2_accuracy"] == 1.0)
    }

    @Test func perClassF1FromStoredPredictionsMatchesTheFullMetrics() {
        let m = ClassificationMetrics(probabilities: probabilities, labels: labels)
        let stored = SamplePredictions(
            labels: labels,
            predictedClasses: probabilities.argmaxRows(),
            trueClassProbabilities: labels.enumerated().map { probabilities[$0.offset, $0.element] },
            classCount: 3
        )
        #expect(zip(stored.perClassF1(), m.perClass.map(\.f1)).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(abs(stored.macroF1(Array(0..<labels.count)) - m.macroF1) < 1e-12)
    }

    @Test func regressionMetrics() {
        let m = RegressionMetrics(predictions: [1, 2, 3, 5], targets: [1, 2, 3, 4])
        #expect(m.mae == 0.25)
        #expect(m.rmse == 0.5)
        #expect(m.r2.isApproximatelyEqual(to: 1 - 1 / 5.0))
    }
}

struct PairedStatisticsTests {
    // Constants from scipy 1.17: binomtest(min(b, c), b + c, 0.5).pvalue and chi2.sf((|b−c|−1)²/(b+c), 1).
    @Test(arguments: [
        (3, 12, 0.03515625), (10, 10, 1.0), (0, 7, 0.015625), (45, 60, 0.1715646971542424),
        (400, 350, 0.07350777405843484),
    ])
    func mcnemarExactMatchesScipy(b: Int, c: Int, expected: Double) {
        let (p, method) = PairedComparison.mcnemar(b, c)
        #expect(method == "exact-binomial")
        #expect(p.isApproximatelyEqual(to: expected, relativeTolerance: 1e-9))
    }

    @Test(arguments: [(620, 540, 0.02036686517365329), (1000, 1100, 0.030745034758993192)])
    func mcnemarChiSquaredMatchesScipy(b: Int, c: Int, expected: Double) {
        let (p, method) = PairedComparison.mcnemar(b, c)
        #expect(method == "chi2-continuity-corrected")
        #expect(p.isApproximatelyEqual(to: expected, relativeTolerance: 1e-9))
    }

    func predictions(correct: [Bool], probability: Float) -> SamplePredictions {
        SamplePredictions(
            labels: correct.map { _ in 0 },
            predictedClasses: correct.map { $0 ? 0 : 1 },
            trueClassProbabilities: correct.map { $0 ? probability : 1 - probability },
            classCount: 2
        )
    }

    @Test func bootstrapIsSeededAndVerdictFollowsMcNemar() throws {
        // A is right on 60 of 100, B on 80; B is right wherever A is.
        let a = predictions(correct: (0..<100).map { $0 < 60 }, probability: 0.7)
        let b = predictions(correct: (0..<100).map { $0 < 80 }, probability: 0.7)
        let r1 = try PairedComparison(a: a, b: b, resamples: 500, seed: 7)
        let r2 = try PairedComparison(a: a, b: b, resamples: 500, seed: 7)
        #expect(r1 == r2)
        #expect(r1.aOnlyCorrect == 0 && r1.bOnlyCorrect == 20)
        #expect(r1.mcnemarP.isApproximatelyEqual(to: 1.9073486328125e-06, relativeTolerance: 1e-9))  // 2·0.5²⁰
        #expect(r1.verdict == .bBetter)
        #expect(r1.deltaAccuracy.estimate.isApproximatelyEqual(to: 0.2, absoluteTolerance: 1e-12))
        #expect(r1.deltaAccuracy.lower > 0.1 && r1.deltaAccuracy.upper < 0.3 && r1.deltaAccuracy.lower < 0.2)
        #expect(r1.deltaNLL.estimate < 0)
        let same = try PairedComparison(a: a, b: a, resamples: 100)
        #expect(same.verdict == .noDifference && same.mcnemarP == 1 && same.deltaAccuracy.lower == 0)
    }

    @Test func mismatchedSamplesAreRefused() {
        let a = predictions(correct: [true, false], probability: 0.6)
        let b = SamplePredictions(
            labels: [1, 1],
            predictedClasses: [1, 1],
            trueClassProbabilities: [0.5, 0.5],
            classCount: 2
        )
        #expect(throws: FusionError.self) { try PairedComparison(a: a, b: b) }
    }
}
