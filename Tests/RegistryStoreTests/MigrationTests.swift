import Foundation
import FuseboxTestSupport
import GRDB
import RegistryMigrations
import Testing

@testable import RegistryStore

struct MigrationTests {
    static var migrationsFolder: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("migrations").path
    }

    @Test func embeddedMigrationsEqualTheFilesOnDisk() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.migrationsFolder).filter {
            $0.hasSuffix(".sql")
        }.sorted()
        #expect(SchemaMigrations.all.map { $0.identifier + ".sql" } == files)
        for migration in SchemaMigrations.all {
            let text = try String(
                contentsOfFile: Self.migrationsFolder + "/" + migration.identifier + ".sql",
                encoding: .utf8
            )
            #expect(migration.sql == text, "stale build: \(migration.identifier)")
        }
    }

    /// A store file holding only the first `count` migrations, as an older fusebox left it.
    static func olderStore(at path: String, migrations count: Int) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            Registry.addFunctions(to: db)
            try db.execute(sql: "CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
            for m in SchemaMigrations.all.prefix(count) {
                try db.execute(sql: m.sql)
                try db.execute(sql: "INSERT INTO grdb_migrations VALUES (?)", arguments: [m.identifier])
            }
        }
        try queue.close()
    }

    @Test(arguments: 1..<SchemaMigrations.all.count)
    func olderStoresUpgradeWithTheirDataIntact(applied: Int) async throws {
        // Given a store made by the first `applied` migrations, holding a model
        let dir = TemporaryDirectory()
        let path = dir.file("old.sqlite")
        try Self.olderStore(at: path, migrations: applied)
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(sql: "INSERT INTO model (name, kind, createdAt) VALUES ('legacy', 'fused', 1)")
        }
        try queue.close()
        // When the current fusebox opens it
        let registry = try Registry.open(atPath: path, logger: quietLogger)
        // Then every migration is applied, the model is there, and it takes new versions
        #expect(try await registry.appliedMigrations() == SchemaMigrations.all.map(\.identifier))
        #expect(try await registry.models().map(\.name) == ["legacy"])
        #expect(try await registry.registerVersion(model: "legacy", classifier: smallClassifier()) == 1)
    }

    @Test func anUpgradeThatFailsHalfWayLeavesTheOldSchemaWorking() async throws {
        // Given a store at migration 0003 whose file already has a table named 'alias', so the
        // last pending migration (0006) fails after 0004 and 0005 succeeded
        let dir = TemporaryDirectory()
        let path = dir.file("old.sqlite")
        try Self.olderStore(at: path, migrations: 3)
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(sql: "INSERT INTO model (name, kind, createdAt) VALUES ('legacy', 'fused', 1)")
            try db.execute(sql: "CREATE TABLE alias (note TEXT)")
        }
        try queue.close()
        // When the current fusebox opens it, the upgrade fails
        #expect(throws: (any Error).self) { try Registry.open(atPath: path, logger: quietLogger) }
        // Then nothing of 0004 or 0005 remains, and the old schema still works
        let check = try DatabaseQueue(path: path)
        let (applied, hasBlobs, models) = try await check.read { db in
            (
                try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier"),
                try db.tableExists("tensorBlob"),
                try String.fetchAll(db, sql: "SELECT name FROM model")
            )
        }
        #expect(applied == SchemaMigrations.all.prefix(3).map(\.identifier))
        #expect(!hasBlobs)
        #expect(models == ["legacy"])
        try await check.write { db in
            try db.execute(sql: "INSERT INTO model (name, kind, createdAt) VALUES ('still-works', 'fused', 2)")
        }
    }

    @Test func readersRefuseAnOlderStoreUntouchedAndWritersUpgradeIt() async throws {
        let dir = TemporaryDirectory()
        let path = dir.file("old.sqlite")
        try Self.olderStore(at: path, migrations: SchemaMigrations.all.count - 1)
        let before = storeSnapshot(path)
        #expect {
            try Registry.open(atPath: path, access: .readOnly, logger: quietLogger)
        } throws: { error in (error as? RegistryError)?.code == .schemaTooOld && "\(error)".contains("fusebox init") }
        #expect(storeSnapshot(path) == before)
        let upgraded = try Registry.open(atPath: path, access: .readWrite, logger: quietLogger)
        #expect(try await upgraded.appliedMigrations() == SchemaMigrations.all.map(\.identifier))
        #expect(try await Registry.open(atPath: path, access: .readOnly, logger: quietLogger).models().isEmpty)
    }

    @Test func aStoreFromANewerFuseboxIsRefusedUntouched() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("new.sqlite")
        try Self.olderStore(at: path, migrations: SchemaMigrations.all.count)
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in try db.execute(sql: "INSERT INTO grdb_migrations VALUES ('9999_from_the_future')") }
        try queue.close()
        let before = try readBytes(path)
        #expect {
            try Registry.open(atPath: path, logger: quietLogger)
        } throws: { ($0 as? RegistryError)?.code == .schemaTooNew && "\($0)".contains("newer fusebox") }
        #expect(try readBytes(path) == before)
    }

    @Test func garbageAndForeignFilesAreRefusedUntouched() throws {
        let dir = TemporaryDirectory()
        let garbage = dir.file("garbage.sqlite")
        try writeBytes(Array("this is not a database at all, just text".utf8), to: garbage)
        #expect {
            try Registry.open(atPath: garbage, logger: quietLogger)
        } throws: { ($0 as? RegistryError)?.code == .corruptData && "\($0)".contains("not an SQLite database") }
        #expect(try readBytes(garbage) == Array("this is not a database at all, just text".utf8))

        let foreign = dir.file("other-app.sqlite")
        let queue = try DatabaseQueue(path: foreign)
        try queue.write { db in try db.execute(sql: "CREATE TABLE notes (body TEXT)") }
        try queue.close()
        let before = try readBytes(foreign)
        #expect {
            try Registry.open(atPath: foreign, logger: quietLogger)
        } throws: { "\($0)".contains("another application") }
        #expect(try readBytes(foreign) == before)

        #expect {
            try Registry.open(atPath: dir.file("missing.sqlite"), createIfMissing: false, logger: quietLogger)
        } throws: { ($0 as? RegistryError)?.code == .notFound }
        #expect(!FileManager.default.fileExists(atPath: dir.file("missing.sqlite")))
    }

    @Test func truncatedStoreIsReportedAsDamaged() async throws {
        let dir = TemporaryDirectory()
        let path = dir.file("s.sqlite")
        do {
            let registry = try Registry.open(atPath: path, logger: quietLogger)
            for i in 0..<20 {
                try await registry.registerVersion(model: "m", classifier: smallClassifier(weights: [Float(i), 1]))
            }
        }
        // Fold the WAL into the main file, then cut the file in half.
        let queue = try DatabaseQueue(path: path)
        try await queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try queue.close()
        let bytes = try readBytes(path)
        try writeBytes(Array(bytes.prefix(bytes.count / 2)), to: path)
        try? FileManager.default.removeItem(atPath: path + "-wal")
        try? FileManager.default.removeItem(atPath: path + "-shm")
        await #expect {
            let registry = try Registry.open(atPath: path, logger: quietLogger)
            _ = try await registry.versions(of: "m")
            let report = try await registry.verify()
            if !report.isHealthy { throw RegistryError(.corruptData, "verify found damage") }
        } throws: { ($0 as? RegistryError)?.code == .corruptData }
    }
}
