import Foundation
import FusionCore
import GRDB
import GRDBSQLite

extension Registry {
    /// Starts a run. Owned by this process, its pid and boot id are recorded so a run whose process
    /// died is later marked failed; owned by a remote client, it is kept alive by its writes and
    /// marked failed only after ``RunLiveness/staleAfter`` without one.
    /// - Returns: the run id.
    public func startRun(
        kind: RunKind,
        model: String? = nil,
        version: VersionReference? = nil,
        params: [String: ParamValue] = [:],
        tags: [String: String] = [:],
        owner: RunOwner = .thisProcess,
        experiment: Int64 = 0,
        name: String? = nil
    ) async throws -> Int64 {
        if let name { try Self.validateRunName(name) }
        for (key, value) in params {
            try Names.validateKey(key, as: "Param")
            try Names.validateValue(value.description, as: "Param")
        }
        try Self.validateTags(tags)
        if let model { try Names.validate(model, as: "Model name") }
        return try await write { db in
            try Self.insertRun(
                kind: kind,
                model: model,
                version: version,
                params: params,
                tags: tags,
                principal: principal,
                owner: owner,
                experiment: experiment,
                name: name,
                in: db
            )
        }
    }

    /// Appends metric values to a training run in one transaction. Re-logging a (key, step) replaces
    /// its value. Evaluation and comparison runs are refused (`conflict`): they are evidence, recorded whole.
    public func logMetrics(run: Int64, _ points: [MetricPoint]) async throws {
        try Self.validateMetrics(points)
        try await write { db in
            try Self.writing(toTrainingRun: run, in: db) { try Self.insertMetrics(run: run, points, in: db) }
        }
    }

    static func validateMetrics(_ points: [MetricPoint]) throws {
        for key in Set(points.map(\.key)) { try Names.validateKey(key, as: "Metric") }
        if let bad = points.first(where: { !$0.value.isFinite || $0.step < 0 }) {
            throw RegistryError(
                .invalidInput,
                "Metric '\(bad.key)' at step \(bad.step) is \(bad.value); values must be finite and steps ≥ 0."
            )
        }
    }

    /// Records the fusion weights after an epoch.
    public func logFusionWeights(run: Int64, epoch: Int, _ weights: FusionWeights) async throws {
        try await write { db in
            try Self.insertWeights(run: run, epoch: epoch, weights, in: db)
            try Self.wrote(to: run, in: db)
        }
    }

    /// Records one epoch: its metrics and fusion weights, in one transaction.
    public func logEpoch(run: Int64, epoch: Int, metrics: [String: Double], weights: FusionWeights) async throws {
        let points = metrics.sorted { $0.key < $1.key }.filter { $0.value.isFinite }.map {
            MetricPoint(key: $0.key, step: epoch, value: $0.value)
        }
        try await write { db in
            guard try db.fetchOne(Int.self, sql: "SELECT 1 FROM run WHERE id = ?", arguments: [run]) != nil else {
                throw RegistryError(.notFound, "There is no run \(run).")
            }
            try Self.insertMetrics(run: run, points, in: db)
            try Self.insertWeights(run: run, epoch: epoch, weights, in: db)
            try Self.wrote(to: run, in: db)
        }
    }

    /// Marks a run finished.
    public func finishRun(_ run: Int64) async throws {
        try await write { db in try Self.finish(run: run, versionId: nil, in: db) }
    }

    /// Marks a run failed with a reason.
    public func failRun(_ run: Int64, reason: String) async throws {
        try await write { db in
            try db.execute(
                sql: "UPDATE run SET status = 'failed', endedAt = ?, failure = ? WHERE id = ? AND status = 'running'",
                arguments: [Clock.unixSeconds(), reason, run]
            )
            try Self.sealRunIfEnded(run, in: db)
        }
    }

    /// One run (an ended run's digest is checked).
    public func run(_ id: Int64) async throws -> RunSummary {
        try await read { db in
            try Self.checkRun(id, in: db)
            guard
                let run = try Self.runSummaries(
                    whereSQL: "r.id = ?",
                    arguments: [id],
                    orderSQL: "r.id",
                    limit: 1,
                    in: db
                ).first
            else {
                if try db.fetchOne(
                    Int.self,
                    sql: "SELECT 1 FROM run WHERE id = ? AND deletedAt IS NOT NULL",
                    arguments: [id]
                ) != nil {
                    throw RegistryError(
                        .notFound,
                        "Run \(id) was deleted; 'fusebox runs restore \(id)' brings it back until 'fusebox gc' purges it."
                    )
                }
                throw RegistryError(.notFound, "There is no run \(id). Run 'fusebox runs' to list them.")
            }
            return run
        }
    }

