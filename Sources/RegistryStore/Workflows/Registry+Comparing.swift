import Foundation
import FusionCore
import TensorCore

/// What a promotion did.
public struct PromotionOutcome: Sendable {
    /// The alias event the promotion recorded (nil when the gate failed and nothing moved).
    public let event: AliasEvent?
    /// The comparison against the alias's previous target (nil for a first promotion).
    public let comparison: ComparisonRecord?
    /// True when the gate held.
    public let passed: Bool
    /// True when the alias moved although the gate failed (`force`).
    public let forced: Bool
    /// One sentence saying why the gate held or failed, with the figures.
    public let explanation: String
}

extension Registry {
    /// Evaluates a version on a dataset and records the evaluation (a finished evaluation run).
    /// - Parameters:
    ///   - reference: the version to evaluate (an alias is resolved once, and the number recorded).
    ///   - data: the samples, with labels; the model's modalities are taken from it by name.
    ///   - subsets: also record the accuracy of every proper subset of the modalities
    ///   (missing ones handled by the model's policy) as `accuracy[image+text]`-style metrics.
    public func evaluate(
        _ reference: VersionReference,
        on data: Dataset,
        subsets: Bool = false
    ) async throws -> EvaluationRecord {
        try await evaluate(loadClassifier(reference), reference, on: data, subsets: subsets)
    }

    /// ``evaluate(_:on:subsets:)`` with the model already loaded (and verified).
    func evaluate(
        _ model: FusedClassifier,
        _ reference: VersionReference,
        on data: Dataset,
        subsets: Bool = false,
        ignoringOtherModalities: Bool = false
    ) async throws -> EvaluationRecord {
        let version = try await version(reference)
        let pinned = VersionReference(model: version.model, selector: .number(version.number))
        let (metrics, predictions) = try Self.evaluation(
            of: model,
            on: data,
            ignoringOtherModalities: ignoringOtherModalities
        )
        var all = metrics
        if subsets, model.spec.modalities.count > 1 {
            let names = model.spec.modalities.map(\.name).filter { data.modality($0) != nil }
            for mask in 1..<(1 << names.count) where mask != (1 << names.count) - 1 {
                let chosen = names.indices.filter { mask & (1 << $0) != 0 }.map { names[$0] }
                let key = "accuracy[\(chosen.joined(separator: "+"))]"
                let partial = try data.selecting(modalities: chosen)
                do { all[key] = try Self.evaluation(of: model, on: partial).metrics["accuracy"] } catch {
                    throw RegistryError(
                        .invalidInput,
                        "\(key) cannot be computed for \(reference.model): \(error)",
                        cause: error
                    )
                }
            }
        }
        return try await recordEvaluation(
            of: pinned,
            datasetFingerprint: data.fingerprint,
            modalities: Self.modalitiesUsed(model, data),
            metrics: all,
            predictions: predictions
        )
    }

    /// Compares two versions on the same samples, reusing stored evaluations of either on this
    /// dataset, and records the comparison.
    /// - Parameters:
    ///   - a: the reference version.
    ///   - b: the candidate version; differences are `B − A`.
    ///   - data: the samples both are evaluated on.
    ///   - alpha: the significance level of McNemar's test and of the bootstrap intervals.
    ///   - resamples: the number of paired-bootstrap resamples.
    ///   - seed: the seed of the resampling.
    ///   - allowTrainingData: compare on data either version was trained or validated on
    ///   (refused otherwise, since such a comparison measures memory, not generalisation); recorded
    ///   as the comparison run's `allow_training_data` param.
    public func compare(
        _ a: VersionReference,
        _ b: VersionReference,
        on data: Dataset,
        alpha: Double = 0.05,
        resamples: Int = 1000,
        seed: UInt64 = 0,
        allowTrainingData: Bool = false
    ) async throws -> ComparisonRecord {
        guard !data.isRegression else {
            throw RegistryError(.invalidInput, "Comparisons are for classifiers; the data has real-valued targets.")
        }
        if !allowTrainingData {
            for reference in [a, b] {
                let version = try await version(reference)
                // The data it was fitted and validated on, and the whole data its training run was given.
                var seen = version.datasets.filter { $0.key != "test" }.map {
                    (role: $0.key == "validation" ? "validation" : "training", fingerprint: $0.value)
                }
                if let run = version.trainingRun, let given = try await self.run(run).params["train_fingerprint"] {
                    seen.append((role: "training", fingerprint: given))
                }
                if let role = seen.first(where: { $0.fingerprint == data.fingerprint })?.role {
                    throw RegistryError(
                        .invalidInput,
                        "This data is \(version.reference)'s \(role) data (same fingerprint); a comparison on it measures memory, not generalisation. Use held-out data, or pass --allow-training-data (recorded)."
                    )
                }
            }
        }
        let ea = try await evaluationReusingStored(a, on: data)
        let eb = try await evaluationReusingStored(b, on: data)
        let statistics = try PairedComparison(
            a: ea.predictions,
            b: eb.predictions,
            alpha: alpha,
            resamples: resamples,
            seed: seed
        )
        return try await recordComparison(a: ea, b: eb, statistics: statistics, allowTrainingData: allowTrainingData)
    }

