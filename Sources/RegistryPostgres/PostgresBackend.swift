import Crypto
import Logging
import NIOCore
import PostgresNIO
import RegistryStore
import TensorIO

/// A store in a PostgreSQL database, through postgres-nio: the `RegistryBackend` for teams whose
/// store outgrows one machine. Everything, blob bytes included, is in the database, so one
/// `pg_dump` backs it all up.
///
/// ```swift
/// let destination = try PostgresBackend.open(PostgresAddress(parsing: "postgres://fusebox@db/fusebox"), logger: logger)
/// let report = try StoreCopy.copy(from: registry.backend, to: destination)
/// ```
///
/// Reads run in `REPEATABLE READ READ ONLY` transactions (one snapshot); writes in `READ COMMITTED`
/// transactions, one at a time (an advisory lock), with foreign keys deferred to the commit. Blobs are kept in `tensorChunk` rows of
/// at most 4 MiB, written and read one chunk at a time, and hashed on every read.
public struct PostgresBackend: RegistryBackend {
    let session: PostgresSession
    /// The database (printed without its password).
    public var address: StoreAddress { .postgres(session.address) }

    /// The advisory lock every Fusebox writer on the database holds for its transaction ("fuseboxw"
    /// in ASCII). A maintenance session that takes it (`SELECT pg_advisory_lock(…)`) holds every
    /// writer off until it lets go; readers go on.
    public static let writeLockKey: Int64 = 0x6675_7365_626f_7877

    /// The most bytes one `tensorChunk` row holds.
    static let chunkSize = 4 << 20

    /// Connects; read-write, it also creates or upgrades the schema (announced on the logger).
    /// - Throws: `RegistryError`, one line: a refused connection or login, a missing database,
    ///   `schemaTooNew`, or `schemaTooOld` (read-only, on a database that is not current).
    public static func open(
        _ address: PostgresAddress,
        access: Registry.Access = .readWrite,
        logger: Logger
    ) throws -> PostgresBackend {
        let session = try PostgresSession(address: address, logger: logger)
        let applied = try PostgresSchema.prepare(session, access: access)
        if !applied.isEmpty {
            logger.notice("Prepared the store \(address) with schema migrations \(applied.joined(separator: ", ")).")
        }
        return PostgresBackend(session: session)
    }

    /// The applied schema migrations, in order.
    public func appliedMigrations() throws -> [String] {
        try session.withConnection(PostgresSchema.appliedMigrations)
    }

    /// Runs `body` on one snapshot (`REPEATABLE READ READ ONLY`).
    public func read<T>(_ body: (any BackendSnapshot) throws -> T) throws -> T {
        try session.transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { connection in
            try body(Access(connection: connection))
        }
    }

    /// Runs `body` in one transaction, foreign keys checked at commit. Writers through the seam
    /// take turns, as SQLite's `BEGIN IMMEDIATE` writers do: each holds a transaction-scoped
    /// advisory lock, so two copies into one database never interleave (the second waits, then
    /// finds the first's rows and adds nothing).
    public func write<T>(_ body: (any BackendTransaction) throws -> T) throws -> T {
        try session.transaction("BEGIN") { connection in
            try connection.query("SELECT pg_advisory_xact_lock($1)", [.integer(Self.writeLockKey)])
            try connection.query("SET CONSTRAINTS ALL DEFERRED")
            return try body(Access(connection: connection))
        }
    }

    /// Runs the registry's `body` on one snapshot (`REPEATABLE READ READ ONLY`).
    public func readSQL<T>(_ body: (any StoreSQL) throws -> T) throws -> T {
        try session.transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { connection in
            try body(PostgresSQL(connection: connection))
        }
    }

    /// Runs the registry's `body` in one transaction holding the advisory write lock: writers take
    /// turns, as SQLite's do, so a number read is the number written (gapless versions) and an
    /// alias read is the alias moved (no lost update), across every process on the database.
    public func writeSQL<T>(_ body: (any StoreSQL) throws -> T) throws -> T {
        try session.transaction("BEGIN") { connection in
            try connection.query("SELECT pg_advisory_xact_lock($1)", [.integer(Self.writeLockKey)])
            return try body(PostgresSQL(connection: connection))
        }
    }

    /// The server's current transaction snapshot (`pg_current_snapshot()`): it changes whenever
    /// any transaction that wrote commits or begins writing.
    public func generation() throws -> StoreGeneration {
        StoreGeneration(try session.query("SELECT pg_current_snapshot()::text").first?.storeValues() ?? [])
    }

    /// Rows and blobs through one connection of the session, in its transaction.
    struct Access: BackendTransaction {
        let connection: PostgresSession.Connection

