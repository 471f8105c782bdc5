import Foundation
import FusionCore
import TensorCore

/// The promotion gate of ``Registry/promote(_:alias:data:require:alpha:resamples:seed:force:)``.
public enum PromotionRequirement: String, Sendable, CaseIterable {
    /// The candidate must be significantly better (McNemar p < α, more correct answers).
    case better
    /// The candidate must not be significantly worse.
    case notWorse = "not-worse"
}

/// What a promotion did.
public struct PromotionOutcome: Sendable {
    public let event: AliasEvent?
    /// The comparison against the alias's previous target (nil for a first promotion).
    public let comparison: ComparisonRecord?
    public let passed: Bool
    public let forced: Bool
    public let explanation: String
}

extension Registry {
    /// Evaluates a version on a dataset and records the evaluation (a finished evaluation run).
    /// - Parameter subsets: also record the accuracy of every proper subset of the modalities
    ///   (missing ones handled by the model's policy) as `accuracy[image+text]`-style metrics.
    public func evaluate(_ reference: VersionReference, on data: Dataset, subsets: Bool = false) async throws -> EvaluationRecord {
        try await evaluate(loadClassifier(reference), reference, on: data, subsets: subsets)
    }

    /// ``evaluate(_:on:subsets:)`` with the model already loaded (and verified).
    func evaluate(_ model: FusedClassifier, _ reference: VersionReference, on data: Dataset, subsets: Bool = false) async throws -> EvaluationRecord {
        let version = try await version(reference)
        let pinned = VersionReference(model: version.model, selector: .number(version.number))
        let (metrics, predictions) = try Self.evaluation(of: model, on: data)
        var all = metrics
        if subsets, model.spec.modalities.count > 1 {
            let names = model.spec.modalities.map(\.name).filter { data.modality($0) != nil }
            for mask in 1..<(1 << names.count) where mask != (1 << names.count) - 1 {
                let chosen = names.indices.filter { mask & (1 << $0) != 0 }.map { names[$0] }
                let partial = try data.selecting(modalities: chosen)
                if let accuracy = try? Self.evaluation(of: model, on: partial).metrics["accuracy"] {
                    all["accuracy[\(chosen.joined(separator: "+"))]"] = accuracy
                }
            }
        }
        return try await recordEvaluation(
            of: pinned, datasetFingerprint: data.fingerprint, modalities: Self.modalitiesUsed(model, data), metrics: all, predictions: predictions)
    }

    /// Compares two versions on the same samples, reusing stored evaluations of either on this
    /// dataset, and records the comparison.
    public func compare(
        _ a: VersionReference, _ b: VersionReference, on data: Dataset, alpha: Double = 0.05, resamples: Int = 1000, seed: UInt64 = 0
    ) async throws -> ComparisonRecord {
        guard !data.isRegression else { throw RegistryError(.invalidInput, "Comparisons are for classifiers; the data has real-valued targets.") }
        let ea = try await evaluationReusingStored(a, on: data)
        let eb = try await evaluationReusingStored(b, on: data)
        let statistics = try PairedComparison(a: ea.predictions, b: eb.predictions, alpha: alpha, resamples: resamples, seed: seed)
        return try await recordComparison(a: ea, b: eb, statistics: statistics)
    }

    /// Moves `alias` to `candidate` only if it passes the gate against the alias's current
    /// target on `data`; the comparison is recorded with the alias event. `force` moves it
    /// anyway and records that the gate was overridden. A first promotion (no current target)
    /// needs no comparison.
    public func promote(
        _ candidate: VersionReference, alias: String, data: Dataset, require: PromotionRequirement = .better, alpha: Double = 0.05,
        resamples: Int = 1000, seed: UInt64 = 0, force: Bool = false
    ) async throws -> PromotionOutcome {
        try Names.validateAlias(alias)
        let target = try await version(candidate)
        let current = try await aliases(of: target.model).first { $0.alias == alias }
        guard let current else {
            let event = try await setAlias(alias, model: target.model, version: target.number, reason: "first promotion", forced: force)
            return PromotionOutcome(event: event, comparison: nil, passed: true, forced: false, explanation: "'\(alias)' did not exist; it now points at \(target.reference)")
        }
        guard current.version != target.number else {
            throw RegistryError(.invalidInput, "'\(alias)' already points at \(target.reference).")
        }
        let comparison = try await compare(
            VersionReference(model: target.model, selector: .number(current.version)), VersionReference(model: target.model, selector: .number(target.number)),
            on: data, alpha: alpha, resamples: resamples, seed: seed)
        let s = comparison.statistics
        let passed = require == .better ? s.verdict == .bBetter : s.verdict != .aBetter
        let summary = String(
            format: "%@ vs %@@%d: Δaccuracy %+.4f [%+.4f, %+.4f], McNemar p = %.3g (%@)", target.reference, target.model, current.version,
            s.deltaAccuracy.estimate, s.deltaAccuracy.lower, s.deltaAccuracy.upper, s.mcnemarP, s.verdict.rawValue)
        guard passed || force else {
            return PromotionOutcome(event: nil, comparison: comparison, passed: false, forced: false, explanation: "gate '\(require.rawValue)' failed: \(summary)")
        }
        let reason = passed ? "gate '\(require.rawValue)' passed: \(summary)" : "forced past gate '\(require.rawValue)': \(summary)"
        let event = try await setAlias(alias, model: target.model, version: target.number, reason: reason, comparison: comparison.id, forced: !passed)
        return PromotionOutcome(event: event, comparison: comparison, passed: passed, forced: !passed, explanation: reason)
    }

    func evaluationReusingStored(_ reference: VersionReference, on data: Dataset) async throws -> EvaluationRecord {
        let model = try await loadClassifier(reference)
        if let stored = try await findEvaluation(of: reference, datasetFingerprint: data.fingerprint, modalities: Self.modalitiesUsed(model, data)) {
            return stored
        }
        return try await evaluate(model, reference, on: data)
    }

    static func modalitiesUsed(_ model: FusedClassifier, _ data: Dataset) -> [String] {
        model.spec.modalities.map(\.name).filter { data.modality($0) != nil }
    }

    /// Metrics and per-sample predictions of a model on a dataset.
    static func evaluation(of model: FusedClassifier, on data: Dataset) throws -> (metrics: [String: Double], predictions: SamplePredictions) {
        let p = try model.predictProbabilities(data)
        switch data.targets {
        case .classes(let labels):
            let predictions = SamplePredictions(
                labels: labels, predictedClasses: p.argmaxRows(), trueClassProbabilities: labels.enumerated().map { p[$0.offset, $0.element] },
                classCount: model.spec.classCount)
            return (ClassificationMetrics(probabilities: p, labels: labels).scalars, predictions)
        case .values(let t):
            let predictions = SamplePredictions(
                labels: [Int](repeating: 0, count: t.count), predictedClasses: [Int](repeating: 0, count: t.count),
                trueClassProbabilities: [Float](repeating: 1, count: t.count), classCount: 2)
            return (RegressionMetrics(predictions: p.values, targets: t).scalars, predictions)
        }
    }
}
