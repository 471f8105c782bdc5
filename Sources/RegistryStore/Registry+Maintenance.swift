import Foundation
import GRDB

extension Registry {
    /// Checks the store: `PRAGMA integrity_check`, then every tensor blob re-hashed against its
    /// SHA-256. Each bad tensor is reported with the versions that use it.
    public func verify() async throws -> VerificationReport {
        try await read { db in
            let integrity = try String.fetchAll(db, sql: "PRAGMA integrity_check")
            var corrupt: [String] = []
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
                            """, arguments: [id])
                    corrupt += users.map { "\($0["name"] as String)@\($0["number"] as Int) tensor '\($0["tensor"] as String)'" }
                    if users.isEmpty { corrupt.append("unreferenced blob \(id)") }
                }
            }
            return VerificationReport(integrity: integrity, blobsChecked: checked, bytesChecked: bytes, corruptTensors: corrupt)
        }
    }

    /// Copies the store to `path` with SQLite's online backup API: a consistent snapshot even
    /// while other processes write. An existing file is refused unless `overwrite`.
    public func backup(toPath path: String, overwrite: Bool = false) async throws {
        let manager = FileManager.default
        if manager.fileExists(atPath: path) {
            guard overwrite else { throw RegistryError(.alreadyExists, "'\(path)' already exists; pass --force to overwrite it.") }
        }
        let temporary = path + ".tmp-\(ProcessIdentity.pid)"
        try? manager.removeItem(atPath: temporary)
        do {
            let destination = try DatabaseQueue(path: temporary)
            try writer.backup(to: destination)
            try destination.close()
            if manager.fileExists(atPath: path) { try manager.removeItem(atPath: path) }
            try manager.moveItem(atPath: temporary, toPath: path)
        } catch {
            try? manager.removeItem(atPath: temporary)
            throw Self.mapped(error, path: path)
        }
    }

    /// Removes tensor blobs no version uses (left by deleted versions). With `dryRun`, only counts them.
    public func collectGarbage(dryRun: Bool = false) async throws -> GarbageReport {
        try await write { db in
            let orphan = "SELECT id FROM tensorBlob b WHERE NOT EXISTS (SELECT 1 FROM versionTensor t WHERE t.blobId = b.id)"
            let row = try Row.fetchOne(db, sql: "SELECT count(*) AS n, coalesce(sum(byteCount), 0) AS bytes FROM tensorBlob WHERE id IN (\(orphan))")!
            if !dryRun { try db.execute(sql: "DELETE FROM tensorBlob WHERE id IN (\(orphan))") }
            return GarbageReport(blobs: row["n"], bytes: row["bytes"], dryRun: dryRun)
        }
    }

    /// Deletes a version (its tags, lineage, tensor links and evaluations); its blobs stay until
    /// ``collectGarbage(dryRun:)``. Refused while an alias points at it, while the append-only alias
    /// history mentions it, or while a fused version lists it as a component.
    public func deleteVersion(_ reference: VersionReference) async throws {
        try await write { db in
            let id = try Self.resolve(reference, in: db)
            let label = try Self.version(id: id, in: db).reference
            if let alias = try String.fetchOne(db, sql: "SELECT name FROM alias WHERE versionId = ?", arguments: [id]) {
                throw RegistryError(.conflict, "\(label) is the target of alias '\(alias)'; move or delete the alias first.")
            }
            if try Int.fetchOne(db, sql: "SELECT 1 FROM modelVersionComponent WHERE componentVersionId = ?", arguments: [id]) != nil {
                throw RegistryError(.conflict, "\(label) is a component of a fused version; it cannot be deleted.")
            }
            if try Int.fetchOne(db, sql: "SELECT 1 FROM aliasEvent WHERE fromVersionId = ? OR toVersionId = ?", arguments: [id, id]) != nil {
                throw RegistryError(.conflict, "\(label) appears in the alias history, which is append-only; it cannot be deleted.")
            }
            try db.execute(sql: "DELETE FROM modelVersion WHERE id = ?", arguments: [id])
        }
    }
}
