import Foundation
import FuseboxTestSupport
import GRDB
import TensorIO
import Testing

@testable import RegistryStore

/// `fusebox copy` between two SQLite stores: every row and blob arrives, verified; copying again
/// changes nothing; a destination holding other data, or a damaged source, is refused with the
/// destination unchanged. (The same copy to and from PostgreSQL: RegistryPostgresTests.)
struct StoreCopyTests {
    /// The tables and columns ``StoreTable/all`` lists are exactly the SQLite schema's (less the
    /// blob tables, which move as byte streams, and GRDB's migration bookkeeping).
    @Test func theTableListIsTheSchema() async throws {
        let registry = try memoryRegistry()
        let schema = try await registry.read { db in
            let tables = try db.fetchAll(
                String.self,
                sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
            return try tables.reduce(into: [String: Set<String>]()) { schema, table in
                schema[table] = Set(
                    try db.fetchAll(StoreRow.self, sql: "PRAGMA table_info(\(table))").map { $0["name"] as String }
                )
            }
        }
        var listed = [String: Set<String>]()
        for table in StoreTable.all { listed[table.name] = Set(table.columns).subtracting(["rowid"]) }
        let expected = schema.filter { !["grdb_migrations", "tensorBlob", "tensorChunk"].contains($0.key) }
        #expect(listed == expected)
        #expect(Set(StoreTable.all.map(\.name)).count == StoreTable.all.count)
    }

    @Test func aCopyHoldsEveryRowAndBlobAndCopyingAgainChangesNothing() async throws {
        let dir = TemporaryDirectory()
        let source = try Registry.open(atPath: dir.file("a.sqlite"), logger: quietLogger)
        try await populate(source, in: dir)
        let destination = try Registry.open(atPath: dir.file("b.sqlite"), logger: quietLogger)

        let first = try StoreCopy.copy(from: source.backend, to: destination.backend)
        #expect(first.rowsInserted > 40 && first.rowsUpdated == 1, "only the Default experiment's times differ")
        #expect(first.blobs == first.blobsWritten && first.blobs >= 5)
        #expect(first.bytesVerified == first.bytesWritten && first.bytesWritten > 4_800_000)
        // The copy's record digests hold in the destination, and its large tensor is an object there too.
        let report = try await destination.verify()
        #expect(report.damaged.isEmpty && report.unreferencedObjects == 0)
        #expect(try ObjectFolder(root: dir.file("b.sqlite-objects")).digests().count == 1)
        try await destination.exportSafetensors(
            VersionReference(parsing: "cnn@1"),
            toPath: dir.file("cnn-b.safetensors")
        )
        #expect(
            try SHA256Hex.ofFile(atPath: dir.file("cnn-b.safetensors"))
                == SHA256Hex.ofFile(atPath: dir.file("cnn.safetensors"))
        )
        #expect(try await destination.versions(of: "sentiment").map(\.number) == [2, 1])

        let second = try StoreCopy.copy(from: source.backend, to: destination.backend)
        #expect(second.rowsInserted == 0 && second.rowsUpdated == 0 && second.blobsWritten == 0)
        #expect(second.rows == first.rows && second.blobs == first.blobs)

        // The source grows; copying again adds what is new, and new ids follow the copied ones.
        try await source.registerVersion(model: "sentiment", classifier: smallClassifier(weights: [0.5, 0.5]))
        let third = try StoreCopy.copy(from: source.backend, to: destination.backend)
        #expect(third.rowsInserted > 0 && third.blobsWritten >= 1)
        #expect(try await destination.versions(of: "sentiment").map(\.number) == [3, 2, 1])
        try await destination.registerVersion(model: "sentiment", classifier: smallClassifier(weights: [0.4, 0.6]))
        #expect(try await destination.versions(of: "sentiment").map(\.number) == [4, 3, 2, 1])
    }

    @Test func aDestinationHoldingOtherDataIsRefusedUnchanged() async throws {
        let dir = TemporaryDirectory()
        let source = try Registry.open(atPath: dir.file("a.sqlite"), logger: quietLogger)
        try await populate(source, in: dir)
        let other = TemporaryDirectory()
        let destination = try Registry.open(atPath: other.file("c.sqlite"), logger: quietLogger)
        try await destination.registerVersion(model: "elsewhere", classifier: smallClassifier())
        try await destination.setAlias("production", model: "elsewhere", version: 1)
        try await destination.setAlias("production", model: "elsewhere", version: 1)
        let before = storeSnapshot(other.file("c.sqlite"))

        let error = try #require(throws: RegistryError.self) {
            try StoreCopy.copy(from: source.backend, to: destination.backend)
        }
        #expect(error.code == .conflict, "\(error.message)")
        #expect(
            error.message.contains("copy into an empty store") || error.message.contains("Copy into an empty store")
        )
        #expect(storeSnapshot(other.file("c.sqlite")) == before)
        #expect(try await destination.models().map(\.name) == ["elsewhere"])
    }

    @Test func aDamagedSourceBlobFailsTheCopyAndWritesNothing() async throws {
        let dir = TemporaryDirectory()
        let source = try Registry.open(atPath: dir.file("a.sqlite"), logger: quietLogger)
        try await populate(source, in: dir)
        let objects = ObjectFolder(root: dir.file("a.sqlite-objects"))
        let object = objects.path(of: try #require(try objects.digests().first))
        let handle = try #require(FileHandle(forUpdatingAtPath: object))
        try handle.seek(toOffset: 1_000)
        try handle.write(contentsOf: Data([0xFF, 0x00, 0xFF]))
        try handle.close()
        let destination = try Registry.open(atPath: dir.file("b.sqlite"), logger: quietLogger)
        let before = storeSnapshot(dir.file("b.sqlite"))

        let error = try #require(throws: RegistryError.self) {
            try StoreCopy.copy(from: source.backend, to: destination.backend)
        }
        #expect(error.code == .corruptData && error.message.contains("fails its checksum"), "\(error.message)")
        #expect(storeSnapshot(dir.file("b.sqlite")) == before)
        #expect(try await destination.models().isEmpty)
        #expect(try ObjectFolder(root: dir.file("b.sqlite-objects")).digests().isEmpty)
    }

    @Test func aStoreIsNotCopiedOntoItself() async throws {
        let dir = TemporaryDirectory()
        let registry = try Registry.open(atPath: dir.file("a.sqlite"), logger: quietLogger)
        let error = try #require(throws: RegistryError.self) {
            try StoreCopy.copy(from: registry.backend, to: registry.backend)
        }
        #expect(error.code == .invalidInput)
    }
}
