import Foundation
import FuseboxTestSupport
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
}
