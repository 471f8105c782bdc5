import FuseboxTestSupport
import GRDB
import Testing

@testable import RegistryStore

struct AliasTests {
    func registryWithVersions(_ count: Int) async throws -> (Registry, DatabaseQueue) {
        let queue = try DatabaseQueue()
        let registry = try Registry(queue, logger: quietLogger)
        for i in 0..<count {
            try await registry.registerVersion(model: "fusion", classifier: smallClassifier(weights: [Float(i), 0]))
        }
        return (registry, queue)
    }

    @Test func rollbackChainsBackThroughEveryMove() async throws {
        let (registry, _) = try await registryWithVersions(3)
        try await registry.setAlias("production", model: "fusion", version: 1)
        try await registry.setAlias("production", model: "fusion", version: 2, reason: "better")
        try await registry.setAlias("production", model: "fusion", version: 3)
        #expect(try await registry.rollback("production", model: "fusion").toVersion == 2)
        #expect(try await registry.rollback("production", model: "fusion").toVersion == 1)
        await #expect {
            try await registry.rollback("production", model: "fusion")
        } throws: { "\($0)".contains("no earlier target") }
        let events = try await registry.aliasEvents(of: "fusion")
        #expect(events.map(\.action) == [.rollback, .rollback, .move, .move, .set])
        #expect(events.map(\.toVersion) == [1, 2, 3, 2, 1])
        #expect(events[3].reason == "better")
        #expect(try await registry.version(VersionReference(parsing: "fusion@production")).number == 1)
    }

    @Test func aliasEventsAreAppendOnly() async throws {
        let (registry, queue) = try await registryWithVersions(1)
        try await registry.setAlias("staging", model: "fusion", version: 1)
        #expect(throws: DatabaseError.self) {
            try queue.write { db in try db.execute(sql: "UPDATE aliasEvent SET reason = 'rewritten'") }
        }
        try await registry.deleteAlias("staging", model: "fusion")
        #expect(try await registry.aliasEvents(of: "fusion").map(\.action) == [.delete, .set])
        await #expect(throws: RegistryError.self) {
            try await registry.version(VersionReference(parsing: "fusion@staging"))
        }
        await #expect(throws: RegistryError.self) { try await registry.setAlias("latest", model: "fusion", version: 1) }
        await #expect(throws: RegistryError.self) { try await registry.setAlias("prod", model: "fusion", version: 9) }
    }

    @Test func rollbackRefusesATargetThatFailsVerification() async throws {
        let (registry, queue) = try await registryWithVersions(2)
        try await registry.setAlias("production", model: "fusion", version: 1)
        try await registry.setAlias("production", model: "fusion", version: 2)
        try await queue.write { db in
            try db.execute(
                sql: """
                    UPDATE tensorChunk SET bytes = randomblob(length(bytes)) WHERE blobId IN
                    (SELECT t.blobId FROM versionTensor t JOIN modelVersion v ON v.id = t.versionId WHERE v.number = 1)
                    """
            )
        }
        await #expect {
            try await registry.rollback("production", model: "fusion")
        } throws: { "\($0)".contains("Refusing to roll 'production' back to fusion@1") }
        #expect(try await registry.version(VersionReference(parsing: "fusion@production")).number == 2)
        #expect(try await registry.aliasEvents(of: "fusion").count == 2)
    }
}
