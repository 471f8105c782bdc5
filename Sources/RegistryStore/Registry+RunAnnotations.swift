import GRDB

extension Registry {
    /// Adds params to a running run, in one transaction. A param, once logged, never changes:
    /// logging the same value again does nothing, another value is a `conflict` (as in MLflow).
    public func logParams(run: Int64, _ params: [String: ParamValue]) async throws {
        for (key, value) in params {
            try Names.validateKey(key, as: "Param")
            try Names.validateValue(value.description, as: "Param")
        }
        try await write { db in
            try Self.requireTrainingRun(run, in: db)
            try Self.requireRunning(run, to: "log params to", in: db)
            try Self.addParams(run: run, params, in: db)
            try Self.wrote(to: run, in: db)
        }
    }

    /// Sets tags on a run (replacing a tag's value), in one transaction. An ended run may be
    /// tagged too; its digest is sealed again with the new tags.
    public func setTags(run: Int64, _ tags: [String: String]) async throws {
        try Self.validateTags(tags)
        try await write { db in
            try Self.checkRun(run, in: db)
            try Self.requireTrainingRun(run, in: db)
            try Self.upsertTags(run: run, tags, in: db)
            try Self.wrote(to: run, in: db)
        }
    }

    /// Metrics, params and tags for one run in one transaction (MLflow's `log-batch`): all land or
    /// none. Params follow ``logParams(run:_:)``, tags ``setTags(run:_:)``, metrics ``logMetrics(run:_:)``.
    public func logBatch(
        run: Int64,
        metrics: [MetricPoint],
        params: [String: ParamValue],
        tags: [String: String]
    ) async throws {
        for (key, value) in params {
            try Names.validateKey(key, as: "Param")
            try Names.validateValue(value.description, as: "Param")
        }
        try Self.validateTags(tags)
        try Self.validateMetrics(metrics)
        try await write { db in
            try Self.checkRun(run, in: db)
            try Self.requireTrainingRun(run, in: db)
            if !params.isEmpty {
                try Self.requireRunning(run, to: "log params to", in: db)
                try Self.addParams(run: run, params, in: db)
            }
            try Self.upsertTags(run: run, tags, in: db)
            if !metrics.isEmpty { try Self.insertMetrics(run: run, metrics, in: db) }
            try Self.wrote(to: run, in: db)
        }
    }

    /// Inserts params not logged yet; the same value again is nothing, another value a `conflict`.
    static func addParams(run: Int64, _ params: [String: ParamValue], in db: any StoreSQL) throws {
        for (key, value) in params.sorted(by: { $0.key < $1.key }) {
            if let logged = try db.fetchOne(
                String.self,
                sql: "SELECT value FROM runParam WHERE runId = ? AND key = ?",
                arguments: [run, key]
            ) {
                guard logged == value.description else {
                    throw RegistryError(
                        .conflict,
                        "Run \(run) already has param '\(key)' = '\(logged)'; a param never changes (got '\(value.description)')."
                    )
                }
                continue
            }
            try Self.insertParams(run: run, [key: value], in: db)
        }
    }

    static func upsertTags(run: Int64, _ tags: [String: String], in db: any StoreSQL) throws {
        for (key, value) in tags.sorted(by: { $0.key < $1.key }) {
            try db.execute(
                sql:
                    "INSERT INTO runTag (runId, key, value) VALUES (?, ?, ?) ON CONFLICT (runId, key) DO UPDATE SET value = excluded.value",
                arguments: [run, key, value]
            )
        }
    }

    /// Throws `notFound` for no such run (or a deleted one) and `conflict` for an evaluation or a
    /// comparison: those are recorded whole, as evidence, and never written to afterwards.
    static func requireTrainingRun(_ run: Int64, in db: any StoreSQL) throws {
        guard
            let kind = try db.fetchOne(
                String.self,
                sql: "SELECT kind FROM run WHERE id = ? AND deletedAt IS NULL",
                arguments: [run]
            )
        else { throw RegistryError(.notFound, "There is no run \(run).") }
        guard kind == RunKind.training.rawValue else {
            throw RegistryError(
                .conflict,
                "Run \(run) (\(kind)) was recorded whole, as evidence, and is never written to afterwards."
            )
        }
    }

    /// Throws `notFound` for no such run and `conflict` for a run that has ended.
    static func requireRunning(_ run: Int64, to action: String, in db: any StoreSQL) throws {
        guard
            let status = try db.fetchOne(
                String.self,
                sql: "SELECT status FROM run WHERE id = ? AND deletedAt IS NULL",
                arguments: [run]
            )
        else { throw RegistryError(.notFound, "There is no run \(run).") }
        guard status == RunStatus.running.rawValue else {
            throw RegistryError(.conflict, "Run \(run) has ended (\(status)); cannot \(action) it.")
        }
    }

    /// Removes a tag from a run (an ended run is sealed again).
    public func deleteTag(run: Int64, key: String) async throws {
        try await write { db in
            try Self.checkRun(run, in: db)
            try Self.requireTrainingRun(run, in: db)
            try db.execute(sql: "DELETE FROM runTag WHERE runId = ? AND key = ?", arguments: [run, key])
            guard db.changesCount == 1 else { throw RegistryError(.notFound, "Run \(run) has no tag '\(key)'.") }
            try Self.wrote(to: run, in: db)
        }
    }

    /// Names a run (nil removes its name); an ended run is sealed again.
    public func renameRun(_ run: Int64, to name: String?) async throws {
        if let name { try Self.validateRunName(name) }
        try await write { db in
            try Self.checkRun(run, in: db)
            _ = try Self.liveRun(run, in: db)
            try db.execute(sql: "UPDATE run SET name = ? WHERE id = ?", arguments: [name, run])
            try Self.wrote(to: run, in: db)
        }
    }

    /// Run names: up to 250 printable characters.
    static func validateRunName(_ name: String) throws {
        guard name.unicodeScalars.count <= 250, !name.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw RegistryError(
                .invalidInput,
                "Run name '\(Names.printable(name))' is not valid: use up to 250 printable characters."
            )
        }
    }
}
