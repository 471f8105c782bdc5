import FusionCore
import GRDB
import Logging
import TensorCore

/// What ``Registry/trainAndRegister(model:spec:data:validation:configuration:initialParameters:lineage:tags:onEpoch:)`` produced.
public struct TrainedVersion: Sendable {
    /// The model registered into.
    public let model: String
    /// The new version's number.
    public let version: Int
    /// The training run.
    public let run: Int64
    /// Metrics on the validation data (or the training data when there is none: see ``metricsData``).
    public let metrics: [String: Double]
    /// Which data ``metrics`` were measured on: `validation` (held out from training), or `training`
    /// (no validation split: the data the model was fitted to, an optimistic figure).
    public let metricsData: String
    /// How many samples ``metrics`` were measured on.
    public let metricsSamples: Int
    /// The learned fusion weights.
    public let weights: FusionWeights
    /// One report per epoch (or L-BFGS iteration).
    public let epochs: [EpochReport]
    /// True when early stopping ended training.
    public let stoppedEarly: Bool
}

extension Registry {
    /// Trains a spec, recording the run as it goes (params, per-epoch losses, validation metrics
    /// and fusion weights), then registers the model as a new version and finishes the run in
    /// one transaction. If training fails the run is marked failed; if the process dies the run
    /// is marked failed the next time a store is opened. Either way no version appears.
    public func trainAndRegister(
        model: String,
        spec: FusionSpec,
        data: Dataset,
        validation: Dataset? = nil,
        configuration: TrainingConfiguration,
        initialParameters: [String: Matrix] = [:],
        lineage: Lineage = Lineage(),
        tags: [String: String] = [:],
        onEpoch: @escaping (EpochReport) -> Void = { _ in }
    ) async throws -> TrainedVersion {
        try await trainAndRegister(
            model: model,
            spec: spec,
            data: data,
            validation: validation,
            configuration: configuration,
            initialParameters: initialParameters,
            lineage: lineage,
            tags: tags,
            extraParams: [:],
            branches: nil,
            onEpoch: onEpoch
        )
    }

