import GRDB
import TensorIO

/// What ``Registry/deleteVersion(_:force:reason:)`` did.
public struct VersionDeletion: Sendable {
    /// The version deleted, as `MODEL@N`.
    public let reference: String
    /// Aliases that pointed at the version and were removed (only with `force`), each recorded as a `delete` event.
    public let removedAliases: [AliasEvent]
}

extension Registry {
    /// Deletes a version: it can no longer be loaded, its tensors are unlinked (``collectGarbage(dryRun:)``
    /// reclaims the bytes nothing else uses), and its row stays as a tombstone recording who deleted
    /// it, when and why, so its number is never given again and the alias history still names it.
    /// Refused while an alias points at it unless `force`, which removes those aliases first (each
    /// removal recorded in the alias history), all in one transaction.
    @discardableResult
    public func deleteVersion(
        _ reference: VersionReference,
        force: Bool = false,
        reason: String = ""
    ) async throws -> VersionDeletion {
        try Names.validateValue(reason, as: "Reason")
        return try await write { db in
            try Self.tombstoneVersion(
                Self.resolve(reference, in: db),
                force: force,
                reason: reason,
                principal: principal,
                in: db
            )
        }
    }

    /// Marks version `id` deleted (removing its aliases, with events, when `force`).
    static func tombstoneVersion(
        _ id: Int64,
        force: Bool,
        reason: String,
        principal: String,
        in db: any StoreSQL
    ) throws -> VersionDeletion {
        let row = try db.fetchOne(
            StoreRow.self,
            sql:
                "SELECT m.id AS modelId, m.name, v.number FROM modelVersion v JOIN model m ON m.id = v.modelId WHERE v.id = ?",
            arguments: [id]
        )!
        let label = "\(row["name"] as String)@\(row["number"] as Int)"
        let aliases = try db.fetchAll(
            String.self,
            sql: "SELECT name FROM alias WHERE versionId = ? ORDER BY name",
            arguments: [id]
        )
        if !aliases.isEmpty && !force {
            let names = aliases.map { "'\($0)'" }.joined(separator: ", ")
            throw RegistryError(
                .conflict,
                "\(label) is the target of alias \(names); move the alias first, or pass --force to remove it with the version."
            )
        }
        var removed: [AliasEvent] = []
        for alias in aliases {
            try db.execute(
                sql: "DELETE FROM alias WHERE modelId = ? AND name = ?",
                arguments: [row["modelId"] as Int64, alias]
            )
            removed.append(
                try Self.appendEvent(
                    model: row["name"],
                    modelId: row["modelId"],
                    alias: alias,
                    action: .delete,
                    from: id,
                    to: nil,
                    reason: "\(label) deleted" + (reason.isEmpty ? "" : ": \(reason)"),
                    comparison: nil,
                    forced: true,
                    principal: principal,
                    in: db
                )
            )
        }
        try db.execute(sql: "DELETE FROM versionTensor WHERE versionId = ?", arguments: [id])
        try db.execute(
            sql: "UPDATE modelVersion SET deletedAt = ?, deletedBy = ?, deleteReason = ? WHERE id = ?",
            arguments: [Clock.unixSeconds(), principal, reason, id]
        )
        return VersionDeletion(reference: label, removedAliases: removed)
    }

    /// Deletes a run softly, as MLflow does: it disappears from listings and searches until
    /// ``restoreRun(_:)`` brings it back or ``collectGarbage(dryRun:)`` purges it with its metrics.
    /// Refused for a running run, a version's training run, and the evidence of history (an
    /// evaluation a comparison uses, a comparison an alias event cites).
    public func deleteRun(_ id: Int64) async throws {
        try await write { db in
            _ = try Self.liveRun(id, in: db)
            if let reason = try Self.reasonRunIsKept(id, in: db) {
                throw RegistryError(.conflict, "Run \(id) cannot be deleted: \(reason).")
            }
            try db.execute(sql: "UPDATE run SET deletedAt = ? WHERE id = ?", arguments: [Clock.unixSeconds(), id])
        }
    }

    /// Brings back a deleted run that `gc` has not purged yet.
    public func restoreRun(_ id: Int64) async throws {
        try await write { db in
            try db.execute(
                sql: "UPDATE run SET deletedAt = NULL WHERE id = ? AND deletedAt IS NOT NULL",
                arguments: [id]
            )
            guard db.changesCount == 1 else {
                throw RegistryError(
                    .notFound,
                    "There is no deleted run \(id) to restore (it may have been purged by 'fusebox gc')."
                )
            }
        }
    }

