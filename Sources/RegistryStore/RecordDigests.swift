import Crypto
import TensorIO

/// The record digests (schema 0012 on): computed here, in Swift, from rows every backend returns
/// alike, so a store's digests mean the same on SQLite and on PostgreSQL and survive `fusebox copy`.
///
/// A digest is the SHA-256 (hex) of a sequence of items: a value is encoded as ``RecordDigest``
/// encodes SQL arguments (type byte 0 NULL, 1 integer, 2 real, 3 text, 4 bytes; 8-byte
/// little-endian length; payload), and a list of rows is the byte 5, the row count, then each row
/// as the byte 6, its value count and its values. Lists are sorted in Swift — text by its UTF-8
/// bytes — never by a database's collation. Every encoding carries its type and length, so no two
/// different records share an input.
enum RecordDigests {
    /// What each part of a version's record covers: `spec` the spec JSON, `header` a registered
    /// file's header bytes, `layout` its tensors (position, name, dtype, shape, SHA-256, length),
    /// `record` its number, model, creation, principal, training run, tags, datasets and components.
    struct VersionParts: Equatable {
        let spec: String
        let header: String
        let layout: String
        let record: String
    }

    /// What a version's digests are computed from: its rows, as the store holds them. A writer
    /// builds it from the values it inserts, and seals the version without reading them back;
    /// ``version(_:in:)`` reads it from the store.
    struct VersionRecord {
        /// The spec JSON (text), or NULL for a component.
        var spec: StoreValue
        /// A registered file's header bytes, or NULL for a fused version.
        var header: StoreValue
        /// Its model's id, number, creation time, principal and training run.
        var row: [StoreValue]
        /// One row per tensor, in position order: position, name, dtype, shape, SHA-256, byte count.
        var layout: [[StoreValue]] = []
        /// Key and value of each tag, in any order.
        var tags: [[StoreValue]] = []
        /// Role and fingerprint of each dataset, in any order.
        var datasets: [[StoreValue]] = []
        /// Modality and version id of each component, in any order.
        var components: [[StoreValue]] = []

        /// The digests (lists sorted as ``RecordDigests`` describes).
        var parts: VersionParts {
            var record = Builder()
            record.append(row)
            record.append(list: RecordDigests.sorted(tags))
            record.append(list: RecordDigests.sorted(datasets))
            record.append(list: RecordDigests.sorted(components))
            var layoutDigest = Builder()
            layoutDigest.append(list: layout)
            return VersionParts(
                spec: Builder.hex(of: [spec]),
                header: Builder.hex(of: [header]),
                layout: layoutDigest.hex(),
                record: record.hex()
            )
        }
    }

    /// A version's digests, or nil when there is no such version.
    static func version(_ id: Int64, in db: any StoreSQL) throws -> VersionParts? {
        try versionRecord(id, in: db)?.parts
    }

    /// A version's record as the store holds it, or nil when there is no such version.
    static func versionRecord(_ id: Int64, in db: any StoreSQL) throws -> VersionRecord? {
        guard
            let v = try db.fetchOne(
                StoreRow.self,
                sql: """
                    SELECT spec, safetensorsHeader, modelId, number, createdAt, principal, trainingRunId
                    FROM modelVersion WHERE id = ?
                    """,
                arguments: [id]
            )
        else { return nil }
        return VersionRecord(
            spec: v.values[0],
            header: v.values[1],
            row: Array(v.values[2...6]),
            layout: try rows(
                db,
                id,
                """
                SELECT t.position, t.name, t.dtype, t.shape, b.sha256, b.byteCount
                FROM versionTensor t JOIN tensorBlob b ON b.id = t.blobId WHERE t.versionId = ? ORDER BY t.position
                """
            ),
            tags: try rows(db, id, "SELECT key, value FROM modelVersionTag WHERE versionId = ?"),
            datasets: try rows(db, id, "SELECT role, fingerprint FROM modelVersionDataset WHERE versionId = ?"),
            components: try rows(
                db,
                id,
                "SELECT modality, componentVersionId FROM modelVersionComponent WHERE versionId = ?"
            )
        )
    }