        func forEachRow(of table: StoreTable, _ body: ([StoreValue]) throws -> Void) throws {
            // Pages by key (keyset pagination), so memory holds one page whatever the table's size.
            // Text keys sort in byte order (COLLATE "C"), as SQLite's do, whatever the database's
            // collation: both backends then list a table in the same order.
            let page = table.name == "evaluation" ? 16 : 1_000
            let textColumns = Set(
                try connection.query(
                    "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND data_type = 'text'",
                    [.text(table.name.lowercased())]
                ).map { try $0.storeValues().first }
            )
            let sortKey = table.key.map { column in
                textColumns.contains(.text(column.lowercased())) ? "\(name(column)) COLLATE \"C\"" : name(column)
            }.joined(separator: ", ")
            let select = "SELECT \(columnList(table.columns)) FROM \(name(table.name))"
            let order = "ORDER BY \(sortKey) LIMIT \(page)"
            let placeholders = table.key.indices.map { "$\($0 + 1)" }.joined(separator: ", ")
            var after: [StoreValue]?
            while true {
                let rows: [PostgresRow] =
                    if let after {
                        try connection.query("\(select) WHERE (\(sortKey)) > (\(placeholders)) \(order)", after)
                    } else {
                        try connection.query("\(select) \(order)")
                    }
                var last: [StoreValue] = []
                for row in rows {
                    last = try row.storeValues()
                    try body(last)
                }
                guard rows.count == page else { return }
                after = Array(last.prefix(table.key.count))
            }
        }

        /// One statement per batch of keys: the table joined with the keys as a typed `VALUES`
        /// list, which the planner hashes (a row-value `IN` list of many keys is not matched
        /// through the primary key's index and turns into a scan).
        func rows(of table: StoreTable, keys: [[StoreValue]]) throws -> [[StoreValue]] {
            var found: [[StoreValue]] = []
            let width = table.key.count
            let keyNames = table.key.indices.map { "k\($0)" }
            let columns = table.columns.map { "t.\(name($0))" }.joined(separator: ", ")
            let match = table.key.enumerated().map { "t.\(name($1)) = k.k\($0)" }.joined(separator: " AND ")
            for batch in batches(keys, valuesPerRow: width) {
                let list = batch.enumerated().map { row, key in
                    "(" + key.enumerated().map { "$\(row * width + $0 + 1)\(Self.cast($1))" }.joined(separator: ", ")
                        + ")"
                }.joined(separator: ", ")
                let rows = try connection.query(
                    "SELECT \(columns) FROM \(name(table.name)) t JOIN (VALUES \(list)) AS k(\(keyNames.joined(separator: ", "))) ON \(match)",
                    batch.flatMap { $0 }
                )
                for row in rows { found.append(try row.storeValues()) }
            }
            return found
        }

        /// The cast that gives a bound value its type inside a `VALUES` list.
        private static func cast(_ value: StoreValue) -> String {
            switch value {
            case .null: ""
            case .integer: "::bigint"
            case .real: "::double precision"
            case .text: "::text"
            case .bytes: "::bytea"
            }
        }

        func blobs() throws -> [BlobRecord] {
            try connection.query("SELECT id, sha256, byteCount FROM tensorBlob ORDER BY id").map(record(of:))
        }

        func blob(id: Int64) throws -> BlobRecord? {
            try connection.query("SELECT id, sha256, byteCount FROM tensorBlob WHERE id = $1", [.integer(id)]).first
                .map(record(of:))
        }

        func streamBlob(_ blob: BlobRecord, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
            var hasher = SHA256()
            var total = 0
            for position in 0..<chunkCount(blob.byteCount) {
                guard
                    let row = try connection.query(
                        "SELECT bytes FROM tensorChunk WHERE blobId = $1 AND position = $2",
                        [.integer(blob.id), .integer(Int64(position))]
                    ).first, case .bytes(let bytes) = try row.storeValues()[0]
                else { break }
                try bytes.withUnsafeBytes { raw in
                    hasher.update(bufferPointer: raw)
                    total += raw.count
                    try body(raw)
                }
            }
            let digest = SHA256Hex.hex(hasher.finalize())
            guard total == blob.byteCount, digest == blob.sha256 else {
                throw RegistryError(
                    .corruptData,
                    "Blob \(blob.id) fails its checksum: the stored bytes changed (\(total) of \(blob.byteCount) bytes, SHA-256 \(digest.prefix(12))… instead of \(blob.sha256.prefix(12))…). Run 'fusebox verify'."
                )
            }
        }

