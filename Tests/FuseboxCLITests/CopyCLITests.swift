import Foundation
import FuseboxTestSupport
import Testing

/// `fusebox copy` as a user runs it: between store files, to PostgreSQL and back, bad addresses
/// answered in one line with nothing changed, and a copy killed mid-way leaving nothing behind.
struct CopyCLITests {
    /// A store file with a trained model, an alias and a component above the object threshold.
    static func sourceStore(_ dir: TemporaryDirectory) throws {
        try writeComponentFile(dir.file("cnn.safetensors"), floats: 1_500_000, seed: 3)
        _ = try ok(["register", "cnn", "--weights", "cnn.safetensors", "--db", "a.sqlite"], dir)
        _ = try ok(["alias", "set", "cnn@1", "production", "--db", "a.sqlite"], dir)
    }

    @Test func copyingBetweenFilesPrintsWhatItDidAndTheCopyVerifies() throws {
        let dir = TemporaryDirectory()
        try Self.sourceStore(dir)
        let first = try ok(["copy", "--from", "a.sqlite", "--to", "b.sqlite"], dir)
        #expect(first.stdout.hasPrefix("Copied a.sqlite to b.sqlite: "), "\(first.stdout)")
        #expect(first.stdout.contains("verified."))
        _ = try ok(["verify", "--db", "b.sqlite"], dir)
        _ = try ok(["export", "cnn@production", "-o", "back.safetensors", "--db", "b.sqlite"], dir)
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: dir.file("back.safetensors")))
                == Data(contentsOf: URL(fileURLWithPath: dir.file("cnn.safetensors")))
        )

        let again = try ok(["copy", "--from", "a.sqlite", "--to", "b.sqlite", "--format", "json"], dir)
        let json = try #require(try FuseboxBinary.json(again) as? [String: Any])
        #expect(json["rows_inserted"] as? Int == 0 && json["blobs_written"] as? Int == 0)
        #expect(json["from"] as? String == "a.sqlite" && json["to"] as? String == "b.sqlite")
    }

    @Test(arguments: [
        (["copy", "--from", "missing.sqlite", "--to", "b.sqlite"], "There is no store at 'missing.sqlite'"),
        (["copy", "--from", "a.sqlite", "--to", "postgres://nobody@/x"], "has no host"),
        (["copy", "--from", "a.sqlite", "--to", "mysql://u@h/x"], "'mysql://' is not supported"),
        (["copy", "--from", "a.sqlite", "--to", "a.sqlite"], "are the same store"),
        (["models", "--db", "postgres://u@127.0.0.1:1/x"], "Cannot connect to"),
    ])
    func aBadAddressIsOneLineAndChangesNothing(arguments: [String], message: String) throws {
        let dir = TemporaryDirectory()
        try Self.sourceStore(dir)
        let before = storeSnapshot(dir.file("a.sqlite"))
        let result = try FuseboxBinary.run(arguments, in: dir.path)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(storeSnapshot(dir.file("a.sqlite")) == before)
        #expect(!FileManager.default.fileExists(atPath: dir.file("b.sqlite")))
    }

    @Test(.enabled(if: PostgresTestServer.url != nil || isCI, "\(PostgresTestServer.skipReason)"))
    func aStoreGoesToPostgreSQLAndBack() throws {
        let dir = TemporaryDirectory()
        try Self.sourceStore(dir)
        let url = try PostgresTestServer.createDatabase()
        defer { PostgresTestServer.drop(url) }
        let there = try ok(["copy", "--from", "a.sqlite", "--to", url], dir)
        #expect(!there.stdout.contains("fusebox:fusebox@"), "the password is never printed: \(there.stdout)")
        _ = try ok(["copy", "--from", url, "--to", "b.sqlite"], dir)
        _ = try ok(["verify", "--db", "b.sqlite"], dir)
        let history = try ok(["history", "cnn", "--db", "b.sqlite", "--format", "json"], dir)
        #expect(history.stdout.contains("production"))

        var wrong = URLComponents(string: url)!
        wrong.password = "wrong"
        let refused = try FuseboxBinary.run(["copy", "--from", "a.sqlite", "--to", wrong.string!], in: dir.path)
        #expect(refused.status == 1)
        #expect(
            refused.stderr.contains("refused the login of 'fusebox'") && !refused.stderr.contains("wrong"),
            "\(refused.stderr)"
        )
    }

    /// `kill -9` while `fusebox copy` writes to PostgreSQL: the server rolls the transaction back,
    /// so the database holds nothing of it, and the next copy completes.
    ///
    /// Deterministic, whatever the machine's speed: another session holds the `model` table
    /// locked, so the copy — blobs first, then rows table by table — streams every chunk and then
    /// waits on that lock inside its transaction. It is killed there; the holder lets go, the
    /// server finds the copy's connection closed and rolls its transaction back.
    @Test(.enabled(if: PostgresTestServer.url != nil || isCI, "\(PostgresTestServer.skipReason)"))
    func aKilledCopyLeavesNothing() async throws {
        let dir = TemporaryDirectory()
        try Self.sourceStore(dir)
        for seed in 1...3 {
            try writeComponentFile(dir.file("big-\(seed).safetensors"), floats: 2_500_000, seed: UInt64(seed))
            _ = try ok(["register", "big", "--weights", "big-\(seed).safetensors", "--db", "a.sqlite"], dir)
        }
        let url = try PostgresTestServer.createDatabase()
        defer { PostgresTestServer.drop(url) }
        let name = try #require(URL(string: url)?.lastPathComponent)
        _ = try ok(["init", "--db", "empty.sqlite"], dir)
        _ = try ok(["copy", "--from", "empty.sqlite", "--to", url], dir)

        let holder = try PostgresTestServer.startPsql(
            url + "&application_name=lock_holder",
            "BEGIN; LOCK TABLE model IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(600);"
        )
        defer { if holder.isRunning { holder.terminate() } }
        let others = "FROM pg_stat_activity WHERE datname = '\(name)' AND pid <> pg_backend_pid()"
        try await PostgresTestServer.waitUntil(
            url,
            """
            SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid) WHERE application_name = 'lock_holder'
            AND relation = 'model'::regclass AND mode = 'AccessExclusiveLock' AND granted
            """
        )
        let copy = try FuseboxBinary.start(["copy", "--from", "a.sqlite", "--to", url], in: dir.path)
        try await PostgresTestServer.waitUntil(
            url,
            "SELECT count(*) \(others) AND wait_event_type = 'Lock' AND wait_event = 'relation'"
        )
        kill(copy.process.processIdentifier, SIGKILL)
        copy.process.waitUntilExit()
        #expect(copy.process.terminationReason == .uncaughtSignal)
        try PostgresTestServer.psql(
            url,
            "SELECT pg_terminate_backend(pid) \(others) AND application_name = 'lock_holder'"
        )
        try await PostgresTestServer.waitUntil(url, "SELECT count(*) = 0 \(others)", is: "t")

        #expect(try PostgresTestServer.psql(url, "SELECT count(*) FROM tensorBlob") == "0")
        #expect(try PostgresTestServer.psql(url, "SELECT count(*) FROM tensorChunk") == "0")
        #expect(try PostgresTestServer.psql(url, "SELECT count(*) FROM model") == "0")
        _ = try ok(["copy", "--from", "a.sqlite", "--to", url], dir)
        #expect(try PostgresTestServer.psql(url, "SELECT count(*) FROM modelVersion") == "4")
    }

    /// Polls `query` (for up to a minute) until it answers `answer`; fails the test otherwise.
}
