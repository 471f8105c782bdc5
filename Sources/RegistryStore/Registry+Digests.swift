import GRDB

/// Sealing and checking record digests (see ``RecordDigest``): a record is sealed in the
/// transaction that writes it and checked by every read an output depends on.
extension Registry {
    /// What a version's digests cover, in the order `verify` reports them.
    static let versionDigests: [(column: String, view: String, what: String)] = [
        ("specDigest", "spec", "spec"),
        ("headerDigest", "header", "safetensors header"),
        ("layoutDigest", "layout", "tensor list (names, dtypes, shapes, digests)"),
        ("recordDigest", "record", "record (number, tags, lineage)"),
    ]

    /// Seals a version over what the store holds of it.
    static func sealVersion(_ id: Int64, in db: any StoreSQL) throws {
        guard let record = try RecordDigests.versionRecord(id, in: db) else { return }
        try sealVersion(id, as: record, in: db)
    }

    /// Seals a version over `record`, the rows its writer has just inserted: one statement, with
    /// no reading back. `verify` recomputes the same digests from the stored rows.
    static func sealVersion(_ id: Int64, as record: RecordDigests.VersionRecord, in db: any StoreSQL) throws {
        let parts = record.parts
        try db.execute(
            sql:
                "UPDATE modelVersion SET specDigest = ?, headerDigest = ?, layoutDigest = ?, recordDigest = ? WHERE id = ?",
            arguments: [parts.spec, parts.header, parts.layout, parts.record, id]
        )
    }

    /// Throws `corruptData` naming the version and what changed when a digest no longer matches.
    static func checkVersion(_ id: Int64, label: @autoclosure () -> String, in db: any StoreSQL) throws {
        if let damaged = try damagedParts(ofVersion: id, in: db).first {
            throw RegistryError(
                .corruptData,
                "\(label())'s stored \(damaged) fails its checksum: it changed after it was registered. Run 'fusebox verify'."
            )
        }
    }

    /// The parts of a version whose digest no longer matches (a deleted version's tensors are unlinked
    /// and its training run may be purged, so only its spec and header are checked).
    static func damagedParts(ofVersion id: Int64, in db: any StoreSQL) throws -> [String] {
        guard
            let stored = try db.fetchOne(
                StoreRow.self,
                sql:
                    "SELECT specDigest, headerDigest, layoutDigest, recordDigest, deletedAt FROM modelVersion WHERE id = ?",
                arguments: [id]
            ),
            let parts = try RecordDigests.version(id, in: db)
        else { return [] }
        let deleted = stored.values[4] != .null
        let intact = [
            stored["specDigest"] == parts.spec,
            stored["headerDigest"] == parts.header,
            deleted || stored["layoutDigest"] == parts.layout,
            deleted || stored["recordDigest"] == parts.record,
        ]
        return versionDigests.indices.filter { !intact[$0] }.map { versionDigests[$0].what }
    }

    static func sealEvaluation(_ id: Int64, in db: any StoreSQL) throws {
        try db.execute(
            sql: "UPDATE evaluation SET digest = ? WHERE id = ?",
            arguments: [try RecordDigests.evaluation(id, in: db), id]
        )
    }

    static func sealComparison(_ id: Int64, in db: any StoreSQL) throws {
        try db.execute(
            sql: "UPDATE comparison SET digest = ? WHERE id = ?",
            arguments: [try RecordDigests.comparison(id, in: db), id]
        )
    }

    /// Seals a run that has ended (its digest covers what it recorded); a running run is left open.
    static func sealRunIfEnded(_ id: Int64, in db: any StoreSQL) throws {
        guard try db.fetchOne(String.self, sql: "SELECT status FROM run WHERE id = ?", arguments: [id]) != "running"
        else { return }
        try sealRun(id, in: db)
    }

    /// Seals a run its caller knows has ended.
    static func sealRun(_ id: Int64, in db: any StoreSQL) throws {
        try db.execute(
            sql: "UPDATE run SET digest = ? WHERE id = ?",
            arguments: [try RecordDigests.run(id, in: db), id]
        )
    }

    /// True when an ended run's stored digest still matches what it recorded (a running run is open).
    static func isIntactRun(_ id: Int64, in db: any StoreSQL) throws -> Bool {
        guard
            let row = try db.fetchOne(
                StoreRow.self,
                sql: "SELECT status, digest FROM run WHERE id = ?",
                arguments: [id]
            )
        else { return true }
        guard row["status"] as String != "running" else { return true }
        return row["digest"] as String? == (try RecordDigests.run(id, in: db))
    }

    /// Throws `corruptData` when an ended run's record changed after it ended.
    static func checkRun(_ id: Int64, in db: any StoreSQL) throws {
        guard try isIntactRun(id, in: db) else {
            throw RegistryError(
                .corruptData,
                "Run \(id) fails its checksum: its params, tags, metrics or weight history changed after it ended. Run 'fusebox verify'."
            )
        }
    }

    /// True when the evaluation's (or comparison's) stored digest still matches its columns.
    static func isIntact(_ table: String, _ id: Int64, in db: any StoreSQL) throws -> Bool {
        let stored = try db.fetchOne(String.self, sql: "SELECT digest FROM \(table) WHERE id = ?", arguments: [id])
        let computed =
            table == "evaluation" ? try RecordDigests.evaluation(id, in: db) : try RecordDigests.comparison(id, in: db)
        return stored != nil && stored == computed
    }
}
