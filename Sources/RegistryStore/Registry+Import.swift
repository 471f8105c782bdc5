import GRDB

/// A finished run to import: params, tags and metric series, as another tracker recorded them.
public struct ImportedRun: Sendable {
    /// The model the run belongs to, if any.
    public var model: String?
    /// What the run did.
    public var kind: RunKind
    /// When it started, in Unix seconds.
    public var startedAt: Double
    /// When it ended, in Unix seconds (imported runs are ended).
    public var endedAt: Double
    /// Its params.
    public var params: [String: ParamValue]
    /// Its tags.
    public var tags: [String: String]
    /// Every value of every metric series, as logged.
    public var metrics: [MetricPoint]

    /// Creates a run to import.
    public init(
        model: String? = nil,
        kind: RunKind = .training,
        startedAt: Double,
        endedAt: Double,
        params: [String: ParamValue] = [:],
        tags: [String: String] = [:],
        metrics: [MetricPoint] = []
    ) {
        self.model = model
        self.kind = kind
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.params = params
        self.tags = tags
        self.metrics = metrics
    }
}

extension Registry {
    /// Imports finished runs in one transaction (for example a history exported from MLflow):
    /// prepared statements reused across rows, so a million runs take seconds, not hours.
    /// - Returns: the new run ids, in order.
    @discardableResult
    public func importRuns(_ runs: [ImportedRun]) async throws -> [Int64] {
        for run in runs {
            if let model = run.model { try Names.validate(model, as: "Model name") }
            for (key, value) in run.params {
                try Names.validateKey(key, as: "Param")
                try Names.validateValue(value.description, as: "Param")
            }
            try Self.validateTags(run.tags)
            if let bad = run.metrics.first(where: { !$0.value.isFinite || $0.step < 0 }) {
                throw RegistryError(
                    .invalidInput,
                    "Metric '\(bad.key)' at step \(bad.step) is \(bad.value); values must be finite and steps ≥ 0."
                )
            }
        }
        return try await write { db in
            var models: [String: Int64] = [:]
            var ids: [Int64] = []
            ids.reserveCapacity(runs.count)
            for run in runs {
                let modelId = try run.model.map { name in
                    try models[name] ?? Self.ensureModel(name, kind: .fused, in: db)
                }
                if let name = run.model { models[name] = modelId }
                let id = try db.insertReturningID(
                    sql: "INSERT INTO run (modelId, kind, status, startedAt, endedAt) VALUES (?, ?, 'finished', ?, ?)",
                    arguments: [modelId, run.kind.rawValue, run.startedAt, max(run.endedAt, run.startedAt)]
                )
                for (key, value) in run.params {
                    try db.execute(
                        sql: "INSERT INTO runParam (runId, key, value, number) VALUES (?, ?, ?, ?)",
                        arguments: [id, key, value.description, value.number]
                    )
                }
                for (key, value) in run.tags {
                    try db.execute(
                        sql: "INSERT INTO runTag (runId, key, value) VALUES (?, ?, ?)",
                        arguments: [id, key, value]
                    )
                }
                try Self.insertMetrics(run: id, run.metrics, in: db)
                try Self.sealRunIfEnded(id, in: db)
                ids.append(id)
            }
            return ids
        }
    }
}
