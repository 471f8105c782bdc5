import Foundation
import GRDB

/// The embedded backend: an SQLite file through GRDB, with large blobs in its object folder.
///
/// Obtained from an open registry (``Registry/backend``), so it shares the registry's
/// connection, its write lock (`BEGIN IMMEDIATE`) and its tensor blobs (chunk rows and the object folder).
public struct SQLiteBackend: RegistryBackend {
    let writer: any DatabaseWriter
    let blobs: TensorBlobs
    /// The store file.
    public let address: StoreAddress

    /// Runs `body` in one read transaction (a WAL snapshot).
    public func read<T>(_ body: (any BackendSnapshot) throws -> T) throws -> T {
        do {
            return try writer.read { db in try body(Access(db: db, tensorBlobs: blobs)) }
        } catch { throw Registry.mapped(error, path: address.description) }
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction with foreign keys checked at commit.
    public func write<T>(_ body: (any BackendTransaction) throws -> T) throws -> T {
        do {
            var result: T?
            try writer.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
                    result = try body(Access(db: db, tensorBlobs: blobs))
                    return .commit
                }
            }
            return result!
        } catch { throw Registry.mapped(error, path: address.description) }
    }

    /// Rows and blobs through one GRDB connection.
    struct Access: BackendTransaction {
        let db: Database
        let tensorBlobs: TensorBlobs

        func forEachRow(of table: StoreTable, _ body: ([StoreValue]) throws -> Void) throws {
            let sql = "SELECT \(columnList(table.columns)) FROM \(table.name) ORDER BY \(columnList(table.key))"
            let rows = try Row.fetchCursor(db, sql: sql)
            while let row = try rows.next() { try body(values(of: row)) }
        }

        func row(of table: StoreTable, key: [StoreValue]) throws -> [StoreValue]? {
            try Row.fetchOne(
                db,
                sql: "SELECT \(columnList(table.columns)) FROM \(table.name) WHERE \(condition(table.key))",
                arguments: arguments(key)
            ).map(values(of:))
        }

        func blobs() throws -> [BlobRecord] {
            try Row.fetchAll(db, sql: "SELECT id, sha256, byteCount FROM tensorBlob ORDER BY id").map(record(of:))
        }

        func blob(id: Int64) throws -> BlobRecord? {
            try Row.fetchOne(db, sql: "SELECT id, sha256, byteCount FROM tensorBlob WHERE id = ?", arguments: [id])
                .map(record(of:))
        }

        func streamBlob(_ blob: BlobRecord, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
            try tensorBlobs.stream(blobId: blob.id, in: db, verify: true, what: "Blob \(blob.id)", body)
        }

        func insert(_ row: [StoreValue], into table: StoreTable) throws {
            let placeholders = Array(repeating: "?", count: table.columns.count).joined(separator: ", ")
            try db.execute(
                sql: "INSERT INTO \(table.name) (\(columnList(table.columns))) VALUES (\(placeholders))",
                arguments: arguments(row)
            )
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
                in: db,
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

        private func values(of row: Row) -> [StoreValue] {
            row.databaseValues.map { value in
                switch value.storage {
                case .null: .null
                case .int64(let integer): .integer(integer)
                case .double(let real): .real(real)
                case .string(let text): .text(text)
                case .blob(let data): .bytes([UInt8](data))
                }
            }
        }

        private func arguments(_ values: [StoreValue]) -> StatementArguments {
            StatementArguments(
                values.map { value -> (any DatabaseValueConvertible)? in
                    switch value {
                    case .null: nil
                    case .integer(let integer): integer
                    case .real(let real): real
                    case .text(let text): text
                    case .bytes(let bytes): Data(bytes)
                    }
                }
            )
        }
    }
}

extension Registry {
    /// This store as a ``RegistryBackend`` (what ``StoreCopy`` reads from and writes to).
    public var backend: SQLiteBackend { SQLiteBackend(writer: writer, blobs: blobs, address: .file(path)) }
}