        /// Multi-row `INSERT … VALUES (…), (…), …` statements (``StoreSQL/insertRows(_:_:then:)``).
        func insert(_ rows: [[StoreValue]], into table: StoreTable) throws {
            try PostgresSQL(connection: connection).insertRows(
                "INSERT INTO \(name(table.name)) (\(columnList(table.columns)))",
                rows
            )
        }

        /// `rows` in slices small enough for one statement: PostgreSQL binds at most 65,535 values.
        private func batches(_ rows: [[StoreValue]], valuesPerRow: Int) -> [ArraySlice<[StoreValue]>] {
            let size = max(1, min(1_000, 65_535 / max(valuesPerRow, 1)))
            return stride(from: 0, to: rows.count, by: size).map { rows[$0..<min($0 + size, rows.count)] }
        }

        func update(_ row: [StoreValue], in table: StoreTable) throws {
            let values = Array(row.dropFirst(table.key.count))
            guard !values.isEmpty else { return }
            let assignments = table.columns.dropFirst(table.key.count).enumerated()
                .map { "\(name($1)) = $\($0 + 1)" }.joined(separator: ", ")
            try connection.query(
                "UPDATE \(name(table.name)) SET \(assignments) WHERE \(condition(table.key, from: values.count + 1))",
                values + row.prefix(table.key.count)
            )
        }

        func storeBlob(
            _ blob: BlobRecord,
            produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void
        ) throws {
            if let other = try connection.query("SELECT id FROM tensorBlob WHERE sha256 = $1", [.text(blob.sha256)])
                .first
            {
                throw RegistryError(
                    .conflict,
                    "The destination already holds blob \(blob.sha256.prefix(12))… as blob \(try other.storeValues()[0]), not \(blob.id); copy into an empty store."
                )
            }
            try connection.query(
                "INSERT INTO tensorBlob (id, sha256, byteCount, chunkCount) VALUES ($1, $2, $3, $4)",
                [
                    .integer(blob.id), .text(blob.sha256), .integer(Int64(blob.byteCount)),
                    .integer(Int64(chunkCount(blob.byteCount))),
                ]
            )
            var chunker = BlobChunker(chunkSize: PostgresBackend.chunkSize)
            func insert(_ position: Int, _ bytes: [UInt8]) throws {
                try connection.query(
                    "INSERT INTO tensorChunk (blobId, position, bytes) VALUES ($1, $2, $3)",
                    [.integer(blob.id), .integer(Int64(position)), .bytes(bytes)]
                )
            }
            try produce { try chunker.append($0, emit: insert) }
            let digest = try chunker.finish(emit: insert)
            let total = chunker.byteCount
            guard total == blob.byteCount, digest == blob.sha256 else {
                throw RegistryError(
                    .corruptData,
                    "Blob \(blob.id) arrived with \(total) bytes and SHA-256 \(digest.prefix(12))… instead of \(blob.byteCount) and \(blob.sha256.prefix(12))…; nothing was written."
                )
            }
        }

        /// Moves each identity sequence past the largest id, so ids generated later do not collide.
        func finishExplicitIds() throws {
            let identities = try connection.query(
                """
                SELECT table_name::text, column_name::text FROM information_schema.columns
                WHERE table_schema = current_schema() AND is_identity = 'YES' ORDER BY table_name
                """
            )
            for row in identities {
                let values = try row.storeValues()
                guard case .text(let table) = values[0], case .text(let column) = values[1] else { continue }
                try connection.query(
                    "SELECT setval(pg_get_serial_sequence($1, $2), (SELECT coalesce(max(\(column)), 0) + 1 FROM \(table)), false)",
                    [.text(table), .text(column)]
                )
            }
        }

        private func chunkCount(_ byteCount: Int) -> Int {
            (byteCount + PostgresBackend.chunkSize - 1) / PostgresBackend.chunkSize
        }

        private func name(_ identifier: String) -> String { "\"\(identifier.lowercased())\"" }

        private func columnList(_ columns: [String]) -> String { columns.map(name).joined(separator: ", ") }

        private func condition(_ key: [String], from first: Int = 1) -> String {
            key.enumerated().map { "\(name($1)) = $\(first + $0)" }.joined(separator: " AND ")
        }

        private func record(of row: PostgresRow) throws -> BlobRecord {
            let values = try row.storeValues()
            guard case .integer(let id) = values[0], case .text(let sha256) = values[1],
                case .integer(let byteCount) = values[2]
            else { throw RegistryError(.corruptData, "A tensorBlob row cannot be read.") }
            return BlobRecord(id: id, sha256: sha256, byteCount: Int(byteCount))
        }
    }
}
