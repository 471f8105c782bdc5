import Foundation
import GRDB
import TensorIO

extension Registry {
    /// Checks the store: `PRAGMA integrity_check`, every tensor blob re-hashed against its SHA-256,
    /// and every record digest (each version's spec, header and tensor list; each evaluation and
    /// comparison). Each damaged item is named with the versions it belongs to.
    public func verify() async throws -> VerificationReport {
        try await read { db in
            let integrity = try String.fetchAll(db, sql: "PRAGMA integrity_check")
            var damaged: [String] = []
            var checked = 0
            var bytes = 0
            for blob in try Row.fetchAll(db, sql: "SELECT id, byteCount FROM tensorBlob ORDER BY id") {
                let id: Int64 = blob["id"]
                checked += 1
                bytes += blob["byteCount"] as Int
                do {
                    try TensorBlobs.stream(blobId: id, in: db, verify: true, what: "blob \(id)") { _ in }
                } catch let error as RegistryError where error.code == .corruptData {
                    let users = try Row.fetchAll(
                        db,
                        sql: """
                            SELECT m.name, v.number, t.name AS tensor FROM versionTensor t JOIN modelVersion v ON v.id = t.versionId
                            JOIN model m ON m.id = v.modelId WHERE t.blobId = ? ORDER BY m.name, v.number
                            """,
                        arguments: [id]
                    )
                    damaged += users.map {
                        "\($0["name"] as String)@\($0["number"] as Int) tensor '\($0["tensor"] as String)'"
                    }
                    let artifacts = try String.fetchAll(
                        db,
                        sql: "SELECT path FROM artifact WHERE blobId = ? ORDER BY path",
                        arguments: [id]
                    )
                    damaged += artifacts.map { "artifact '\($0)'" }
                    if users.isEmpty, artifacts.isEmpty { damaged.append("unreferenced blob \(id)") }
                }
            }
            let versions = try Row.fetchAll(
                db,
                sql:
                    "SELECT v.id, m.name, v.number FROM modelVersion v JOIN model m ON m.id = v.modelId ORDER BY m.name, v.number"
            )
            for v in versions {
                damaged += try Self.damagedParts(ofVersion: v["id"], in: db).map {
                    "\(v["name"] as String)@\(v["number"] as Int) \($0)"
                }
            }
            for table in ["evaluation", "comparison"] {
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT r.id, r.runId FROM \(table) r JOIN \(table)Digest d ON d.id = r.id WHERE r.digest IS NOT d.digest ORDER BY r.id
                        """
                )
                damaged += rows.map { "\(table) \($0["id"] as Int64) (run \($0["runId"] as Int64))" }
            }
            // Ended runs: params, tags, metrics and weight history.
            damaged += try Int64.fetchAll(
                db,
                sql:
                    "SELECT r.id FROM run r JOIN runDigest d ON d.id = r.id WHERE r.status != 'running' AND r.digest IS NOT d.digest ORDER BY r.id"
            ).map { "run \($0) (params, tags, metrics or weight history)" }
            // Derived records must agree with what they derive from: each metric series with its
            // chunks' bounds and its latest value, each alias with the last event of its append-only history.
            damaged += try MetricChunks.damagedSeries(in: db)
            damaged += try Row.fetchAll(
                db,
                sql: """
                    SELECT m.name, a.name FROM alias a JOIN model m ON m.id = a.modelId
                    WHERE a.versionId IS NOT (SELECT e.toVersionId FROM aliasEvent e WHERE e.modelId = a.modelId AND e.alias = a.name ORDER BY e.id DESC LIMIT 1)
                    ORDER BY m.name, a.name
                    """
            ).map { "alias '\($0[1] as String)' of \($0[0] as String) (its target is not the one its history records)" }
            return VerificationReport(
                integrity: integrity,
                blobsChecked: checked,
                bytesChecked: bytes,
                recordsChecked: versions.count
                    + (try Int.fetchOne(
                        db,
                        sql: """
                            SELECT (SELECT count(*) FROM evaluation) + (SELECT count(*) FROM comparison)
                            + (SELECT count(*) FROM run WHERE status != 'running') + (SELECT count(*) FROM alias)
                            """
                    )!),
                damaged: damaged
            )
        }
    }

    /// Copies the store to `path` with SQLite's online backup API: a consistent snapshot even
    /// while other processes write. The copy is made beside `path` and moved into place with
    /// `rename(2)`, so an existing file (replaced only with `overwrite`) is never lost half-way.
    public func backup(toPath path: String, overwrite: Bool = false) async throws {
        try OutputFile.checkWritable(path, overwrite: overwrite)
        let temporary = path + ".tmp-\(ProcessIdentity.pid)"
        let manager = FileManager.default
        try? manager.removeItem(atPath: temporary)
        do {
            let destination = try DatabaseQueue(path: temporary)
            try writer.backup(to: destination)
            try destination.close()
            guard rename(temporary, path) == 0 else {
                throw RegistryError(
                    .io,
                    "Cannot move the backup into place at '\(path)': \(String(cString: strerror(errno)))."
                )
            }
        } catch {
            try? manager.removeItem(atPath: temporary)
            throw Self.mapped(error, path: path)
        }
    }
}