    /// A metric's values at every step, in step order.
    public func metricHistory(run: Int64, key: String) async throws -> [MetricPoint] {
        try await read { db in
            guard let keyId = try Self.metricKeyId(key, in: db) else { return [] }
            return try MetricChunks.history(run: run, keyId: keyId, in: db).map {
                MetricPoint(key: key, step: Int($0.step), value: $0.value, time: $0.time)
            }
        }
    }

    /// Every metric key of a run with its values, in step order.
    public func metricHistories(run: Int64) async throws -> [String: [MetricPoint]] {
        try await read { db in
            try Self.checkRun(run, in: db)
            var out: [String: [MetricPoint]] = [:]
            // One pass over the run's chunks, in (key, first step) order: the unique index's order.
            try db.forEachRow(
                sql: """
                    SELECT k.name, c.points FROM metricChunk c JOIN metricKey k ON k.id = c.keyId
                    WHERE c.runId = ? ORDER BY c.keyId, c.firstStep
                    """,
                arguments: [run]
            ) { row in
                let key: String = row[0]
                let points: [UInt8] = row[1]
                try points.withUnsafeBytes { bytes in
                    out[key, default: []] += try PackedMetricSeries.decode(bytes).map {
                        MetricPoint(key: key, step: Int($0.step), value: $0.value, time: $0.time)
                    }
                }
            }
            return out
        }
    }

    /// The fusion-weight history of a run, by epoch then modality then class.
    public func fusionWeightHistory(run: Int64) async throws -> [WeightPoint] {
        try await read { db in
            try Self.checkRun(run, in: db)
            return try db.fetchAll(
                StoreRow.self,
                sql:
                    "SELECT epoch, modality, classIndex, weight FROM fusionWeight WHERE runId = ? ORDER BY epoch, rowid",
                arguments: [run]
            ).map {
                WeightPoint(
                    epoch: $0["epoch"],
                    modality: $0["modality"],
                    classIndex: $0["classIndex"],
                    weight: $0["weight"]
                )
            }
        }
    }

    /// Marks failed every `running` run whose owner is provably gone (``RunLiveness``). Called when a
    /// store is opened for writing; takes the write lock only when there is a run to mark.
    public func markAbandonedRunsFailed() throws {
        do {
            let select =
                "SELECT id, ownerPid, ownerBootId, ownerHost, coalesce(heartbeatAt, startedAt) AS heartbeat FROM run WHERE status = 'running'"
            func abandoned(_ db: any StoreSQL) throws -> [(id: Int64, reason: String)] {
                let now = Clock.unixSeconds()
                return try db.fetchAll(StoreRow.self, sql: select).compactMap { row in
                    RunLiveness.reasonAbandoned(
                        pid: row["ownerPid"],
                        bootID: row["ownerBootId"],
                        host: row["ownerHost"],
                        heartbeat: row["heartbeat"],
                        now: now
                    ).map { (row["id"], $0) }
                }
            }
            guard try !readBlocking(abandoned).isEmpty else { return }
            try writeBlocking { db in
                for (id, reason) in try abandoned(db) {
                    try db.execute(
                        sql: "UPDATE run SET status = 'failed', endedAt = ?, failure = ? WHERE id = ?",
                        arguments: [Clock.unixSeconds(), reason, id]
                    )
                    try Self.sealRunIfEnded(id, in: db)
                }
            }
        } catch {
            throw Self.mapped(error, path: path)
        }
    }

    /// Records that a run's owner is alive (training does so every ``RunLiveness/heartbeatInterval``).
    public func heartbeat(run: Int64) async throws {
        try await write { db in try Self.touch(run: run, in: db) }
    }

    // MARK: - Synchronous helpers