    /// Moves `alias` to `candidate` only if it passes `gate` against the alias's current target on
    /// `data`; the comparison is recorded (kept whatever the outcome) and cited by the alias event.
    ///
    /// The move is a compare-and-swap: it happens, in one transaction, only if the alias still points
    /// at the version the comparison was made against; if another promotion or move got there first
    /// it is refused (`conflict`) and the comparison stays as evidence. `force` moves it past a failing
    /// gate and records the override. A first promotion (no current target) needs no comparison.
    /// - Parameters:
    ///   - candidate: the version to promote.
    ///   - alias: the alias to move (created when it does not exist: a first promotion).
    ///   - data: the held-out samples the gate is judged on.
    ///   - gate: what the candidate must show against the current target (``PromotionGate``).
    ///   - resamples: the number of paired-bootstrap resamples.
    ///   - seed: the seed of the resampling.
    ///   - force: move the alias even when the gate fails (recorded as forced).
    ///   - allowTrainingData: judge on data a version was trained or validated on (refused
    ///   otherwise: a gate on training data measures memory, not generalisation); recorded.
    public func promote(
        _ candidate: VersionReference,
        alias: String,
        data: Dataset,
        gate: PromotionGate = PromotionGate(),
        resamples: Int = 1000,
        seed: UInt64 = 0,
        force: Bool = false,
        allowTrainingData: Bool = false
    ) async throws -> PromotionOutcome {
        try Names.validateAlias(alias)
        try gate.validate()
        let target = try await version(candidate)
        let current = try await aliases(of: target.model).first { $0.alias == alias }
        guard let current else {
            let event = try await write { db in
                try Self.moveAliasIfUnchanged(
                    alias,
                    model: target.model,
                    expecting: nil,
                    to: target.number,
                    reason: "first promotion",
                    comparison: nil,
                    forced: false,
                    principal: principal,
                    in: db
                )
            }
            return PromotionOutcome(
                event: event,
                comparison: nil,
                passed: true,
                forced: false,
                explanation: "'\(alias)' did not exist; it now points at \(target.reference)"
            )
        }
        guard current.version != target.number else {
            throw RegistryError(.invalidInput, "'\(alias)' already points at \(target.reference).")
        }
        let baseline = VersionReference(model: target.model, selector: .number(current.version))
        let comparison = try await compare(
            baseline,
            VersionReference(model: target.model, selector: .number(target.number)),
            on: data,
            alpha: gate.alpha,
            resamples: resamples,
            seed: seed,
            allowTrainingData: allowTrainingData
        )
        let (passed, evidence) = gate.judge(comparison.statistics)
        let summary = "\(target.reference) vs \(target.model)@\(current.version): \(evidence)"
        guard passed || force else {
            return PromotionOutcome(
                event: nil,
                comparison: comparison,
                passed: false,
                forced: false,
                explanation: "gate \(gate.description) failed: \(summary)"
            )
        }
        let reason =
            (passed ? "gate \(gate.description) passed: " : "forced past gate \(gate.description): ") + summary
            + (allowTrainingData ? " [judged on data allowed to overlap training]" : "")
        let event = try await write { db in
            try Self.moveAliasIfUnchanged(
                alias,
                model: target.model,
                expecting: current.version,
                to: target.number,
                reason: reason,
                comparison: comparison.id,
                forced: !passed,
                principal: principal,
                in: db
            )
        }
        return PromotionOutcome(
            event: event,
            comparison: comparison,
            passed: passed,
            forced: !passed,
            explanation: reason
        )
    }

    func evaluationReusingStored(_ reference: VersionReference, on data: Dataset) async throws -> EvaluationRecord {
        let model = try await loadClassifier(reference)
        if let stored = try await findEvaluation(
            of: reference,
            datasetFingerprint: data.fingerprint,
            modalities: Self.modalitiesUsed(model, data)
        ) {
            return stored
        }
        return try await evaluate(model, reference, on: data, ignoringOtherModalities: true)
    }

    static func modalitiesUsed(_ model: FusedClassifier, _ data: Dataset) -> [String] {
        model.spec.modalities.map(\.name).filter { data.modality($0) != nil }
    }

    /// Metrics and per-sample predictions of a model on a dataset. With `ignoringOtherModalities`,
    /// modalities the model does not have are left out (a comparison of versions with different
    /// modalities on the same data); otherwise they are an error (a misspelt name, say).
    static func evaluation(
        of model: FusedClassifier,
        on data: Dataset,
        ignoringOtherModalities: Bool = false
    ) throws -> (metrics: [String: Double], predictions: SamplePredictions) {
        let used = modalitiesUsed(model, data)
        let data =
            ignoringOtherModalities && !used.isEmpty && used.count < data.modalities.count
            ? try data.selecting(modalities: used) : data
        let p = try model.predictProbabilities(data)
        switch data.targets {
        case .classes(let labels):
            let predictions = SamplePredictions(
                labels: labels,
                predictedClasses: p.argmaxRows(),
                trueClassProbabilities: labels.enumerated().map { p[$0.offset, $0.element] },
                classCount: model.spec.classCount
            )
            return (ClassificationMetrics(probabilities: p, labels: labels).scalars, predictions)
        case .values(let t):
            let predictions = SamplePredictions(
                labels: [Int](repeating: 0, count: t.count),
                predictedClasses: [Int](repeating: 0, count: t.count),
                trueClassProbabilities: [Float](repeating: 1, count: t.count),
                classCount: 2
            )
            return (RegressionMetrics(predictions: p.values, targets: t).scalars, predictions)
        }
    }
}
