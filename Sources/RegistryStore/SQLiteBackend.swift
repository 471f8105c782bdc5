import Foundation
import GRDB
import GRDBSQLite

/// The embedded backend: an SQLite file through GRDB, with large blobs in its object folder.
///
/// Obtained from an open registry (``Registry/backend``), so it shares the registry's
/// connection, its write lock (`BEGIN IMMEDIATE`) and its tensor blobs (chunk rows and the object folder).
public struct SQLiteBackend: RegistryBackend {
    let writer: any DatabaseWriter
    let blobs: TensorBlobs
    let statements: StatementBudget
    /// The store file.
    public let address: StoreAddress

    /// Runs `body` in one read transaction (a WAL snapshot).
    public func read<T>(_ body: (any BackendSnapshot) throws -> T) throws -> T {
        do {
            return try writer.read { db in try body(Access(db: db, tensorBlobs: blobs, statements: statements)) }
        } catch { throw Registry.mapped(error, path: address.description) }
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction with foreign keys checked at commit.
    public func write<T>(_ body: (any BackendTransaction) throws -> T) throws -> T {
        do {
            var result: T?
            try writer.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
                    result = try body(Access(db: db, tensorBlobs: blobs, statements: statements))
                    return .commit
                }
            }
            return result!
        } catch { throw Registry.mapped(error, path: address.description) }
    }

    /// Runs `body` in one read transaction (a WAL snapshot).
    public func readSQL<T>(_ body: (any StoreSQL) throws -> T) throws -> T {
        do { return try writer.read { db in try body(SQLiteSQL(db, budget: statements)) } } catch {
            throw Registry.mapped(error, path: address.description)
        }
    }

    /// Runs `body` in one write transaction (GRDB's, `BEGIN IMMEDIATE`).
    public func writeSQL<T>(_ body: (any StoreSQL) throws -> T) throws -> T {
        do { return try writer.write { db in try body(SQLiteSQL(db, budget: statements)) } } catch {
            throw Registry.mapped(error, path: address.description)
        }
    }

    /// GRDB's asynchronous read, which waits for the connection without blocking the caller's thread.
    public func readSQL<T: Sendable>(_ body: @Sendable @escaping (any StoreSQL) throws -> T) async throws -> T {
        let statements = statements
        do { return try await writer.read { db in try body(SQLiteSQL(db, budget: statements)) } } catch {
            throw Registry.mapped(error, path: address.description)
        }
    }

    /// GRDB's asynchronous write.
    public func writeSQL<T: Sendable>(_ body: @Sendable @escaping (any StoreSQL) throws -> T) async throws -> T {
        let statements = statements
        do { return try await writer.write { db in try body(SQLiteSQL(db, budget: statements)) } } catch {
            throw Registry.mapped(error, path: address.description)
        }
    }

    /// The migrations recorded in GRDB's `grdb_migrations`, in order.
    public func appliedMigrations() throws -> [String] {
        do { return try writer.read { db in try Schema.migrator.appliedMigrations(db) } } catch {
            throw Registry.mapped(error, path: address.description)
        }
    }

    /// `PRAGMA data_version` (other connections' commits) and this connection's change count, read
    /// without touching a table, on the calling thread.
    public func generation() throws -> StoreGeneration {
        do {
            return try writer.unsafeReentrantRead { db in
                StoreGeneration([
                    .integer(try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version")) ?? 0),
                    .integer(sqlite3_total_changes64(db.sqliteConnection)),
                ])
            }
        } catch {
            throw Registry.mapped(error, path: address.description)
        }
    }

    /// Rows and blobs through one GRDB connection.
    struct Access: BackendTransaction {
        let db: Database
        let tensorBlobs: TensorBlobs
        let statements: StatementBudget
        /// The same connection as the registry's logic sees it.
        var sql: SQLiteSQL { SQLiteSQL(db, budget: statements) }

        func forEachRow(of table: StoreTable, _ body: ([StoreValue]) throws -> Void) throws {
            let sql = "SELECT \(columnList(table.columns)) FROM \(table.name) ORDER BY \(columnList(table.key))"
            let rows = try Row.fetchCursor(db, sql: sql)
            while let row = try rows.next() { try body(values(of: row)) }
        }

        /// One cached statement per key: SQLite's statements cost no round trip.
        func rows(of table: StoreTable, keys: [[StoreValue]]) throws -> [[StoreValue]] {
            let statement = try db.cachedStatement(
                sql: "SELECT \(columnList(table.columns)) FROM \(table.name) WHERE \(condition(table.key))"
            )
            return try keys.compactMap { key in
                try Row.fetchOne(statement, arguments: arguments(key)).map(values(of:))
            }
        }

        func blobs() throws -> [BlobRecord] {
            try Row.fetchAll(db, sql: "SELECT id, sha256, byteCount FROM tensorBlob ORDER BY id").map(record(of:))
        }

        func blob(id: Int64) throws -> BlobRecord? {
            try Row.fetchOne(db, sql: "SELECT id, sha256, byteCount FROM tensorBlob WHERE id = ?", arguments: [id])
                .map(record(of:))
        }

        func streamBlob(_ blob: BlobRecord, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
            try tensorBlobs.stream(blobId: blob.id, in: sql, verify: true, what: "Blob \(blob.id)", body)
        }

        /// One cached statement, run per row.
        func insert(_ rows: [[StoreValue]], into table: StoreTable) throws {
            guard !rows.isEmpty else { return }
            let placeholders = Array(repeating: "?", count: table.columns.count).joined(separator: ", ")
            let statement = try db.cachedStatement(
                sql: "INSERT INTO \(table.name) (\(columnList(table.columns))) VALUES (\(placeholders))"
            )
            for row in rows { try statement.execute(arguments: arguments(row)) }
        }

        func update(_ row: [StoreValue], in table: StoreTable) throws {
            let assignments = table.columns.dropFirst(table.key.count).map { "\"\($0)\" = ?" }.joined(separator: ", ")
            guard !assignments.isEmpty else { return }
            try db.execute(
                sql: "UPDATE \(table.name) SET \(assignments) WHERE \(condition(table.key))",
                arguments: arguments(Array(row.dropFirst(table.key.count)) + Array(row.prefix(table.key.count)))
            )
        }

        func storeBlob(
            _ blob: BlobRecord,
            produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void
        ) throws {
            let stored = try tensorBlobs.store(
                byteCount: blob.byteCount,
                source: "blob \(blob.id)",
                id: blob.id,
                in: sql,
                produce: produce
            )
            guard stored.sha256 == blob.sha256 else {
                throw RegistryError(
                    .corruptData,
                    "Blob \(blob.id) arrived with SHA-256 \(stored.sha256.prefix(12))… instead of \(blob.sha256.prefix(12))…; nothing was written."
                )
            }
            guard stored.id == blob.id else {
                throw RegistryError(
                    .conflict,
                    "The destination already holds blob \(blob.sha256.prefix(12))… as blob \(stored.id), not \(blob.id); copy into an empty store."
                )
            }
        }

        /// SQLite gives the next rowid after the largest: nothing to do.
        func finishExplicitIds() throws {}

        private func columnList(_ columns: [String]) -> String {
            columns.map { "\"\($0)\"" }.joined(separator: ", ")
        }

        private func condition(_ key: [String]) -> String {
            key.map { "\"\($0)\" = ?" }.joined(separator: " AND ")
        }

        private func record(of row: Row) -> BlobRecord {
            BlobRecord(id: row["id"], sha256: row["sha256"], byteCount: row["byteCount"])
        }

        private func values(of row: Row) -> [StoreValue] { row.databaseValues.map(SQLiteSQL.storeValue) }

        private func arguments(_ values: [StoreValue]) -> StatementArguments {
            SQLiteSQL.bindings(StoreArguments(values))
        }
    }
}