    /// What a run's digest covers: its kind, status, times, failure, model, version, principal,
    /// experiment and name; its params and tags; each metric chunk (key name, first step, packed
    /// bytes); and its fusion weights (epoch, modality, class, weight). None of it is the run's
    /// id, so a writer that knows what it will insert seals the run in the same statement.
    struct RunRecord {
        /// kind, status, startedAt, endedAt, failure, modelId, versionId, principal, experimentId, name.
        var row: [StoreValue]
        /// Key and value of each param, in any order.
        var params: [[StoreValue]] = []
        /// Key and value of each tag, in any order.
        var tags: [[StoreValue]] = []
        /// Key name, first step and packed bytes of each metric chunk, in any order.
        var metricChunks: [[StoreValue]] = []
        /// Epoch, modality, class and weight of each fusion weight, in any order.
        var fusionWeights: [[StoreValue]] = []

        /// The digest (lists sorted as ``RecordDigests`` describes).
        var digest: String {
            var digest = Builder()
            digest.append(row)
            for list in [params, tags, metricChunks, fusionWeights] { digest.append(list: RecordDigests.sorted(list)) }
            return digest.hex()
        }
    }

    /// A run's digest (``RunRecord``), or nil when there is no such run.
    static func run(_ id: Int64, in db: any StoreSQL) throws -> String? {
        guard
            let r = try db.fetchOne(
                StoreRow.self,
                sql: """
                    SELECT kind, status, startedAt, endedAt, failure, modelId, versionId, principal, experimentId, name
                    FROM run WHERE id = ?
                    """,
                arguments: [id]
            )
        else { return nil }
        return RunRecord(
            row: r.values,
            params: try rows(db, id, "SELECT key, value FROM runParam WHERE runId = ?"),
            tags: try rows(db, id, "SELECT key, value FROM runTag WHERE runId = ?"),
            metricChunks: try rows(
                db,
                id,
                "SELECT k.name, c.firstStep, c.points FROM metricChunk c JOIN metricKey k ON k.id = c.keyId WHERE c.runId = ?"
            ),
            fusionWeights: try rows(
                db,
                id,
                "SELECT epoch, modality, classIndex, weight FROM fusionWeight WHERE runId = ?"
            )
        ).digest
    }

    /// An evaluation's digest: its run, version, dataset, modalities, sample count, metrics and
    /// per-sample labels, predictions and probabilities.
    static func evaluation(_ id: Int64, in db: any StoreSQL) throws -> String? {
        try db.fetchOne(
            StoreRow.self,
            sql: """
                SELECT runId, versionId, datasetFingerprint, modalities, sampleCount, metrics, labels, predictedClasses,
                    trueClassProbabilities FROM evaluation WHERE id = ?
                """,
            arguments: [id]
        ).map { Builder.hex(of: $0.values) }
    }

    /// A comparison's digest: its run, the two evaluations, the dataset, statistics and verdict.
    static func comparison(_ id: Int64, in db: any StoreSQL) throws -> String? {
        try db.fetchOne(
            StoreRow.self,
            sql: """
                SELECT runId, evaluationA, evaluationB, datasetFingerprint, statistics, verdict FROM comparison WHERE id = ?
                """,
            arguments: [id]
        ).map { Builder.hex(of: $0.values) }
    }

    /// The schema migration that moved the digests from SQL views to this type.
    static let migration = "0012_record_digests"

    /// Rewrites the stored digests in this type's form: every version, evaluation, comparison and
    /// ended run — but a deleted version's layout and record digests, which were sealed over
    /// tensors and lineage the deletion unlinked, stay as registered (they are no longer checked).
    /// With `keepingDamage`, only a digest that still matches its view (SQLite before 0012) is
    /// rewritten, so a record damaged before the upgrade stays reported as damaged.
    static func reseal(in db: any StoreSQL, keepingDamage: Bool) throws {
        let versions = try db.fetchAll(
            StoreRow.self,
            sql: keepingDamage
                ? """
                SELECT v.id, v.specDigest IS d.spec, v.headerDigest IS d.header, v.layoutDigest IS d.layout,
                    v.recordDigest IS d.record FROM modelVersion v JOIN versionDigest d ON d.id = v.id
                """
                : "SELECT id, 1, 1, deletedAt IS NULL, deletedAt IS NULL FROM modelVersion"
        )
        for row in versions {
            let id: Int64 = row[0]
            guard let parts = try version(id, in: db) else { continue }
            let columns = ["specDigest", "headerDigest", "layoutDigest", "recordDigest"]
            let values = [parts.spec, parts.header, parts.layout, parts.record]
            for part in 0..<4 where row[part + 1] as Bool {
                try db.execute(
                    sql: "UPDATE modelVersion SET \(columns[part]) = ? WHERE id = ?",
                    arguments: [values[part], id]
                )
            }
        }
        let records: [(table: String, digest: (Int64, any StoreSQL) throws -> String?, ended: String)] = [
            ("evaluation", evaluation, ""), ("comparison", comparison, ""), ("run", run, " AND r.status != 'running'"),
        ]
        for record in records {
            let ids = try db.fetchAll(
                Int64.self,
                sql: keepingDamage
                    ? "SELECT r.id FROM \(record.table) r JOIN \(record.table)Digest d ON d.id = r.id WHERE r.digest IS d.digest\(record.ended)"
                    : "SELECT r.id FROM \(record.table) r WHERE 1 = 1\(record.ended)"
            )
            for id in ids {
                try db.execute(
                    sql: "UPDATE \(record.table) SET digest = ? WHERE id = ?",
                    arguments: [try record.digest(id, db), id]
                )
            }
        }
    }

