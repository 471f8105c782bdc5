import RealModule

/// One model's per-sample outcome on a dataset: what the store keeps of an evaluation.
public struct SamplePredictions: Sendable, Hashable {
    /// The true class of each sample.
    public let labels: [Int]
    /// The class the model predicted for each sample (its top probability).
    public let predictedClasses: [Int]
    /// The probability the model gave the true class.
    public let trueClassProbabilities: [Float]
    /// The number of classes `C`.
    public let classCount: Int

    /// Creates the outcome; the three arrays have one element per sample.
    public init(labels: [Int], predictedClasses: [Int], trueClassProbabilities: [Float], classCount: Int) {
        precondition(labels.count == predictedClasses.count && labels.count == trueClassProbabilities.count)
        self.labels = labels
        self.predictedClasses = predictedClasses
        self.trueClassProbabilities = trueClassProbabilities
        self.classCount = classCount
    }

    /// The number of samples.
    public var count: Int { labels.count }

    func accuracy(_ idx: [Int]) -> Double {
        Double(idx.filter { predictedClasses[$0] == labels[$0] }.count) / Double(idx.count)
    }

    func nll(_ idx: [Int]) -> Double {
        idx.reduce(0.0) { $0 - Double.log(Double(max(trueClassProbabilities[$1], 1e-15))) } / Double(idx.count)
    }

    /// Per-class F1 over the samples at `indices` (all of them by default):
    /// `2·TP / (2·TP + FP + FN)`, 0 for a class that is neither predicted nor present.
    public func perClassF1(_ indices: [Int]? = nil) -> [Double] {
        var tp = [Int](repeating: 0, count: classCount)
        var fp = tp
        var fn = tp
        for i in indices ?? Array(0..<count) {
            if predictedClasses[i] == labels[i] {
                tp[labels[i]] += 1
            } else {
                fp[predictedClasses[i]] += 1
                fn[labels[i]] += 1
            }
        }
        return (0..<classCount).map { k in
            let d = Double(2 * tp[k] + fp[k] + fn[k])
            return d == 0 ? 0 : Double(2 * tp[k]) / d
        }
    }

    /// The unweighted mean of ``perClassF1(_:)``.
    func macroF1(_ idx: [Int]) -> Double { perClassF1(idx).reduce(0, +) / Double(classCount) }
}

/// A percentile bootstrap interval of a difference `B − A`.
public struct BootstrapInterval: Sendable, Hashable, Codable {
    /// The difference on all samples (B − A).
    public let estimate: Double
    /// The `α/2` percentile of the resampled differences.
    public let lower: Double
    /// The `1 − α/2` percentile of the resampled differences.
    public let upper: Double
}

/// Paired A/B statistics on the same samples.
///
/// - McNemar: `b` = samples A gets right and B wrong, `c` = the reverse. With `n = b + c ≤ 1000`
///   the exact two-sided binomial test, `p = min(1, 2·P[X ≤ min(b, c)])`, `X ~ Bin(n, ½)`;
///   above that the continuity-corrected χ², `(|b − c| − 1)² / n` on 1 degree of freedom.
/// - Paired bootstrap: `resamples` draws of n indices with replacement (seeded), the same
///   indices for A and B; percentile interval at `1 − α` of Δaccuracy, Δmacro-F1 and ΔNLL (B − A).
/// - One-sided bounds: the α and 1 − α percentiles of the same draws — the one-sided `1 − α`
///   bound of each difference on the side a non-inferiority test needs (``OneSidedBounds``).
/// - Verdict: `b-better` / `a-better` when McNemar's p < α (the direction of Δaccuracy), else `no-difference`.
public struct PairedComparison: Sendable, Hashable, Codable {
    /// The number of paired samples `n`.
    public let sampleCount: Int
    /// McNemar's `b`: samples A gets right and B wrong.
    public let aOnlyCorrect: Int
    /// McNemar's `c`: samples B gets right and A wrong.
    public let bOnlyCorrect: Int
    /// McNemar's two-sided p-value (method in ``mcnemarMethod``).
    public let mcnemarP: Double
    /// `exact-binomial` or `chi2-continuity-corrected`.
    public let mcnemarMethod: String
    /// Accuracy of B minus accuracy of A, with its bootstrap interval.
    public let deltaAccuracy: BootstrapInterval
    /// Macro-F1 of B minus macro-F1 of A, with its bootstrap interval.
    public let deltaMacroF1: BootstrapInterval
    /// NLL of B minus NLL of A, with its bootstrap interval (negative: B is better calibrated).
    public let deltaNLL: BootstrapInterval
    /// One-sided `1 − α` bootstrap bounds (nil in comparisons recorded before they were kept).
    public let oneSided: OneSidedBounds?
    /// The significance level `α` (0.05 by default).
    public let alpha: Double
    /// The number of bootstrap resamples.
    public let resamples: Int
    /// The seed of the resampling.
    public let seed: UInt64
    /// Which model is better, if McNemar's test says either is.
    public let verdict: Verdict

    /// The outcome of the test, named as the CLI prints it.
    public enum Verdict: String, Sendable, Hashable, Codable {
        /// A is better: McNemar's p < α and A gets more samples right.
        case aBetter = "a-better"
        /// B is better: McNemar's p < α and B gets more samples right.
        case bBetter = "b-better"
        /// McNemar's p ≥ α: no significant difference.
        case noDifference = "no-difference"
    }

