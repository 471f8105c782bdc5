import Foundation
import FuseboxTestSupport
import RegistryPostgres
import Testing

/// Runs the binary in `dir` (with `environment`, e.g. the store as `FUSEBOX_DB`) and expects it to
/// succeed, reporting its stderr where the call is.
func ok(
    _ arguments: [String],
    _ dir: TemporaryDirectory,
    environment: [String: String] = [:],
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> CLIResult {
    let r = try FuseboxBinary.run(arguments, in: dir.path, environment: environment)
    #expect(r.status == 0, "\(arguments): \(r.stderr)", sourceLocation: sourceLocation)
    return r
}

/// A folder the binary runs in and the store it runs on there (as `FUSEBOX_DB`): a file in the
/// folder or a PostgreSQL database, so one test body checks both kinds of store.
struct Workspace: Sendable {
    let dir: TemporaryDirectory
    let store: TestStore
    /// What `--db` takes: the file's path or the database's URL.
    let db: String

    var environment: [String: String] { ["FUSEBOX_DB": db] }

    /// Runs the binary on the store.
    func run(_ arguments: [String]) throws -> CLIResult {
        try FuseboxBinary.run(arguments, in: dir.path, environment: environment)
    }

    /// Runs the binary on the store and expects it to succeed.
    func ok(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> CLIResult {
        try FuseboxCLITests.ok(arguments, dir, environment: environment, sourceLocation: sourceLocation)
    }

    /// Starts the binary on the store without waiting.
    func start(_ arguments: [String]) throws -> (process: Process, stdout: Pipe, stderr: Pipe) {
        try FuseboxBinary.start(arguments, in: dir.path, environment: environment)
    }

    /// What the store holds, to compare before and after a command.
    func snapshot() -> [String] { storeSnapshot(db) }
}

extension TestStore {
    /// Runs `body` in a new folder on a new, empty store of this kind.
    func withWorkspace<T>(_ body: (Workspace) async throws -> T) async throws -> T {
        let dir = TemporaryDirectory()
        return try await withStore(in: dir) { db in try await body(Workspace(dir: dir, store: self, db: db)) }
    }
}

/// Every writer of a store held off — an SQLite write transaction left open by a Python process,
/// or PostgreSQL's writer advisory lock held by a `psql` session — for `seconds` at most, or
/// until ``release(afterWaiters:)``. Readers are not held: neither kind of store makes them wait.
struct WriterHold {
    let store: TestStore
    let db: String
    private let holder: Process

    /// Whether an SQLite store's writers can be held here (python3 with its sqlite3 module).
    static let canHoldSQLite = Python.hasModule("sqlite3")

    /// The writer lock on this database, as `pg_locks` (which lists every database's) shows it.
    static let lockRow = """
        locktype = 'advisory' AND classid = \(PostgresBackend.writeLockKey >> 32) \
        AND objid = \(PostgresBackend.writeLockKey & 0xFFFF_FFFF) \
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        """

    /// Takes the lock, returning once it holds; it lets go by itself after `seconds` (on SQLite
    /// keep them within the 30 s busy timeout of the writers that wait).
    init(_ store: TestStore, _ db: String, seconds: Int) async throws {
        self.store = store
        self.db = db
        switch store {
        case .sqlite:
            holder = try Self.holdSQLite(db, seconds: seconds)
        case .postgres:
            holder = try PostgresTestServer.startPsql(
                db + "&application_name=writer_hold",
                "SELECT pg_advisory_lock(\(PostgresBackend.writeLockKey)); SELECT pg_sleep(\(seconds))"
            )
            try await PostgresTestServer.waitUntil(
                db,
                "SELECT count(*) FROM pg_locks WHERE \(Self.lockRow) AND granted"
            )
        }
    }

    /// Whether the lock is still held (its holder has not let go).
    var isHolding: Bool { holder.isRunning }

    /// Lets the writers go: on PostgreSQL as soon as `waiters` sessions wait for the lock (so
    /// each has read what it read before writing); on SQLite, whose waiters cannot be seen,
    /// when the holder's time is up.
    func release(afterWaiters waiters: Int) async throws {
        switch store {
        case .sqlite:
            while holder.isRunning { try await _Concurrency.Task.sleep(for: .milliseconds(100)) }
        case .postgres:
            try await PostgresTestServer.waitUntil(
                db,
                "SELECT count(*) FROM pg_locks WHERE \(Self.lockRow) AND NOT granted",
                is: "\(waiters)"
            )
            end()
        }
    }

    /// Lets go at once.
    func end() {
        if store == .postgres {
            _ = try? PostgresTestServer.psql(
                db,
                """
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE application_name = 'writer_hold' AND datname = current_database()
                """
            )
        }
        holder.terminate()
        holder.waitUntilExit()
    }

    /// A Python process holding the SQLite store's write lock (an uncommitted `BEGIN IMMEDIATE`).
    private static func holdSQLite(_ store: String, seconds: Int) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Python.executable))
        process.arguments = [
            "-c",
            """
            import sqlite3, sys, time
            c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
            c.execute("BEGIN IMMEDIATE")
            c.execute("INSERT INTO metricKey (name) VALUES ('held')")
            print("locked", flush=True)
            time.sleep(\(seconds))
            c.execute("ROLLBACK")
            """,
            store,
        ]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let line = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        try #require(line.contains("locked"), "the lock holder did not start: \(line)")
        return process
    }
}