    /// The values of each row of a query whose one argument is `id`.
    private static func rows(_ db: any StoreSQL, _ id: Int64, _ sql: String) throws -> [[StoreValue]] {
        try db.fetchAll(StoreRow.self, sql: sql, arguments: [id]).map(\.values)
    }

    /// Rows sorted by their values (text by UTF-8 bytes), so a list's digest never depends on
    /// the order a database returned it in.
    static func sorted(_ rows: [[StoreValue]]) -> [[StoreValue]] {
        rows.sorted { $0.lexicographicallyPrecedes($1, by: Self.precedes) }
    }

    /// A total order on stored values: NULL, then numbers, text (by UTF-8 bytes), bytes.
    static func precedes(_ a: StoreValue, _ b: StoreValue) -> Bool {
        func rank(_ v: StoreValue) -> Int {
            switch v {
            case .null: 0
            case .integer, .real: 1
            case .text: 2
            case .bytes: 3
            }
        }
        switch (a, b) {
        case (.integer(let x), .integer(let y)): return x < y
        case (.integer(let x), .real(let y)): return Double(x) < y
        case (.real(let x), .integer(let y)): return x < Double(y)
        case (.real(let x), .real(let y)): return x < y
        case (.text(let x), .text(let y)): return x.utf8.lexicographicallyPrecedes(y.utf8)
        case (.bytes(let x), .bytes(let y)): return x.lexicographicallyPrecedes(y)
        default: return rank(a) < rank(b)
        }
    }

    /// Hashes items as the type's documentation describes.
    struct Builder {
        private var hasher = SHA256()

        /// The digest of one row of values.
        static func hex<C: Collection>(of values: C) -> String where C.Element == StoreValue {
            var builder = Builder()
            builder.append(values)
            return builder.hex()
        }

        mutating func append<C: Collection>(_ values: C) where C.Element == StoreValue {
            for value in values { append(value) }
        }

        mutating func append(list rows: [[StoreValue]]) {
            header(5, rows.count)
            for row in rows {
                header(6, row.count)
                append(row)
            }
        }

        mutating func append(_ value: StoreValue) {
            switch value {
            case .null: payload(0, UnsafeRawBufferPointer(start: nil, count: 0))
            case .integer(let i): withUnsafeBytes(of: i.littleEndian) { payload(1, $0) }
            case .real(let d): withUnsafeBytes(of: d.bitPattern.littleEndian) { payload(2, $0) }
            case .text(var s): s.withUTF8 { payload(3, UnsafeRawBufferPointer($0)) }
            case .bytes(let b): b.withUnsafeBytes { payload(4, $0) }
            }
        }

        func hex() -> String { SHA256Hex.hex(hasher.finalize()) }

        private mutating func header(_ tag: UInt8, _ count: Int) {
            hasher.update(data: [tag])
            withUnsafeBytes(of: UInt64(count).littleEndian) { hasher.update(bufferPointer: $0) }
        }

        private mutating func payload(_ tag: UInt8, _ bytes: UnsafeRawBufferPointer) {
            header(tag, bytes.count)
            hasher.update(bufferPointer: bytes)
        }
    }
}

extension Registry {
    /// The schema migration after which record digests are computed in Swift (``resealRecordDigests(in:)``).
    public static var recordDigestMigration: String { RecordDigests.migration }

    /// Rewrites every stored record digest — of each version, evaluation, comparison and ended
    /// run — in the form computed since schema 0012: the Swift step of a backend's migration 0012
    /// on a store whose digests were copied in before it (PostgreSQL's, written by `fusebox copy`).
    public static func resealRecordDigests(in db: any StoreSQL) throws {
        try RecordDigests.reseal(in: db, keepingDamage: false)
    }
}
