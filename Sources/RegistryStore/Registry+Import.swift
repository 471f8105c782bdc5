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
    /// Imports finished runs in one transaction (for example a history exported from MLflow).
    /// Each run is sealed as it is inserted (its digest computed from what it holds, one
    /// statement a run); its params, tags and metric chunks are written with those of the runs
    /// around it, up to 500 rows a statement. So a million runs take minutes on PostgreSQL,
    /// where each statement is a round trip, rather than an hour.
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
            let keyIds = try Self.keyIds(Array(Set(runs.flatMap { $0.metrics.map(\.key) })).sorted(), in: db)
            var models: [String: Int64] = [:]
            var ids: [Int64] = []
            ids.reserveCapacity(runs.count)
            var pending = ImportRows()
            for run in runs {
                let modelId = try run.model.map { name in
                    try models[name] ?? Self.ensureModel(name, kind: .fused, in: db)
                }
                if let name = run.model { models[name] = modelId }
                let content = ImportedRunContent(run, modelId: modelId, keyIds: keyIds)
                let id = try db.insertReturningID(
                    sql: """
                        INSERT INTO run (kind, status, startedAt, endedAt, failure, modelId, versionId, principal,
                            experimentId, name, digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: StoreArguments(content.record.row + [content.record.digest.storeValue])
                )
                ids.append(id)
                pending.add(content, of: id)
                if pending.runs == 500 { try pending.flush(in: db) }
            }
            try pending.flush(in: db)
            return ids
        }
    }
}

/// An imported run as it will be stored: its sealed record (``RecordDigests/RunRecord``), and
/// the rows of its params, tags, metric chunks and latest metrics, but for the run's id.
private struct ImportedRunContent {
    var record: RecordDigests.RunRecord
    var params: [[StoreValue]] = []
    var chunks: [(keyId: Int64, chunk: MetricChunks.Chunk)] = []
    var latest: [[StoreValue]] = []

    init(_ run: ImportedRun, modelId: Int64?, keyIds: [String: Int64]) {
        let endedAt = max(run.endedAt, run.startedAt)
        record = RecordDigests.RunRecord(
            row: [
                run.kind.rawValue.storeValue, "finished".storeValue, run.startedAt.storeValue, endedAt.storeValue,
                .null, modelId?.storeValue ?? .null, .null, .null, .integer(0), .null,
            ]
        )
        for (key, value) in run.params {
            record.params.append([key.storeValue, value.description.storeValue])
            params.append([key.storeValue, value.description.storeValue, value.number?.storeValue ?? .null])
        }
        record.tags = run.tags.map { [$0.key.storeValue, $0.value.storeValue] }
        for (key, samples) in MetricChunks.series(run.metrics) {
            let samples = MetricChunks.latestPerStep(samples)
            let keyId = keyIds[key]!
            for chunk in MetricChunks.pack(samples) {
                record.metricChunks.append([key.storeValue, .integer(chunk.firstStep), .bytes(chunk.bytes)])
                chunks.append((keyId, chunk))
            }
            let last = samples[samples.count - 1]
            latest.append([.integer(keyId), .integer(last.step), .real(last.value)])
        }
    }
}

/// The rows of imported runs not yet written, gathered so that each table gets one statement per
/// 500 rows rather than one per row.
private struct ImportRows {
    private(set) var runs = 0
    private var params: [[StoreValue]] = []
    private var tags: [[StoreValue]] = []
    private var chunks: [[StoreValue]] = []
    private var latest: [[StoreValue]] = []

    mutating func add(_ content: ImportedRunContent, of id: Int64) {
        let run = id.storeValue
        runs += 1
        params += content.params.map { [run] + $0 }
        tags += content.record.tags.map { [run] + $0 }
        chunks += content.chunks.map { MetricChunks.row(run: id, keyId: $0.keyId, $0.chunk) }
        latest += content.latest.map { [run] + $0 }
    }

    mutating func flush(in db: any StoreSQL) throws {
        try db.insertRows("INSERT INTO runParam (runId, key, value, number)", params)
        try db.insertRows("INSERT INTO runTag (runId, key, value)", tags)
        try db.insertRows(MetricChunks.insertSQL, chunks)
        try db.insertRows("INSERT INTO latestMetric (runId, keyId, step, value)", latest)
        self = ImportRows()
    }
}
