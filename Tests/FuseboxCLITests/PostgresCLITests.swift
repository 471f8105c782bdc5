import Foundation
import FuseboxTestSupport
import TensorCore
import TensorIO
import Testing

/// The command line on a PostgreSQL store, as a user runs it: every command takes the URL as
/// `--db` or `FUSEBOX_DB`, and what it does matches what it does on a file.
@Suite(.enabled(if: PostgresTestServer.url != nil || isCI, "\(PostgresTestServer.skipReason)"))
struct PostgresCLITests {
    @Test func theDemoRegistersVerifiesAndExportsOnPostgreSQL() throws {
        let dir = TemporaryDirectory()
        let url = try PostgresTestServer.createDatabase()
        defer { PostgresTestServer.drop(url) }
        let demo = try ok(["demo", "--db", url], dir)
        #expect(!demo.stdout.contains("fusebox:fusebox@"), "the password is never printed: \(demo.stdout)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("fusebox.sqlite")), "no file store was made")

        let fromEnvironment = try FuseboxBinary.run(
            ["models", "--format", "json"],
            in: dir.path,
            environment: ["FUSEBOX_DB": url]
        )
        #expect(fromEnvironment.status == 0, "\(fromEnvironment.stderr)")
        let models = try #require(try FuseboxBinary.json(fromEnvironment) as? [[String: Any]])
        #expect(!models.isEmpty)
        let model = try #require(models.first?["model"] as? String)

        let verify = try ok(["verify", "--db", url], dir)
        #expect(verify.stdout.contains("integrity_check: ok") && !verify.stdout.contains("damaged"), "\(verify.stdout)")
        _ = try ok(["export", "\(model)@1", "-o", "out.safetensors", "--db", url], dir)
        #expect(FileManager.default.fileExists(atPath: dir.file("out.safetensors")))

        // The same store copied to a file verifies there too: the digests mean the same on both.
        _ = try ok(["copy", "--from", url, "--to", "back.sqlite"], dir)
        _ = try ok(["verify", "--db", "back.sqlite"], dir)

        let backup = try FuseboxBinary.run(["backup", "b.sqlite", "--db", url], in: dir.path)
        #expect(backup.status == 1 && backup.stderr.contains("pg_dump"), "\(backup.stderr)")
        #expect(backup.stderr.split(separator: "\n").count == 1, "\(backup.stderr)")
    }

    /// Every session of the database is ended, as a restart of the server does: a registration in
    /// flight fails with one line and leaves no version, and a running `fusebox serve` answers the
    /// next request on new connections.
    @Test func aRestartedDatabaseFailsTheRegistrationInFlightCleanlyAndTheServerReconnects() async throws {
        let dir = TemporaryDirectory()
        let url = try PostgresTestServer.createDatabase()
        defer { PostgresTestServer.drop(url) }
        let team = try SharedStoreTests.Team(db: url, dir: dir)
        let server = try team.serve()
        defer { _ = server.stop() }
        #expect(try await server.request("GET", "/api/v1/models", token: team.token).status == 200)

        // The registration is stopped at its first chunk (another session holds tensorChunk in
        // SHARE mode), inside its transaction, its blob's row written; then every session of the
        // database is ended.
        try SafetensorsWriter.write(
            [("w", Tensor(floats: (0..<(2 << 20)).map { Float($0 % 4093) }, shape: [2 << 20]))],
            toPath: dir.file("big.safetensors")
        )
        let database = try #require(URL(string: url)?.lastPathComponent)
        let others = "FROM pg_stat_activity WHERE datname = '\(database)' AND pid <> pg_backend_pid()"
        let holder = try PostgresTestServer.startPsql(
            url + "&application_name=lock_holder",
            "BEGIN; LOCK TABLE tensorChunk IN SHARE MODE; SELECT pg_sleep(600);"
        )
        defer { if holder.isRunning { holder.terminate() } }
        try await PostgresTestServer.waitUntil(
            url,
            """
            SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid) WHERE application_name = 'lock_holder'
            AND relation = 'tensorchunk'::regclass AND mode = 'ShareLock' AND granted
            """
        )
        let registering = try FuseboxBinary.start(
            ["register", "big", "--weights", "big.safetensors", "--db", url],
            in: dir.path
        )
        try await PostgresTestServer.waitUntil(
            url,
            "SELECT count(*) \(others) AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO tensorChunk%'"
        )
        try PostgresTestServer.psql(url, "SELECT count(pg_terminate_backend(pid)) \(others)")
        let errors = String(decoding: registering.stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        registering.process.waitUntilExit()
        #expect(registering.process.terminationStatus != 0, "\(errors)")
        #expect(errors.contains("PostgreSQL") && errors.split(separator: "\n").count == 1, "\(errors)")
        #expect(try PostgresTestServer.psql(url, "SELECT count(*) FROM modelVersion") == "0", "no half-written version")
        #expect(try PostgresTestServer.psql(url, "SELECT count(*) FROM tensorBlob") == "0")

        // The server reconnects: the next requests are answered, reads and a write.
        #expect(try await server.request("GET", "/api/v1/models", token: team.token).status == 200)
        let upload = try await server.request(
            "POST",
            "/api/v1/models/small/versions",
            token: team.token,
            body: SharedStoreTests.weights(1, at: dir.file("small.safetensors"))
        )
        #expect(upload.status == 201, "\(upload.json)")
        let verify = try FuseboxBinary.run(["verify", "--db", url], in: dir.path)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }
}