    /// Compares `b` against `a` on the same samples.
    ///
    /// Throws ``FusionError`` (`invalidData`) when the labels differ or there are no samples, and
    /// (`invalidSpec`) when `alpha` is outside (0, 1) or `resamples` is below 1.
    public init(
        a: SamplePredictions,
        b: SamplePredictions,
        alpha: Double = 0.05,
        resamples: Int = 1000,
        seed: UInt64 = 0
    ) throws {
        guard a.labels == b.labels else {
            throw FusionError(.invalidData, "a paired comparison needs the same samples and labels for A and B")
        }
        guard a.count > 0 else { throw FusionError(.invalidData, "a paired comparison needs at least one sample") }
        guard alpha > 0 && alpha < 1, resamples >= 1 else {
            throw FusionError(.invalidSpec, "alpha must be in (0, 1) and resamples at least 1")
        }
        let n = a.count
        var onlyA = 0
        var onlyB = 0
        for i in 0..<n {
            let ra = a.predictedClasses[i] == a.labels[i]
            let rb = b.predictedClasses[i] == b.labels[i]
            if ra && !rb { onlyA += 1 }
            if rb && !ra { onlyB += 1 }
        }
        (mcnemarP, mcnemarMethod) = Self.mcnemar(onlyA, onlyB)
        aOnlyCorrect = onlyA
        bOnlyCorrect = onlyB
        sampleCount = n
        let all = Array(0..<n)
        var rng = SeededRandom(seed: seed)
        var dAcc: [Double] = []
        var dF1: [Double] = []
        var dNLL: [Double] = []
        for _ in 0..<resamples {
            let idx = (0..<n).map { _ in rng.index(below: n) }
            dAcc.append(b.accuracy(idx) - a.accuracy(idx))
            dF1.append(b.macroF1(idx) - a.macroF1(idx))
            dNLL.append(b.nll(idx) - a.nll(idx))
        }
        func interval(_ xs: [Double], _ estimate: Double) -> BootstrapInterval {
            BootstrapInterval(
                estimate: estimate,
                lower: Self.percentile(xs, alpha / 2),
                upper: Self.percentile(xs, 1 - alpha / 2)
            )
        }
        deltaAccuracy = interval(dAcc, b.accuracy(all) - a.accuracy(all))
        deltaMacroF1 = interval(dF1, b.macroF1(all) - a.macroF1(all))
        deltaNLL = interval(dNLL, b.nll(all) - a.nll(all))
        oneSided = OneSidedBounds(
            accuracyLower: Self.percentile(dAcc, alpha),
            macroF1Lower: Self.percentile(dF1, alpha),
            nllUpper: Self.percentile(dNLL, 1 - alpha)
        )
        self.alpha = alpha
        self.resamples = resamples
        self.seed = seed
        if mcnemarP < alpha, onlyA != onlyB {
            verdict = onlyB > onlyA ? .bBetter : .aBetter
        } else {
            verdict = .noDifference
        }
    }

    /// McNemar's p-value for discordant counts `b` and `c`.
    public static func mcnemar(_ b: Int, _ c: Int) -> (p: Double, method: String) {
        let n = b + c
        if n == 0 { return (1, "exact-binomial") }
        if n <= 1000 {
            // P[X ≤ k] for X ~ Bin(n, ½), summed in log space.
            let k = min(b, c)
            let logHalfN = Double(n) * Double.log(0.5)
            var terms: [Double] = []
            for i in 0...k {
                terms.append(
                    Double.logGamma(Double(n + 1)) - Double.logGamma(Double(i + 1)) - Double.logGamma(Double(n - i + 1))
                        + logHalfN
                )
            }
            let mx = terms.max()!
            let tail = Double.exp(mx) * terms.reduce(0) { $0 + Double.exp($1 - mx) }
            return (min(1, 2 * tail), "exact-binomial")
        }
        let d = Double(abs(b - c)) - 1
        let statistic = max(d, 0) * max(d, 0) / Double(n)
        // χ²(1) survival: erfc(√(x/2)).
        return (Double.erfc((statistic / 2).squareRoot()), "chi2-continuity-corrected")
    }

    /// The `q` quantile by linear interpolation between order statistics (NumPy's default).
    static func percentile(_ xs: [Double], _ q: Double) -> Double {
        let s = xs.sorted()
        let position = q * Double(s.count - 1)
        let lo = Int(position.rounded(.down))
        let hi = min(lo + 1, s.count - 1)
        return s[lo] + (s[hi] - s[lo]) * (position - Double(lo))
    }
}

/// The one-sided `1 − α` paired-bootstrap bound of each difference `B − A`, on the side where B
/// would be worse: B's accuracy (macro-F1) is at least `A's + accuracyLower` (`+ macroF1Lower`),
/// and its NLL at most `A's + nllUpper`, each with confidence `1 − α`.
public struct OneSidedBounds: Sendable, Hashable, Codable {
    /// The one-sided lower bound of Δaccuracy.
    public let accuracyLower: Double
    /// The one-sided lower bound of Δmacro-F1.
    public let macroF1Lower: Double
    /// The one-sided upper bound of ΔNLL.
    public let nllUpper: Double

    /// Creates the bounds.
    public init(accuracyLower: Double, macroF1Lower: Double, nllUpper: Double) {
        self.accuracyLower = accuracyLower
        self.macroF1Lower = macroF1Lower
        self.nllUpper = nllUpper
    }
}