    /// ``trainAndRegister(model:spec:data:validation:configuration:initialParameters:lineage:tags:onEpoch:)``
    /// with `extraParams` added to the run's, `withRun(db, run)` called in the transaction that creates the run,
    /// and `branches` already cross-fitted on the training rows (see <doc:/documentation/FusionCore/Trainer/train(spec:data:validation:configuration:initialParameters:branches:onEpoch:)>).
    func trainAndRegister(
        model: String,
        spec: FusionSpec,
        data: Dataset,
        validation: Dataset? = nil,
        configuration: TrainingConfiguration,
        initialParameters: [String: Matrix] = [:],
        lineage: Lineage = Lineage(),
        tags: [String: String] = [:],
        extraParams: [String: ParamValue],
        branches: CrossFittedBranches?,
        withRun: @escaping @Sendable (any StoreSQL, Int64) throws -> Void = { _, _ in },
        onEpoch: @escaping (EpochReport) -> Void = { _ in }
    ) async throws -> TrainedVersion {
        try Names.validate(model, as: "Model name")
        try Self.validateTags(tags)
        var params: [String: ParamValue] = [
            "method": .text(spec.method.rawValue), "task": .text(spec.task.rawValue),
            "epochs": .number(Double(configuration.epochs)),
            "batch_size": .number(Double(configuration.batchSize)), "lr": .decimal(configuration.learningRate),
            "optimizer": .text(configuration.optimizer.rawValue), "seed": .number(Double(configuration.seed)),
            "val_split": .number(configuration.validationSplit),
            "modalities": .text(spec.modalities.map(\.name).joined(separator: ",")),
            "train_fingerprint": .text(data.fingerprint), "samples": .number(Double(data.count)),
        ]
        params["l2"] = .decimal(spec.l2)
        params["temperature"] = .text(spec.modalities.contains(where: \.temperature) ? "true" : "false")
        if configuration.optimizer == .sgd { params["momentum"] = .decimal(configuration.momentum) }
        if configuration.optimizer == .lbfgs { params["gradient_tolerance"] = .number(configuration.gradientTolerance) }
        if let rate = spec.head.compactMap({ if case .dropout(let r) = $0 { r } else { nil } }).first {
            params["dropout"] = .decimal(rate)
        }
        if let patience = configuration.patience { params["patience"] = .number(Double(patience)) }
        if !spec.crossFittableModalities.isEmpty {
            params["branches"] = .text(configuration.branchFolds == nil ? "joint" : "cross-fitted")
        }
        if let units = spec.head.compactMap({ if case .dense(let u) = $0 { u } else { nil } }).first,
            spec.method == .concatMLP
        {
            params["hidden"] = .number(Double(units))
        }
        let runParams = params.merging(extraParams) { $1 }
        let run: Int64 = try await write { db in
            _ = try Self.ensureModel(model, kind: .fused, in: db)
            let run = try Self.insertRun(
                kind: .training,
                model: model,
                version: nil,
                params: runParams,
                tags: tags,
                principal: principal,
                in: db
            )
            try withRun(db, run)
            return run
        }
        // The owner's heartbeat while training runs (the per-epoch writes refresh it too).
        let heartbeat = RunHeartbeat(registry: self, run: run)
        defer { heartbeat.stop() }
        do {
            let result = try Trainer.train(
                spec: spec,
                data: data,
                validation: validation,
                configuration: configuration,
                initialParameters: initialParameters,
                branches: branches
            ) { report in
                var metrics = ["train_loss": report.trainLoss]
                if let loss = report.validationLoss { metrics["val_loss"] = loss }
                for (key, value) in report.validationMetrics { metrics["val_\(key)"] = value }
                let points = metrics.sorted { $0.key < $1.key }.filter { $0.value.isFinite }.map {
                    MetricPoint(key: $0.key, step: report.epoch, value: $0.value)
                }
                // Synchronous, blocking write: the trainer's callback is synchronous. A failed write
                // (busy, disk full) stops training: a run must not lose its history silently.
                try writeBlocking { db in
                    try Self.insertMetrics(run: run, points, in: db)
                    try Self.insertWeights(run: run, epoch: report.epoch, report.weights, in: db)
                    try Self.touch(run: run, in: db)
                }
                onEpoch(report)
                return true
            }
            let evaluated = result.validation ?? result.train
            let metrics = try Self.evaluation(of: result.model, on: evaluated).metrics
            let prefix = result.validation == nil ? "train_" : "val_"
            let final = metrics.map { MetricPoint(key: prefix + $0.key, step: result.epochs.count, value: $0.value) }
            var fullLineage = lineage
            fullLineage.trainingRun = run
            fullLineage.datasets["train"] = result.train.fingerprint
            if let validation = result.validation { fullLineage.datasets["validation"] = validation.fingerprint }
            try await logMetrics(run: run, final.filter { $0.value.isFinite })
            if let branches = result.branches { try await logBranches(branches, run: run) }
            let version = try await registerVersion(
                model: model,
                classifier: result.model,
                lineage: fullLineage,
                tags: tags,
                finishingRun: run
            )
            return TrainedVersion(
                model: model,
                version: version,
                run: run,
                metrics: metrics,
                metricsData: result.validation == nil ? "training" : "validation",
                metricsSamples: evaluated.count,
                weights: result.model.fusionWeights(on: evaluated),
                epochs: result.epochs,
                stoppedEarly: result.stoppedEarly
            )
        } catch {
            do { try await failRun(run, reason: "\(error)") } catch let failing {
                // The original error matters more; the run is swept as abandoned later.
                logger.warning("Could not mark run \(run) failed: \(failing)")
            }
            throw error
        }
    }
}

extension Registry {
    /// Records how the cross-fitted branches were fitted: params `branch_folds` and, per modality,
    /// `branch.NAME.l2` (the chosen λ) and `branch.NAME.C` (scikit-learn's `C = 1/(λn)`); metrics
    /// `branch.NAME.cv_log_loss` and `branch.NAME.cv_accuracy` (out of fold, at the chosen strength).
    func logBranches(_ branches: CrossFittedBranches, run: Int64) async throws {
        var params: [String: ParamValue] = ["branch_folds": .number(Double(branches.folds))]
        var points: [MetricPoint] = []
        for b in branches.branches {
            params["branch.\(b.modality).l2"] = .number(b.l2)
            params["branch.\(b.modality).C"] = .number(b.inverseStrength)
            points.append(MetricPoint(key: "branch.\(b.modality).cv_log_loss", step: 0, value: b.cvLogLoss))
            points.append(MetricPoint(key: "branch.\(b.modality).cv_accuracy", step: 0, value: b.cvAccuracy))
        }
        try await write { [params, points] db in
            try Self.insertParams(run: run, params, in: db)
            try Self.insertMetrics(run: run, points, in: db)
            try Self.touch(run: run, in: db)
        }
    }
}