    static func insertRun(
        kind: RunKind,
        model: String?,
        version: VersionReference?,
        params: [String: ParamValue],
        tags: [String: String],
        principal: String,
        owner: RunOwner = .thisProcess,
        experiment: Int64 = 0,
        name: String? = nil,
        in db: any StoreSQL
    ) throws -> Int64 {
        // Experiment 0 (Default) always exists and is never deleted.
        if experiment != 0 { _ = try requireExperiment(experiment, live: true, in: db) }
        let modelId =
            try model.map { try requireModel($0, in: db).id } ?? version.map { try requireModel($0.model, in: db).id }
        let versionId = try version.map { try resolve($0, in: db) }
        let now = Clock.unixSeconds()
        let id = try db.insertReturningID(
            sql: """
                INSERT INTO run (modelId, versionId, kind, status, startedAt, ownerPid, ownerBootId, ownerHost, heartbeatAt,
                    principal, experimentId, name)
                VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                modelId, versionId, kind.rawValue, now, owner.pid, owner.bootID, owner.host, now, principal,
                experiment, name,
            ]
        )
        try insertParams(run: id, params, in: db)
        for (key, value) in tags.sorted(by: { $0.key < $1.key }) {
            try db.execute(sql: "INSERT INTO runTag (runId, key, value) VALUES (?, ?, ?)", arguments: [id, key, value])
        }
        return id
    }

    static func insertParams(run: Int64, _ params: [String: ParamValue], in db: any StoreSQL) throws {
        for (key, value) in params.sorted(by: { $0.key < $1.key }) {
            try db.execute(
                sql: "INSERT INTO runParam (runId, key, value, number) VALUES (?, ?, ?, ?)",
                arguments: [run, key, value.description, value.number]
            )
        }
    }

    /// After a write to `run`: a running run's heartbeat is renewed (one statement); a run that
    /// has ended (the update changed nothing) is sealed again over what it now holds.
    static func wrote(to run: Int64, in db: any StoreSQL) throws {
        try touch(run: run, in: db)
        if db.changesCount == 0 { try sealRunIfEnded(run, in: db) }
    }

    /// Runs `body`, a write to the training run `run`, as ``requireTrainingRun(_:in:)``, `body`
    /// and ``wrote(to:in:)`` do, with one statement besides `body` for a live run (a metric
    /// batch's common case): its heartbeat renewed first, which tells at once that the run exists,
    /// is a training run and is running. Otherwise the run is checked (`notFound`, `conflict`)
    /// and, once `body` has written, sealed again if it has ended.
    static func writing(toTrainingRun run: Int64, in db: any StoreSQL, _ body: () throws -> Void) throws {
        try db.execute(
            sql:
                "UPDATE run SET heartbeatAt = ? WHERE id = ? AND status = 'running' AND kind = 'training' AND deletedAt IS NULL",
            arguments: [Clock.unixSeconds(), run]
        )
        if db.changesCount == 1 { return try body() }
        try requireTrainingRun(run, in: db)
        try body()
        try sealRunIfEnded(run, in: db)
    }

    static func touch(run: Int64, in db: any StoreSQL) throws {
        try db.execute(
            sql: "UPDATE run SET heartbeatAt = ? WHERE id = ? AND status = 'running'",
            arguments: [Clock.unixSeconds(), run]
        )
    }

    static func finish(run: Int64, versionId: Int64?, in db: any StoreSQL) throws {
        try db.execute(
            sql:
                "UPDATE run SET status = 'finished', endedAt = ?, versionId = coalesce(?, versionId) WHERE id = ? AND status = 'running'",
            arguments: [Clock.unixSeconds(), versionId, run]
        )
        guard db.changesCount == 1 else {
            throw RegistryError(
                .conflict,
                "Run \(run) is not running (it may have been marked failed); it cannot be finished."
            )
        }
        try sealRun(run, in: db)
    }

    /// The id of a metric key, if any run has logged it.
    static func metricKeyId(_ name: String, in db: any StoreSQL) throws -> Int64? {
        try db.fetchOne(Int64.self, sql: "SELECT id FROM metricKey WHERE name = ?", arguments: [name])
    }

    /// The ids of metric keys by name, adding the keys no run has logged yet: one query for all,
    /// then one insert per new key.
    static func keyIds(_ names: [String], in db: any StoreSQL) throws -> [String: Int64] {
        guard !names.isEmpty else { return [:] }
        var ids: [String: Int64] = [:]
        try db.forEachRow(
            sql: "SELECT name, id FROM metricKey WHERE name IN (\(names.map { _ in "?" }.joined(separator: ", ")))",
            arguments: StoreArguments(names)
        ) { row in ids[row[0]] = row[1] }
        for name in names where ids[name] == nil {
            ids[name] = try db.insertReturningID(sql: "INSERT INTO metricKey (name) VALUES (?)", arguments: [name])
        }
        return ids
    }

    /// Writes values into each key's packed series (``MetricChunks``), then sets each key's
    /// latest value (the series' last step): a fixed number of statements for any number of
    /// keys but one read per key. The run must exist (its callers know it does).
    static func insertMetrics(run: Int64, _ points: [MetricPoint], in db: any StoreSQL) throws {
        guard !points.isEmpty else { return }
        let series = MetricChunks.series(points)
        let names = series.keys.sorted()
        let ids = try keyIds(names, in: db)
        let lasts = try MetricChunks.write(run: run, names.map { (ids[$0]!, series[$0]!) }, in: db)
        try db.insertRows(
            "INSERT INTO latestMetric (runId, keyId, step, value)",
            lasts.map { [.integer(run), .integer($0.keyId), .integer($0.last.step), .real($0.last.value)] },
            then: "ON CONFLICT (runId, keyId) DO UPDATE SET step = excluded.step, value = excluded.value"
        )
    }

    /// An epoch's fusion weights, in one statement (their order is kept: `rowid` follows it).
    static func insertWeights(run: Int64, epoch: Int, _ weights: FusionWeights, in db: any StoreSQL) throws {
        try db.insertRows(
            "INSERT INTO fusionWeight (runId, epoch, modality, classIndex, weight)",
            weights.entries.map { e in
                ([run, epoch, e.modality, e.classIndex, Double(e.weight)] as StoreArguments).values
            }
        )
    }

    static func latestMetrics(run: Int64, in db: any StoreSQL) throws -> [String: Double] {
        Dictionary(
            uniqueKeysWithValues: try db.fetchAll(
                StoreRow.self,
                sql: "SELECT k.name, l.value FROM latestMetric l JOIN metricKey k ON k.id = l.keyId WHERE l.runId = ?",
                arguments: [run]
            ).map { ($0["name"], $0["value"]) }
        )
    }

    /// Runs of `source` (which names the run `r`) matching a compiled filter, with their params,
    /// tags and latest metrics.
    static func runSummaries(
        from source: String = "run r",
        whereSQL: String,
        arguments: StoreArguments,
        orderSQL: String,
        limit: Int,
        offset: Int = 0,
        lifecycle: RunLifecycle = .active,
        in db: any StoreSQL
    ) throws -> [RunSummary] {
        let rows = try db.fetchAll(
            StoreRow.self,
            sql: """
                SELECT r.id, r.kind, r.status, r.startedAt, r.endedAt, r.failure, r.principal, r.experimentId, r.name,
                    r.deletedAt, m.name AS model, v.number AS version
                FROM \(source) LEFT JOIN model m ON m.id = r.modelId LEFT JOIN modelVersion v ON v.id = r.versionId
                WHERE (\(whereSQL)) AND \(lifecycle.sql) ORDER BY \(orderSQL) LIMIT \(limit) OFFSET \(offset)
                """,
            arguments: arguments
        )
        // Params, tags and latest metrics of the whole page in one query each, not three per run.
        let ids = rows.map { $0["id"] as Int64 }
        func grouped(_ sql: String) throws -> [Int64: [String: StoreValue]] {
            var out: [Int64: [String: StoreValue]] = [:]
            for chunk in stride(from: 0, to: ids.count, by: 5000) {
                let part = Array(ids[chunk..<min(chunk + 5000, ids.count)])
                for row in try db.fetchAll(
                    StoreRow.self,
                    sql: sql + " IN (\(databaseQuestionMarks(count: part.count)))",
                    arguments: StoreArguments(part)
                ) {
                    out[row[0], default: [:]][row[1]] = row[2] as StoreValue
                }
            }
            return out
        }
        let params = try grouped("SELECT runId, key, value FROM runParam WHERE runId")
        let tags = try grouped("SELECT runId, key, value FROM runTag WHERE runId")
        let metrics = try grouped(
            "SELECT l.runId, k.name, l.value FROM latestMetric l JOIN metricKey k ON k.id = l.keyId WHERE l.runId"
        )
        return rows.map { row in
            let id: Int64 = row["id"]
            var run = RunSummary(
                id: id,
                model: row["model"],
                version: row["version"],
                kind: RunKind(rawValue: row["kind"]) ?? .training,
                status: RunStatus(rawValue: row["status"]) ?? .failed,
                startedAt: row["startedAt"],
                endedAt: row["endedAt"],
                failure: row["failure"],
                principal: row["principal"],
                params: (params[id] ?? [:]).compactMapValues { String.fromStoreValue($0) },
                tags: (tags[id] ?? [:]).compactMapValues { String.fromStoreValue($0) },
                metrics: (metrics[id] ?? [:]).compactMapValues { Double.fromStoreValue($0) }
            )
            run.experimentId = row["experimentId"]
            run.name = row["name"]
            run.deletedAt = row["deletedAt"]
            return run
        }
    }
}
