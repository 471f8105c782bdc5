import Foundation
import FuseboxTestSupport
import FusionCore
import RegistryMigrations
import TensorIO
import Testing

@testable import RegistryPostgres
@testable import RegistryStore

/// The PostgreSQL backend against a real server (`scripts/with-postgres.sh`, which `.ci/run` uses):
/// its schema and migrations, its errors, and stores copied to it and back bit for bit.
@Suite(.enabled(if: PostgresTestServer.url != nil || isCI, "\(PostgresTestServer.skipReason)"))
struct PostgresBackendTests {
    /// A fresh database for one test, dropped at the end.
    static func withDatabase(_ body: (PostgresAddress, String) async throws -> Void) async throws {
        let url = try PostgresTestServer.createDatabase()
        defer { PostgresTestServer.drop(url) }
        try await body(try PostgresAddress(parsing: url), url)
    }

    /// A store file (`a.sqlite` in a new folder) with a row in every table.
    static func populatedStore() async throws -> (Registry, TemporaryDirectory) {
        let dir = TemporaryDirectory()
        let source = try Registry.open(atPath: dir.file("a.sqlite"), logger: quietLogger)
        try await populate(source, in: dir)
        return (source, dir)
    }

    @Test func anEmptyDatabaseGetsTheSchemaOnceWithTheSQLiteTablesAndColumns() async throws {
        try await Self.withDatabase { address, url in
            let backend = try PostgresBackend.open(address, logger: quietLogger)
            #expect(try backend.appliedMigrations() == SchemaMigrations.postgres.map(\.identifier))
            // Numbered with SQLite's: each number SQLite has from 0011 on means the same change here
            // (a PostgreSQL-only fix takes a number SQLite skips).
            let sqliteNumbers = SchemaMigrations.all.map { $0.identifier.prefix(4) }.filter { $0 >= "0011" }
            let postgresNumbers = SchemaMigrations.postgres.map { $0.identifier.prefix(4) }
            #expect(Set(sqliteNumbers).isSubset(of: Set(postgresNumbers)))
            #expect(
                SchemaMigrations.postgres.filter { $0.identifier >= "0012" }.allSatisfy { migration in
                    SchemaMigrations.all.contains { $0.identifier == migration.identifier }
                        || migration.sql.contains("PostgreSQL only")
                }
            )
            _ = try PostgresBackend.open(address, logger: quietLogger)
            #expect(
                try PostgresTestServer.psql(url, "SELECT count(*) FROM fusebox_migrations")
                    == "\(SchemaMigrations.postgres.count)"
            )

