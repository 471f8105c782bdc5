import Foundation
import FusionCore

/// The promotion gate of ``Registry/promote(_:alias:data:gate:resamples:seed:force:allowTrainingData:)``.
public enum PromotionRequirement: String, Sendable, CaseIterable {
    /// The candidate must be significantly better.
    case better
    /// The candidate must be non-inferior: worse by less than the margin, with confidence `1 − α`.
    case notWorse = "not-worse"
}

/// The metric a gate judges.
public enum GateMetric: String, Sendable, CaseIterable {
    /// Top-1 accuracy (higher is better).
    case accuracy
    /// Macro-averaged F1 (higher is better).
    case macroF1 = "macro_f1"
    /// Mean negative log-likelihood of the true class (lower is better).
    case nll
}

/// What must hold for a candidate B to replace the alias's current target A, judged on paired
/// per-sample outcomes of both on the same data (<doc:/documentation/FusionCore/PairedComparison>).
///
/// Write `Δ` for B's improvement over A on the metric: `B − A` for accuracy and macro-F1,
/// `A − B` for NLL. Then:
/// - `better` on accuracy: McNemar's test, `p < α`, B right more often than A;
/// - `better` on macro-F1 or NLL: the one-sided `1 − α` paired-bootstrap lower bound of `Δ` is above 0;
/// - `not-worse` (non-inferiority with margin `δ`): the one-sided `1 − α` lower bound of `Δ` is
///   above `−δ` — B may be worse by less than `δ` (in the metric's units), and the data must show it.
public struct PromotionGate: Sendable, Hashable {
    /// Better, or not worse by more than the margin.
    public var requirement: PromotionRequirement
    /// The metric judged.
    public var metric: GateMetric
    /// The non-inferiority margin δ (≥ 0), in the metric's units (0.01 = one accuracy point).
    public var margin: Double
    /// The significance level `α` (0.05: 95 % confidence).
    public var alpha: Double

    /// Creates a gate; the defaults are `better` on accuracy at `α = 0.05` (the margin applies to `not-worse` only).
    public init(
        _ requirement: PromotionRequirement = .better,
        metric: GateMetric = .accuracy,
        margin: Double = 0.01,
        alpha: Double = 0.05
    ) {
        self.requirement = requirement
        self.metric = metric
        self.margin = margin
        self.alpha = alpha
    }

    /// Refuses a margin or significance level outside its range.
    public func validate() throws {
        guard margin >= 0 && margin.isFinite else {
            throw RegistryError(.invalidInput, "The margin must be 0 or more, got \(margin).")
        }
        guard alpha > 0 && alpha < 1 else { throw RegistryError(.invalidInput, "α must be in (0, 1), got \(alpha).") }
    }

    /// Whether B passes against A, and the evidence in one line.
    public func judge(_ s: PairedComparison) -> (passed: Bool, evidence: String) {
        let (estimate, bound) = improvement(s)
        let confidence = String(format: "%g%%", (1 - s.alpha) * 100)
        switch (requirement, metric) {
        case (.better, .accuracy):
            return (
                s.verdict == .bBetter,
                String(
                    format: "McNemar p = %.3g (B-only correct %d, A-only correct %d)",
                    s.mcnemarP,
                    s.bOnlyCorrect,
                    s.aOnlyCorrect
                )
            )
        case (.better, _):
            return (
                bound > 0,
                String(
                    format: "Δ%@ %+.4f, one-sided %@ lower bound %+.4f (must be > 0)",
                    metric.rawValue,
                    estimate,
                    confidence,
                    bound
                )
            )
        case (.notWorse, _):
            return (
                bound > -margin,
                String(
                    format: "Δ%@ %+.4f, one-sided %@ lower bound %+.4f (must be > −%g)",
                    metric.rawValue,
                    estimate,
                    confidence,
                    bound,
                    margin
                )
            )
        }
    }

    /// B's improvement over A on the metric and its one-sided `1 − α` lower bound.
    func improvement(_ s: PairedComparison) -> (estimate: Double, lowerBound: Double) {
        let bounds =
            s.oneSided
            ?? OneSidedBounds(
                accuracyLower: s.deltaAccuracy.lower,
                macroF1Lower: s.deltaMacroF1.lower,
                nllUpper: s.deltaNLL.upper
            )
        switch metric {
        case .accuracy: return (s.deltaAccuracy.estimate, bounds.accuracyLower)
        case .macroF1: return (s.deltaMacroF1.estimate, bounds.macroF1Lower)
        case .nll: return (-s.deltaNLL.estimate, -bounds.nllUpper)
        }
    }

    /// How the gate reads in a reason or a message: `not-worse on accuracy (margin 0.01, α = 0.05)`.
    public var description: String {
        "\(requirement.rawValue) on \(metric.rawValue)"
            + (requirement == .notWorse
                ? String(format: " (margin %g, α = %g)", margin, alpha) : String(format: " (α = %g)", alpha))
    }
}
