import Foundation
import GRDB
import Logging
import TensorIO

/// The model registry, stored in one SQLite file or in a PostgreSQL database: its logic runs
/// through the store's ``RegistryBackend``, the same on both.
///
/// Several processes may read and write the same store at once (on a file: WAL, a 30 s busy
/// timeout, writes in `BEGIN IMMEDIATE` transactions; on PostgreSQL: snapshots to read, an
/// advisory lock that writers take turns on). Everything that belongs together is written in one
/// transaction, so a process killed at any instant leaves either the whole version, run or alias
/// move, or nothing.
///
/// ```swift
/// let registry = try Registry.open(atPath: "fusebox.sqlite", logger: logger)
/// let model = try await registry.loadClassifier(try VersionReference(parsing: "sentiment@production"))
/// let probabilities = try model.predictProbabilities(data)
/// ```
public struct Registry: Sendable {
    /// How a store is opened: commands that only read open it read-only, so they never wait for a
    /// writer, never upgrade its schema and never change a byte of it.
    public enum Access: Sendable {
        /// Reads only: the store is opened with SQLite's read-only flag.
        case readOnly
        /// Reads and writes; pending migrations are applied on opening.
        case readWrite
    }

    /// The seam: where this registry's transactions run (``RegistryBackend``).
    public let backend: any RegistryBackend
    /// The SQLite connection of a store file, for what only a file does (``backup(toPath:overwrite:)``).
    let writer: (any DatabaseWriter)?
    let logger: Logger
    /// Where tensor bytes go: the database, and the object folder for large ones (a test may lower
    /// its threshold; `backend`'s copy, which only `fusebox copy` uses, keeps the default).
    var blobs: TensorBlobs
    /// The store's file, a description for an in-memory store, or a database's URL (without its password).
    public let path: String
    /// The folder beside the store file that holds its large tensors and artifacts
    /// (`<store>-objects`), or nil for a store in memory. It belongs to the store: move, copy and
    /// back up the two together (``backup(toPath:overwrite:)`` does).
    public var objectFolderPath: String? { blobs.objects?.root }
    /// Who is acting: recorded with every run, version, deletion and alias event this registry writes
    /// (the OS user for the command line; a token's name for the server).
    public private(set) var principal: String

    /// The same store, acting for someone else: what it writes records `principal` (the server
    /// uses the name of the request's token).
    public func acting(as principal: String) -> Registry {
        var copy = self
        copy.principal = principal
        return copy
    }

    /// The first 16 bytes of every SQLite database file.
    static let sqliteMagic = Array("SQLite format 3\u{0}".utf8)

