import Foundation

/// The PostgreSQL server `scripts/with-postgres.sh` starts for the tests (`.ci/run` runs the test
/// command under it): its URL is `$FUSEBOX_TEST_POSTGRES_URL`. Each test gets a database of its own.
public enum PostgresTestServer {
    /// The server's URL (database `fusebox`), or nil when the tests run without one.
    public static let url: String? = ProcessInfo.processInfo.environment["FUSEBOX_TEST_POSTGRES_URL"]
        .flatMap { $0.isEmpty ? nil : $0 }

    /// Why a PostgreSQL test is skipped (under `CI=true` it runs, and fails, instead).
    public static let skipReason = "needs PostgreSQL: run the tests under scripts/with-postgres.sh (.ci/run does)"

    /// Creates an empty database and returns its URL; ``drop(_:)`` removes it. Its text sorts as
    /// most production databases' does (ICU's English collation: `_x`, `alpha`, `Zeta`), not in
    /// byte order as SQLite's does, so tests catch an order that depends on the collation.
    public static func createDatabase() throws -> String {
        guard let url else { throw PostgresTestError(message: "FUSEBOX_TEST_POSTGRES_URL is not set; \(skipReason)") }
        let name = "fusebox_test_\(ProcessInfo.processInfo.processIdentifier)_\(UInt32.random(in: 0...UInt32.max))"
        try psql(url, "CREATE DATABASE \(name) TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en' LOCALE 'C.UTF-8'")
        return url.replacingOccurrences(of: "/fusebox?", with: "/\(name)?")
    }

    /// Drops a database ``createDatabase()`` made, closing its connections.
    public static func drop(_ databaseURL: String) {
        guard let url, let name = URL(string: databaseURL)?.lastPathComponent else { return }
        _ = try? psql(url, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// Runs SQL with `psql` against the database at `url`, returning its unaligned output.
    @discardableResult
    public static func psql(_ url: String, _ sql: String) throws -> String {
        let process = psqlProcess(url, sql)
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw PostgresTestError(message: "psql failed: \(errors)") }
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A database's content as one line per table (its rows as text, sorted, digested) and per
    /// sequence (its position): equal before and after a command exactly when the command
    /// changed no row and drew no number — what `pg_dump` would write is then the same.
    public static func contentDigests(_ url: String) throws -> [String] {
        let tables = try psql(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
            .split(separator: "\n")
        let digests = tables.map { table in
            "(SELECT '\(table) ' || md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM \"\(table)\" t)"
        }
        let sequences =
            "(SELECT sequencename || ' at ' || coalesce(last_value::text, 'start') FROM pg_sequences WHERE schemaname = 'public')"
        return try psql(url, (digests + [sequences]).joined(separator: " UNION ALL ") + " ORDER BY 1")
            .split(separator: "\n").map(String.init)
    }

    /// Starts `psql` running `sql` against `url` in the background (its output discarded), for a
    /// session that holds a lock while a test does something else.
    public static func startPsql(_ url: String, _ sql: String) throws -> Process {
        let process = psqlProcess(url, sql)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Waits (up to a minute) until `query` answers `answer` on the database at `url`.
    public static func waitUntil(_ url: String, _ query: String, is answer: String = "1") async throws {
        for _ in 0..<3_000 {
            if try psql(url, query) == answer { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw PostgresTestError(message: "timed out waiting for: \(query)")
    }

    /// `psql` on `url` running `sql`, unaligned and tuples only, stopping at the first error.
    private static func psqlProcess(_ url: String, _ sql: String) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["psql", url, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql]
        return process
    }
}

/// A test database could not be made or reached.
public struct PostgresTestError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
    public init(message: String) { self.message = message }
}

/// The two kinds of store the registry, server and CLI suites run on, for `@Test(arguments:)`.
public enum TestStore: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite, postgres

    public var description: String { rawValue }

    /// Both kinds where a PostgreSQL server is given (always under `CI=true`, where a missing
    /// server then fails the PostgreSQL cases); SQLite alone elsewhere, and a test of the
    /// server's reachability reports as skipped, saying why.
    public static let available: [TestStore] = PostgresTestServer.url != nil || isCI ? allCases : [.sqlite]

    /// Runs `body` with a fresh, empty store of this kind — a file in `dir`, or a new database,
    /// dropped afterwards — given as what `--db` and `Registry.open(url:)` take.
    public func withStore<T>(in dir: TemporaryDirectory, _ body: (String) async throws -> T) async throws -> T {
        switch self {
        case .sqlite:
            return try await body(dir.file("store.sqlite"))
        case .postgres:
            let url = try PostgresTestServer.createDatabase()
            defer { PostgresTestServer.drop(url) }
            return try await body(url)
        }
    }
}
