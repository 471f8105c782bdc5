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

    static func sealVersion(_ id: Int64, in db: Database) throws {
        try db.execute(
            sql: """
                UPDATE modelVersion SET (specDigest, headerDigest, layoutDigest, recordDigest) =
                (SELECT spec, header, layout, record FROM versionDigest WHERE id = ?) WHERE id = ?
                """,
            arguments: [id, id]
        )
    }

    /// Throws `corruptData` naming the version and what changed when a digest no longer matches.
    static func checkVersion(_ id: Int64, label: @autoclosure () -> String, in db: Database) throws {
        if let damaged = try damagedParts(ofVersion: id, in: db).first {
            throw RegistryError(
                .corruptData,
                "\(label())'s stored \(damaged) fails its checksum: it changed after it was registered. Run 'fusebox verify'."
            )
        }
    }

    /// The parts of a version whose digest no longer matches (a deleted version's tensors are unlinked
    /// and its training run may be purged, so only its spec and header are checked).
    static func damagedParts(ofVersion id: Int64, in db: Database) throws -> [String] {
        let row = try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT v.specDigest IS d.spec, v.headerDigest IS d.header, v.layoutDigest IS d.layout OR v.deletedAt IS NOT NULL,
                        v.recordDigest IS d.record OR v.deletedAt IS NOT NULL
                    FROM modelVersion v JOIN versionDigest d ON d.id = v.id WHERE v.id = ?
                    """
            ),
            arguments: [id]
        )
        guard let row else { return [] }
        return versionDigests.indices.filter { !(row[$0] as Bool) }.map { versionDigests[$0].what }
    }

    static func sealEvaluation(_ id: Int64, in db: Database) throws {
        try db.execute(
            sql: "UPDATE evaluation SET digest = (SELECT digest FROM evaluationDigest WHERE id = ?) WHERE id = ?",
            arguments: [id, id]
        )
    }

    static func sealComparison(_ id: Int64, in db: Database) throws {
        try db.execute(
            sql: "UPDATE comparison SET digest = (SELECT digest FROM comparisonDigest WHERE id = ?) WHERE id = ?",
            arguments: [id, id]
        )
    }

    /// Seals a run that has ended (its digest covers what it recorded); a running run is left open.
    static func sealRunIfEnded(_ id: Int64, in db: Database) throws {
        try db.cachedStatement(
            sql:
                "UPDATE run SET digest = (SELECT digest FROM runDigest WHERE id = ?) WHERE id = ? AND status != 'running'"
        ).execute(arguments: [id, id])
    }

    /// Throws `corruptData` when an ended run's record changed after it ended.
    static func checkRun(_ id: Int64, in db: Database) throws {
        let intact = try Bool.fetchOne(
            db.cachedStatement(
                sql:
                    "SELECT r.status = 'running' OR r.digest IS d.digest FROM run r JOIN runDigest d ON d.id = r.id WHERE r.id = ?"
            ),
            arguments: [id]
        )
        guard intact ?? true else {
            throw RegistryError(
                .corruptData,
                "Run \(id) fails its checksum: its params, tags, metrics or weight history changed after it ended. Run 'fusebox verify'."
            )
        }
    }

    /// True when the evaluation's (or comparison's) stored digest still matches its columns.
    static func isIntact(_ table: String, _ id: Int64, in db: Database) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(
                sql: "SELECT r.digest IS d.digest FROM \(table) r JOIN \(table)Digest d ON d.id = r.id WHERE r.id = ?"
            ),
            arguments: [id]
        ) ?? false
    }
}