    /// Opens (creating if allowed) a store file; read-write, it also brings the schema up to date
    /// (announced on the logger) and marks failed the runs whose owner is gone.
    ///
    /// A file that is not an SQLite database, or an SQLite database of another application, is
    /// refused before anything is written to it. Read-only, nothing is ever written: a store whose
    /// schema is older than this binary's is refused with the command that upgrades it.
    /// - Throws: ``RegistryError``: `notFound` (no file and `createIfMissing` false),
    ///   `corruptData` (not a Fusebox store, damaged), `schemaTooNew`, `schemaTooOld` (read-only).
    public static func open(
        atPath path: String,
        createIfMissing: Bool = true,
        access: Access = .readWrite,
        principal: String = ProcessIdentity.user,
        logger: Logger
    ) throws -> Registry {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        let exists = manager.fileExists(atPath: path, isDirectory: &isDirectory)
        if isDirectory.boolValue { throw RegistryError(.invalidInput, "'\(path)' is a folder, not a store file.") }
        if !exists && (!createIfMissing || access == .readOnly) {
            throw RegistryError(.notFound, "There is no store at '\(path)'. Run 'fusebox init' or pass --db PATH.")
        }
        if exists, let size = (try? manager.attributesOfItem(atPath: path))?[.size] as? Int, size > 0 {
            try checkIsFuseboxStore(path)
        }
        // A DatabaseQueue on a WAL-mode file, not a DatabasePool: the pool creates and drops a
        // table whenever the WAL file is empty (GRDB issue 102), which rewrites the schema cookie
        // on every open, and a command that fails on bad input must leave the store's bytes
        // unchanged. WAL is a property of the file, so several processes still read and write at
        // once; within one process the queue serialises access, which a command-line tool never notices.
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(30)
        configuration.label = "fusebox"
        configuration.readonly = access == .readOnly
        if access == .readWrite {
            configuration.prepareDatabase { db in
                if try String.fetchOne(db, sql: "PRAGMA journal_mode") != "wal" {
                    try db.execute(sql: "PRAGMA journal_mode = WAL")
                }
                // With WAL, NORMAL never corrupts and a killed process loses nothing it committed.
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
        }
        let queue: DatabaseQueue
        do { queue = try DatabaseQueue(path: path, configuration: configuration) } catch {
            throw mapped(error, path: path)
        }
        return try Registry(
            queue,
            path: path,
            objects: ObjectFolder(root: objectFolder(ofStore: path)),
            access: access,
            principal: principal,
            logger: logger
        )
    }

    /// The object folder of the store file at `path`: `<path>-objects`, beside it as SQLite's
    /// `-wal` and `-shm` files are.
    public static func objectFolder(ofStore path: String) -> String { path + "-objects" }

    /// Wraps a GRDB connection (tests pass `DatabaseQueue()`). Read-write, pending migrations are
    /// applied (in one transaction, announced on the logger) and abandoned runs marked failed; the
    /// write lock is taken only when there is something to write. Such a registry has no object
    /// folder: every blob is kept in the database and each tensor is held in memory while it is
    /// stored, so open stores on disk with ``open(atPath:createIfMissing:access:principal:logger:)``.
    public init(
        _ writer: any DatabaseWriter,
        path: String = ":memory:",
        access: Access = .readWrite,
        principal: String = ProcessIdentity.user,
        logger: Logger
    ) throws {
        try self.init(writer, path: path, objects: nil, access: access, principal: principal, logger: logger)
    }

    init(
        _ writer: any DatabaseWriter,
        path: String,
        objects: ObjectFolder?,
        access: Access,
        principal: String,
        logger: Logger
    ) throws {
        self.writer = writer
        self.path = path
        self.logger = logger
        self.principal = principal
        blobs = TensorBlobs(objects: objects)
        backend = SQLiteBackend(writer: writer, blobs: blobs, statements: StatementBudget(), address: .file(path))
        do {
            writer.writeWithoutTransaction { db in Self.addFunctions(to: db) }
            let applied = try writer.read { db in
                try db.tableExists("grdb_migrations")
                    ? try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") : []
            }
            try Schema.checkNotNewer(applied: applied, path: path)
            if Set(Schema.identifiers).subtracting(applied).isEmpty == false {
                guard access == .readWrite else {
                    throw RegistryError(
                        .schemaTooOld,
                        "The store '\(path)' was written by an older fusebox; run 'fusebox init' to upgrade it (commands that only read never change a store)."
                    )
                }
                let upgraded = try writer.write { db in try Schema.migrate(db, path: path) }
                if !upgraded.isEmpty && !applied.isEmpty {
                    logger.notice(
                        "Upgraded the store '\(path)' with schema migrations \(upgraded.joined(separator: ", "))."
                    )
                }
            }
        } catch {
            throw Self.mapped(error, path: path)
        }
        if access == .readWrite { try markAbandonedRunsFailed() }
    }

    /// A registry on any backend whose schema is current (RegistryPostgres's `Registry.open(url:)`
    /// makes one of a PostgreSQL database). Every blob is kept in the database, streamed in 4 MiB
    /// chunks. Read-write, runs whose owner is gone are marked failed.
    public init(
        backend: any RegistryBackend,
        access: Access = .readWrite,
        principal: String = ProcessIdentity.user,
        logger: Logger
    ) throws {
        self.backend = backend
        writer = nil
        path = backend.address.description
        self.logger = logger
        self.principal = principal
        blobs = TensorBlobs(objects: nil)
        if access == .readWrite { try markAbandonedRunsFailed() }
    }

    /// Adds the SQL functions the schema's views and migrations call: `fusebox_digest`
    /// (``RecordDigest``) and `fusebox_metric_pack` (migration 0010).
    static func addFunctions(to db: Database) {
        db.add(function: RecordDigest.function)
        db.add(function: MetricChunks.packFunction)
    }

    /// Refuses, without writing, a file that is not an SQLite database or not a Fusebox store.
    static func checkIsFuseboxStore(_ path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw RegistryError(.io, "Cannot read '\(path)'; check its permissions.")
        }
        let head = [UInt8](handle.readData(ofLength: 16))
        try? handle.close()
        guard head == sqliteMagic else {
            throw RegistryError(
                .corruptData,
                "'\(path)' is not a Fusebox store (it is not an SQLite database); nothing was changed."
            )
        }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(30)
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            let (tables, applied) = try queue.read { db in
                let tables = try String.fetchAll(
                    db,
                    sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                )
                let applied =
                    tables.contains("grdb_migrations")
                    ? try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") : []
                return (tables, applied)
            }
            try queue.close()
            if !tables.isEmpty && !tables.contains("grdb_migrations") {
                throw RegistryError(
                    .corruptData,
                    "'\(path)' is an SQLite database of another application, not a Fusebox store; nothing was changed."
                )
            }
            // Refuse a newer store here, read-only: opening it for writing would already switch it to WAL.
            try Schema.checkNotNewer(applied: applied, path: path)
        } catch let error as RegistryError {
            throw error
        } catch {
            throw mapped(error, path: path)
        }
    }

    /// Turns database errors into ``RegistryError``s that name the store and say what to do.
    static func mapped(_ error: any Error, path: String) -> any Error {
        guard let db = error as? DatabaseError else { return error }
        switch db.resultCode {
        case .SQLITE_NOTADB, .SQLITE_CORRUPT:
            return RegistryError(
                .corruptData,
                "The store '\(path)' is damaged or not an SQLite database (\(db.message ?? "corrupt")); restore it from a backup.",
                cause: error
            )
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return RegistryError(
                .conflict,
                "The store '\(path)' stayed locked by another process for 30 s; try again.",
                cause: error
            )
        case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_IOERR, .SQLITE_FULL, .SQLITE_PERM:
            return RegistryError(.io, "Cannot write the store '\(path)' (\(db.message ?? "I/O error")).", cause: error)
        default:
            return RegistryError(
                .io,
                "The store '\(path)' reported an error: \(db.message ?? "\(db.resultCode)").",
                cause: error
            )
        }
    }

    /// Runs `body` in a read transaction (one snapshot).
    func read<T: Sendable>(_ body: @Sendable @escaping (any StoreSQL) throws -> T) async throws -> T {
        try await backend.readSQL(body)
    }

    /// Runs `body` in one write transaction; writers take turns.
    func write<T: Sendable>(_ body: @Sendable @escaping (any StoreSQL) throws -> T) async throws -> T {
        try await backend.writeSQL(body)
    }

    /// ``write(_:)`` for synchronous callers (a trainer's epoch callback, a heartbeat timer).
    func writeBlocking<T>(_ body: (any StoreSQL) throws -> T) throws -> T { try backend.writeSQL(body) }

    /// ``read(_:)`` for synchronous callers.
    func readBlocking<T>(_ body: (any StoreSQL) throws -> T) throws -> T { try backend.readSQL(body) }

    /// The applied schema migrations, in order.
    public func appliedMigrations() async throws -> [String] {
        let backend = backend
        return try await offCooperativePool { try backend.appliedMigrations() }
    }
}