    /// Purges deleted runs (with their metrics, params, artifacts, evaluations and comparisons), then removes
    /// blobs no version or artifact uses (left by deleted versions and overwritten artifacts), then
    /// the files in the object folder no blob names. With `dryRun`, only counts them.
    ///
    /// The files go in a second write transaction, after the rows that named them are gone: an
    /// object is removed only while no row names it and no writer can be storing one (writers stage
    /// and publish objects inside their write transactions), so no row is ever left without its object.
    public func collectGarbage(dryRun: Bool = false) async throws -> GarbageReport {
        let (runs, blobCount, bytes, doomed) = try await write { db in
            let runs = try db.fetchAll(Int64.self, sql: "SELECT id FROM run WHERE deletedAt IS NOT NULL ORDER BY id")
                .filter { try Self.reasonRunIsKept($0, in: db) == nil }
            let orphan = """
                SELECT id FROM tensorBlob b WHERE NOT EXISTS (SELECT 1 FROM versionTensor t WHERE t.blobId = b.id)
                AND NOT EXISTS (SELECT 1 FROM artifact a WHERE a.blobId = b.id)
                """
            var row: StoreRow?
            var doomed: [String] = []
            // A dry run does the same work in a savepoint it rolls back, so its counts are exact.
            try db.inSavepoint {
                for run in runs {
                    // Its artifacts go with it (their bytes too, when nothing else uses them).
                    let experiment = try db.fetchOne(
                        Int64.self,
                        sql: "SELECT experimentId FROM run WHERE id = ?",
                        arguments: [run]
                    )
                    let prefix = "\(experiment ?? 0)/\(run)/artifacts/"
                    try db.execute(
                        sql: "DELETE FROM artifact WHERE substr(path, 1, length(?)) = ?",
                        arguments: [prefix, prefix]
                    )
                    try db.execute(sql: "DELETE FROM run WHERE id = ?", arguments: [run])
                }
                row = try db.fetchOne(
                    StoreRow.self,
                    sql:
                        "SELECT count(*) AS n, coalesce(sum(byteCount), 0) AS bytes FROM tensorBlob WHERE id IN (\(orphan))"
                )!
                doomed = try db.fetchAll(
                    String.self,
                    sql: "SELECT sha256 FROM tensorBlob WHERE inObjectFolder = 1 AND id IN (\(orphan))"
                )
                try db.execute(sql: "DELETE FROM tensorBlob WHERE id IN (\(orphan))")
                return !dryRun
            }
            return (runs.count, row!["n"] as Int, row!["bytes"] as Int, doomed)
        }
        let files = try await write { [blobs] db in
            guard let objects = blobs.objects else { return 0 }
            let unnamed = try blobs.unreferencedObjects(in: db)
            if dryRun { return Set(unnamed + doomed).count + objects.temporaries().count }
            for sha256 in unnamed { try objects.remove(sha256) }
            return unnamed.count + objects.removeTemporaries()
        }
        return GarbageReport(runs: runs, blobs: blobCount, bytes: bytes, files: files, dryRun: dryRun)
    }

    // MARK: - Synchronous helpers

    /// The run's status, refusing a run that does not exist or is deleted.
    static func liveRun(_ id: Int64, in db: any StoreSQL) throws -> RunStatus {
        guard
            let row = try db.fetchOne(
                StoreRow.self,
                sql: "SELECT status, deletedAt FROM run WHERE id = ?",
                arguments: [id]
            )
        else {
            throw RegistryError(.notFound, "There is no run \(id). Run 'fusebox runs' to list them.")
        }
        guard (row["deletedAt"] as Double?) == nil else {
            throw RegistryError(.notFound, "Run \(id) is already deleted.")
        }
        return RunStatus(rawValue: row["status"]) ?? .failed
    }

    /// Why a run must stay (nil when it may go).
    static func reasonRunIsKept(_ id: Int64, in db: any StoreSQL) throws -> String? {
        if try db.fetchOne(String.self, sql: "SELECT status FROM run WHERE id = ?", arguments: [id]) == "running" {
            return "it is still running"
        }
        if let version = try db.fetchOne(
            StoreRow.self,
            sql:
                "SELECT m.name, v.number FROM modelVersion v JOIN model m ON m.id = v.modelId WHERE v.trainingRunId = ? AND v.deletedAt IS NULL",
            arguments: [id]
        ) {
            return "it trained \(version["name"] as String)@\(version["number"] as Int); delete that version first"
        }
        if let comparison = try db.fetchOne(
            Int64.self,
            sql: """
                SELECT c.id FROM comparison c JOIN evaluation e ON e.id IN (c.evaluationA, c.evaluationB)
                WHERE e.runId = ? AND c.runId != ? LIMIT 1
                """,
            arguments: [id, id]
        ) {
            return "comparison \(comparison) uses its evaluation"
        }
        if let event = try db.fetchOne(
            Int64.self,
            sql: "SELECT a.id FROM aliasEvent a JOIN comparison c ON c.id = a.comparisonId WHERE c.runId = ? LIMIT 1",
            arguments: [id]
        ) {
            return "alias event \(event) cites it as the evidence for a promotion (history is append-only)"
        }
        return nil
    }
}
