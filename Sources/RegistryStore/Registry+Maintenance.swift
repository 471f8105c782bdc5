import Foundation
import GRDB
import TensorIO

extension Registry {
    /// Checks the store: `PRAGMA integrity_check`, every tensor blob re-hashed against its SHA-256
    /// (in the database or the object folder, where a missing object is damage), and every record
    /// digest (each version's spec, header and tensor list; each evaluation and comparison). Each
    /// damaged item is named with the versions it belongs to. Objects no blob names are counted,
    /// not damage: `gc` removes them.
    public func verify() async throws -> VerificationReport {
        try await read { [blobs] db in
            let integrity = try db.checkIntegrity()
            var damaged: [String] = []
            var checked = 0
            var bytes = 0
            for blob in try db.fetchAll(StoreRow.self, sql: "SELECT id, byteCount FROM tensorBlob ORDER BY id") {
                let id: Int64 = blob["id"]
                checked += 1
                bytes += blob["byteCount"] as Int
                do {
                    try blobs.stream(blobId: id, in: db, verify: true, what: "blob \(id)") { _ in }
                } catch let error as RegistryError where error.code == .corruptData {
                    let users = try db.fetchAll(
                        StoreRow.self,
                        sql: """
                            SELECT m.name, v.number, t.name AS tensor FROM versionTensor t JOIN modelVersion v ON v.id = t.versionId
                            JOIN model m ON m.id = v.modelId WHERE t.blobId = ? ORDER BY m.name, v.number
                            """,
                        arguments: [id]
                    )
                    damaged += users.map {
                        "\($0["name"] as String)@\($0["number"] as Int) tensor '\($0["tensor"] as String)'"
                    }
                    let artifacts = try db.fetchAll(
                        String.self,
                        sql: "SELECT path FROM artifact WHERE blobId = ? ORDER BY path",
                        arguments: [id]
                    )
                    damaged += artifacts.map { "artifact '\($0)'" }
                    if users.isEmpty, artifacts.isEmpty { damaged.append("unreferenced blob \(id)") }
                }
            }
            let versions = try db.fetchAll(
                StoreRow.self,
                sql:
                    "SELECT v.id, m.name, v.number FROM modelVersion v JOIN model m ON m.id = v.modelId ORDER BY m.name, v.number"
            )
            for v in versions {
                damaged += try Self.damagedParts(ofVersion: v["id"], in: db).map {
                    "\(v["name"] as String)@\(v["number"] as Int) \($0)"
                }
            }
            for table in ["evaluation", "comparison"] {
                for row in try db.fetchAll(StoreRow.self, sql: "SELECT id, runId FROM \(table) ORDER BY id")
                where try !Self.isIntact(table, row["id"], in: db) {
                    damaged.append("\(table) \(row["id"] as Int64) (run \(row["runId"] as Int64))")
                }
            }
            // Ended runs: params, tags, metrics and weight history.
            for run in try db.fetchAll(Int64.self, sql: "SELECT id FROM run WHERE status != 'running' ORDER BY id")
            where try !Self.isIntactRun(run, in: db) {
                damaged.append("run \(run) (params, tags, metrics or weight history)")
            }
            // Derived records must agree with what they derive from: each metric series with its
            // chunks' bounds and its latest value, each alias with the last event of its append-only history.
            damaged += try MetricChunks.damagedSeries(in: db)
            damaged += try db.fetchAll(
                StoreRow.self,
                sql: """
                    SELECT m.name, a.name FROM alias a JOIN model m ON m.id = a.modelId
                    WHERE a.versionId IS DISTINCT FROM (SELECT e.toVersionId FROM aliasEvent e WHERE e.modelId = a.modelId AND e.alias = a.name ORDER BY e.id DESC LIMIT 1)
                    ORDER BY m.name, a.name
                    """
            ).map { "alias '\($0[1] as String)' of \($0[0] as String) (its target is not the one its history records)" }
            let unreferenced = try blobs.unreferencedObjects(in: db).count
            return VerificationReport(
                integrity: integrity,
                blobsChecked: checked,
                bytesChecked: bytes,
                unreferencedObjects: unreferenced,
                recordsChecked: versions.count
                    + (try db.fetchOne(
                        Int.self,
                        sql: """
                            SELECT (SELECT count(*) FROM evaluation) + (SELECT count(*) FROM comparison)
                            + (SELECT count(*) FROM run WHERE status != 'running') + (SELECT count(*) FROM alias)
                            """
                    )!),
                damaged: damaged
            )
        }
    }

    /// Copies the store to `path` with SQLite's online backup API — a consistent snapshot even
    /// while other processes write — and the objects that snapshot names to `path`'s object folder
    /// (``objectFolder(ofStore:)``), each verified against its digest as it is copied (one already
    /// there is verified and kept, so backing up into the same place again copies only what is new).
    /// The database copy is made beside `path` and moved into place with `rename(2)` after its
    /// objects, so an existing backup (replaced only with `overwrite`) is never lost half-way and
    /// never names an object it lacks.
    public func backup(toPath path: String, overwrite: Bool = false) async throws {
        try OutputFile.checkWritable(path, overwrite: overwrite)
        let temporary = path + ".tmp-\(ProcessIdentity.pid)"
        let manager = FileManager.default
        try? manager.removeItem(atPath: temporary)
        do {
            guard let writer else {
                throw RegistryError(
                    .invalidInput,
                    "The store \(self.path) is a database server's; back it up with its own tools (pg_dump), or copy it to a file with 'fusebox copy'."
                )
            }
            let destination = try DatabaseQueue(path: temporary)
            try writer.backup(to: destination)
            if let objects = blobs.objects {
                let named = try await destination.read { db in
                    try String.fetchAll(
                        db,
                        sql: "SELECT sha256 FROM tensorBlob WHERE inObjectFolder = 1 ORDER BY sha256"
                    )
                }
                let target = ObjectFolder(root: Self.objectFolder(ofStore: path))
                for sha256 in named { try Self.copyObject(sha256, from: objects, to: target) }
            }
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

    /// Copies one object, verified; an intact copy already at the target is kept.
    static func copyObject(_ sha256: String, from source: ObjectFolder, to target: ObjectFolder) throws {
        if target.contains(sha256), (try? target.read(sha256) { _ in })?.sha256 == sha256 { return }
        let staged: StagedObject
        do { staged = try target.stage(copyingFileAt: source.path(of: sha256)) } catch let error as TensorIOError
            where error.code == .fileNotFound && error.path == source.path(of: sha256)
        {
            throw RegistryError(
                .corruptData,
                "The object '\(error.path)' is missing (removed by a 'fusebox gc' during the backup, or lost); run 'fusebox verify', then the backup again."
            )
        }
        guard staged.sha256 == sha256 else {
            target.discard(staged)
            throw RegistryError(
                .corruptData,
                "The object '\(source.path(of: sha256))' fails its checksum (SHA-256 \(staged.sha256.prefix(12))…); run 'fusebox verify'. Nothing was backed up."
            )
        }
        try target.publish(staged)
    }
}
