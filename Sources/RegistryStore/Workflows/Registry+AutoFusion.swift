import FusionCore
import GRDB
import TensorCore

/// What ``Registry/selectTrainAndRegister(model:data:folds:seed:spec:configuration:lineage:tags:progress:onEpoch:)`` produced.
public struct SelectedVersion: Sendable {
    /// The cross-validated leaderboard and the winner.
    public let selection: ModelSelection
    /// The winner, refitted on all rows and registered; its run is the parent of the candidates' runs.
    public let trained: TrainedVersion
    /// The candidates' run ids, in the order of <doc:/documentation/FusionCore/ModelSelection/candidates>.
    public let candidateRuns: [Int64]
}

extension Registry {
    /// The tag that links a candidate's run to its parent (as MLflow's `mlflow.parentRunId`):
    /// `fusebox runs --where "tags.parent_run = '12'"` lists an automatic selection's leaderboard.
    public static let parentRunTag = "parent_run"

    /// `--method auto`: cross-validates every method that applies to `data` (<doc:/documentation/FusionCore/ModelSelection>),
    /// refits the winner on all rows and registers it. Its training run (params `method = auto`,
    /// `chosen_method`, `folds`) is the parent of one finished run per candidate (params `method`,
    /// `folds`, `seed`; metrics `cv_log_loss`, `cv_log_loss_se`, `cv_accuracy`, `cv_accuracy_se`,
    /// `fold_log_loss` per fold, and against the winner `paired_log_loss_delta`, its `_se` and
    /// `paired_p`), created in the same transaction.
    public func selectTrainAndRegister(
        model: String,
        data: Dataset,
        folds: Int = 5,
        seed: UInt64 = 0,
        spec: (FusionMethod) throws -> FusionSpec,
        configuration: (FusionSpec) -> TrainingConfiguration,
        lineage: Lineage = Lineage(),
        tags: [String: String] = [:],
        progress: (FusionMethod, Int, Int) -> Void = { _, _, _ in },
        onEpoch: @escaping (EpochReport) -> Void = { _ in }
    ) async throws -> SelectedVersion {
        try Names.validate(model, as: "Model name")
        try Self.validateTags(tags)
        guard tags[Self.parentRunTag] == nil else {
            throw RegistryError(.invalidInput, "The tag '\(Self.parentRunTag)' is set by fusebox; choose another key.")
        }
        let methods = ModelSelection.applicableMethods(for: data, spec: spec)
        let selection = try ModelSelection.crossValidate(
            methods,
            on: data,
            folds: folds,
            seed: seed,
            spec: spec,
            configuration: configuration,
            progress: progress
        )
        let winnerSpec = try spec(selection.winner)
        var winnerConfiguration = configuration(winnerSpec).selectingByCrossValidation
        winnerConfiguration.seed = seed
        let candidateRuns = CandidateRuns()
        let trained = try await trainAndRegister(
            model: model,
            spec: winnerSpec,
            data: data,
            configuration: winnerConfiguration,
            lineage: lineage,
            tags: tags,
            extraParams: [
                "method": .text("auto"), "chosen_method": .text(selection.winner.rawValue),
                "folds": .number(Double(folds)),
                "candidates": .text(selection.candidates.map(\.method.rawValue).joined(separator: ",")),
            ],
            branches: selection.branches,
            withRun: { db, parent in
                candidateRuns.ids = try selection.candidates.map {
                    try Self.insertCandidateRun(
                        $0,
                        selection: selection,
                        model: model,
                        parent: parent,
                        principal: principal,
                        in: db
                    )
                }
            },
            onEpoch: onEpoch
        )
        return SelectedVersion(selection: selection, trained: trained, candidateRuns: candidateRuns.ids)
    }

    /// One candidate's finished run, linked to `parent`.
    static func insertCandidateRun(
        _ c: CandidateScore,
        selection: ModelSelection,
        model: String,
        parent: Int64,
        principal: String,
        in db: any StoreSQL
    ) throws -> Int64 {
        let run = try insertRun(
            kind: .training,
            model: model,
            version: nil,
            params: [
                "method": .text(c.method.rawValue), "folds": .number(Double(selection.folds)),
                "seed": .number(Double(selection.seed)),
            ],
            tags: [parentRunTag: String(parent)],
            principal: principal,
            in: db
        )
        var metrics = [
            MetricPoint(key: "cv_log_loss", step: 0, value: c.meanLogLoss),
            MetricPoint(key: "cv_log_loss_se", step: 0, value: c.logLossStandardError),
            MetricPoint(key: "cv_accuracy", step: 0, value: c.meanAccuracy),
            MetricPoint(key: "cv_accuracy_se", step: 0, value: c.accuracyStandardError),
        ]
        metrics += c.foldLogLoss.enumerated().map {
            MetricPoint(key: "fold_log_loss", step: $0.offset + 1, value: $0.element)
        }
        if let paired = c.pairedAgainstWinner {
            metrics += [
                MetricPoint(key: "paired_log_loss_delta", step: 0, value: paired.difference),
                MetricPoint(key: "paired_log_loss_delta_se", step: 0, value: paired.standardError),
                MetricPoint(key: "paired_p", step: 0, value: paired.p),
            ]
        }
        try insertMetrics(run: run, metrics.filter { $0.value.isFinite }, in: db)
        try finish(run: run, versionId: nil, in: db)
        return run
    }
}

/// Where the transaction that creates the parent run leaves the candidates' run ids.
private final class CandidateRuns: @unchecked Sendable {
    var ids: [Int64] = []
}