            let columns = try PostgresTestServer.psql(
                url,
                "SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = 'public'"
            ).split(separator: "\n").map(String.init)
            var schema = [String: Set<String>]()
            for entry in columns {
                let parts = entry.split(separator: ".").map(String.init)
                schema[parts[0], default: []].insert(parts[1])
            }
            var expected = [String: Set<String>]()
            for table in StoreTable.all {
                expected[table.name.lowercased()] = Set(table.columns.map { $0.lowercased() })
            }
            expected["tensorblob"] = ["id", "sha256", "bytecount", "chunkcount", "inobjectfolder"]
            expected["tensorchunk"] = ["blobid", "position", "bytes"]
            expected["fusebox_migrations"] = ["identifier", "appliedat"]
            #expect(schema == expected)
        }
    }

    /// A database left at each earlier schema (its migrations applied by hand, as an older
    /// Fusebox did) is brought to the current one on opening, and works: the first experiment
    /// created gets id 1 (0013), a version registers and verifies.
    @Test func aDatabaseAtEveryEarlierSchemaUpgrades() async throws {
        for applied in 1..<SchemaMigrations.postgres.count {
            try await Self.withDatabase { address, url in
                try PostgresTestServer.psql(
                    url,
                    "CREATE TABLE fusebox_migrations (identifier text PRIMARY KEY, appliedAt double precision NOT NULL)"
                )
                for migration in SchemaMigrations.postgres.prefix(applied) {
                    try PostgresTestServer.psql(url, migration.sql)
                    try PostgresTestServer.psql(
                        url,
                        "INSERT INTO fusebox_migrations VALUES ('\(migration.identifier)', 0)"
                    )
                }
                let registry = try Registry(
                    backend: PostgresBackend.open(address, logger: quietLogger),
                    logger: quietLogger
                )
                #expect(try await registry.appliedMigrations() == SchemaMigrations.postgres.map(\.identifier))
                #expect(try await registry.createExperiment("after-upgrade") == 1, "from schema \(applied)")
                try await registry.registerVersion(model: "m", classifier: smallClassifier())
                #expect(try await registry.verify().damaged.isEmpty)
            }
        }
    }

    /// A store holding data at schema 0011 — its record digests in a form this Fusebox does not
    /// compute — is resealed by 0012's Swift step on opening: `verify` is clean, and every row
    /// equals the source's again, digests included (a second copy from the source changes
    /// nothing). A deleted version's layout and record digests, sealed over tensors its deletion
    /// unlinked, are kept as they were (recomputing them over what is left made them differ).
    @Test func aStoreWithDataAtSchema0011IsResealedOnUpgrade() async throws {
        try await Self.withDatabase { address, url in
            let (source, dir) = try await Self.populatedStore()
            defer { withExtendedLifetime(dir) {} }  // the source's object folder lives in it
            _ = try StoreCopy.copy(from: source.backend, to: PostgresBackend.open(address, logger: quietLogger))
            try PostgresTestServer.psql(
                url,
                """
                UPDATE modelVersion SET specDigest = 'old', headerDigest = 'old';
                UPDATE modelVersion SET layoutDigest = 'old', recordDigest = 'old' WHERE deletedAt IS NULL;
                UPDATE evaluation SET digest = 'old';
                UPDATE comparison SET digest = 'old';
                UPDATE run SET digest = 'old' WHERE status <> 'running';
                DELETE FROM fusebox_migrations WHERE identifier >= '0012';
                """
            )
            #expect(try PostgresTestServer.psql(url, "SELECT count(*) FROM evaluation WHERE digest = 'old'") != "0")
            let upgraded = try Registry(
                backend: PostgresBackend.open(address, logger: quietLogger),
                logger: quietLogger
            )
            #expect(try await upgraded.appliedMigrations() == SchemaMigrations.postgres.map(\.identifier))
            let report = try await upgraded.verify()
            #expect(report.damaged.isEmpty, "\(report.damaged)")
            let again = try StoreCopy.copy(from: source.backend, to: upgraded.backend)
            #expect(again.rowsInserted == 0 && again.rowsUpdated == 0 && again.blobsWritten == 0, "\(again)")
        }
    }

    @Test func concurrentOpenersApplyTheSchemaOnce() async throws {
        try await Self.withDatabase { address, url in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask { _ = try PostgresBackend.open(address, logger: quietLogger) }
                }
                try await group.waitForAll()
            }
            #expect(
                try PostgresTestServer.psql(url, "SELECT count(*) FROM fusebox_migrations")
                    == "\(SchemaMigrations.postgres.count)"
            )
        }
    }

    @Test func aNewerSchemaIsRefusedAndAReadOnlyOpenWritesNothing() async throws {
        try await Self.withDatabase { address, url in
            let empty = try #require(throws: RegistryError.self) {
                try PostgresBackend.open(address, access: .readOnly, logger: quietLogger)
            }
            #expect(empty.code == .schemaTooOld && empty.message.contains("holds no Fusebox store"), "\(empty.message)")
            #expect(
                try PostgresTestServer.psql(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "0"
            )

            _ = try PostgresBackend.open(address, logger: quietLogger)
            try PostgresTestServer.psql(url, "INSERT INTO fusebox_migrations VALUES ('9999_future', 0)")
            for access in [Registry.Access.readWrite, .readOnly] {
                let error = try #require(throws: RegistryError.self) {
                    try PostgresBackend.open(address, access: access, logger: quietLogger)
                }
                #expect(error.code == .schemaTooNew && error.message.contains("9999_future"), "\(error.message)")
            }
        }
    }

    @Test func aWrongPasswordOrDatabaseIsOneLine() throws {
        let base = try PostgresAddress(parsing: try #require(PostgresTestServer.url))
        var wrongPassword = base
        wrongPassword.password = "not-the-password"
        let login = try #require(throws: RegistryError.self) {
            try PostgresBackend.open(wrongPassword, logger: quietLogger)
        }
        #expect(login.code == .invalidInput)
        #expect(
            login.message
                == "PostgreSQL at \(base.host):\(base.port) refused the login of 'fusebox': password authentication failed for user \"fusebox\". Check the user and password in the URL."
        )
        var noPassword = base
        noPassword.password = nil
        let missing = try #require(throws: RegistryError.self) {
            try PostgresBackend.open(noPassword, logger: quietLogger)
        }
        #expect(missing.message.contains("asks 'fusebox' for a password, and the URL has none"), "\(missing.message)")
        var noDatabase = base
        noDatabase.database = "no_such_store"
        let database = try #require(throws: RegistryError.self) {
            try PostgresBackend.open(noDatabase, logger: quietLogger)
        }
        #expect(
            database.code == .notFound && database.message.contains("has no database 'no_such_store'"),
            "\(database.message)"
        )
    }

    @Test func aStoreCopiedToPostgreSQLAndBackIsTheSameStore() async throws {
        try await Self.withDatabase { address, url in
            let (source, dir) = try await Self.populatedStore()
            let postgres = try PostgresBackend.open(address, logger: quietLogger)

            let there = try StoreCopy.copy(from: source.backend, to: postgres)
            #expect(
                there.rowsInserted > 40 && there.blobsWritten == there.blobs
                    && there.bytesVerified == there.bytesWritten
            )
            // The 4.8 MB tensor is two chunks of at most 4 MiB; everything is in the database.
            #expect(
                try PostgresTestServer.psql(url, "SELECT max(chunkCount), sum(inObjectFolder) FROM tensorBlob") == "2|0"
            )
            let again = try StoreCopy.copy(from: source.backend, to: postgres)
            #expect(again.rowsInserted == 0 && again.rowsUpdated == 0 && again.blobsWritten == 0)

            let back = try Registry.open(atPath: dir.file("b.sqlite"), logger: quietLogger)
            let returned = try StoreCopy.copy(from: postgres, to: back.backend)
            #expect(returned.rows == there.rows && returned.blobs == there.blobs)
            let report = try await back.verify()
            #expect(report.damaged.isEmpty, "every record digest holds after the round trip")
            try await back.exportSafetensors(VersionReference(parsing: "cnn@1"), toPath: dir.file("cnn-b.safetensors"))
            #expect(
                try SHA256Hex.ofFile(atPath: dir.file("cnn-b.safetensors"))
                    == SHA256Hex.ofFile(atPath: dir.file("cnn.safetensors"))
            )
            let model = try await back.loadClassifier(VersionReference(parsing: "sentiment@production"))
            #expect(model.fusionWeights().perModality.count == 2)
            // Ids generated in PostgreSQL after a copy follow the copied ones.
            let next = try PostgresTestServer.psql(url, "INSERT INTO metricKey (name) VALUES ('new') RETURNING id")
            let largest = try PostgresTestServer.psql(url, "SELECT max(id) - 1 FROM metricKey")
            #expect(Int(next)! > Int(largest)!)
        }
    }

    /// Two copies into one empty database at once: the second waits for the first's transaction,
    /// then finds every row and blob there and adds nothing; neither fails.
    @Test func concurrentCopiesTakeTurns() async throws {
        try await Self.withDatabase { address, url in
            let (source, dir) = try await Self.populatedStore()
            let reports = try await withThrowingTaskGroup(of: StoreCopy.Report.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        try StoreCopy.copy(from: source.backend, to: PostgresBackend.open(address, logger: quietLogger))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(reports.map(\.blobsWritten).sorted() == [0, reports[0].blobs])
            #expect(reports.map(\.rowsInserted).min() == 0)
            #expect(try PostgresTestServer.psql(url, "SELECT count(*) FROM modelVersion") == "4")
            withExtendedLifetime(dir) {}
        }
    }

    @Test func theSchemaKeepsHistoryAppendOnly() async throws {
        try await Self.withDatabase { address, url in
            let (source, dir) = try await Self.populatedStore()
            _ = try StoreCopy.copy(from: source.backend, to: PostgresBackend.open(address, logger: quietLogger))
            for statement in [
                "UPDATE aliasEvent SET reason = 'rewritten'", "DELETE FROM aliasEvent", "DELETE FROM modelVersion",
                "UPDATE modelVersion SET deletedAt = NULL WHERE deletedAt IS NOT NULL",
                "UPDATE token SET scope = 'admin'",
                "DELETE FROM experiment",
            ] {
                #expect(throws: PostgresTestError.self, "\(statement)") { try PostgresTestServer.psql(url, statement) }
            }
            withExtendedLifetime(dir) {}
        }
    }

    @Test func aDamagedChunkFailsTheCopyOutAndWritesNothing() async throws {
        try await Self.withDatabase { address, url in
            let (source, dir) = try await Self.populatedStore()
            let postgres = try PostgresBackend.open(address, logger: quietLogger)
            _ = try StoreCopy.copy(from: source.backend, to: postgres)
            try PostgresTestServer.psql(
                url,
                "UPDATE tensorChunk SET bytes = overlay(bytes PLACING '\\xff00ff'::bytea FROM 1000) WHERE position = 1"
            )
            let back = try Registry.open(atPath: dir.file("b.sqlite"), logger: quietLogger)
            let before = storeSnapshot(dir.file("b.sqlite"))
            let error = try #require(throws: RegistryError.self) {
                try StoreCopy.copy(from: postgres, to: back.backend)
            }
            #expect(error.code == .corruptData && error.message.contains("fails its checksum"), "\(error.message)")
            #expect(storeSnapshot(dir.file("b.sqlite")) == before)
        }
    }

    /// The copy's connection is cut mid-transaction, once its blobs are written (as when the
    /// server restarts): the copy fails with one line, nothing of it is in the database, and the
    /// same backend reconnects for the next.
    @Test func aDroppedConnectionLeavesNothingAndTheNextCopyReconnects() async throws {
        try await Self.withDatabase { address, url in
            let (source, dir) = try await Self.populatedStore()
            for seed in 1...12 {
                let file = dir.file("big-\(seed).safetensors")
                try writeComponentFile(file, floats: 2_000_000, seed: UInt64(seed))
                try await source.registerComponent(model: "big", safetensorsPath: file)
            }
            let postgres = try PostgresBackend.open(address, logger: quietLogger)
            let database = address.database
            // Another session holds `model` so the copy, its blobs written, waits inside its
            // transaction for it; then the copy's connection is cut.
            let holder = try PostgresTestServer.startPsql(
                url + "&application_name=lock_holder",
                "BEGIN; LOCK TABLE model IN SHARE MODE; SELECT pg_sleep(600);"
            )
            defer { holder.terminate() }
            let others = """
                FROM pg_stat_activity WHERE datname = '\(database)' AND pid <> pg_backend_pid()
                AND application_name <> 'lock_holder'
                """
            try await PostgresTestServer.waitUntil(
                url,
                "SELECT count(*) FROM pg_locks WHERE relation = 'model'::regclass AND mode = 'ShareLock' AND granted"
            )
            let copy = _Concurrency.Task.detached { try StoreCopy.copy(from: source.backend, to: postgres) }
            try await PostgresTestServer.waitUntil(url, "SELECT count(*) \(others) AND wait_event_type = 'Lock'")
            let cut = try PostgresTestServer.psql(
                url,
                "SELECT count(pg_terminate_backend(pid)) \(others) AND xact_start IS NOT NULL"
            )
            // The holder's session ends with it (a backend in pg_sleep would not notice psql go).
            try PostgresTestServer.psql(
                url,
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(database)' AND application_name = 'lock_holder'"
            )
            #expect(cut == "1")
            let error = await #expect(throws: RegistryError.self) { try await copy.value }
            #expect(
                error?.code == .io && error?.message.hasPrefix("Lost the connection to PostgreSQL") == true,
                "\(String(describing: error))"
            )
            #expect(try PostgresTestServer.psql(url, "SELECT count(*) FROM tensorBlob") == "0")
            #expect(try PostgresTestServer.psql(url, "SELECT count(*) FROM model") == "0")

            let report = try StoreCopy.copy(from: source.backend, to: postgres)
            #expect(report.blobsWritten == report.blobs && report.rowsInserted > 0)
        }
    }
}
