import FuseboxTestSupport
import GRDB
import TensorIO
import Testing

@testable import RegistryStore

/// API tokens: shown once, stored as their SHA-256, scoped, revocable.
struct TokenTests {
    @Test func aTokenAuthenticatesWithItsScopeUntilRevoked() async throws {
        let queue = try DatabaseQueue()
        let registry = try Registry(queue, principal: "alice", logger: quietLogger)
        let token = try await registry.createToken(name: "ci", scope: .write)
        #expect(token.hasPrefix("fbx_") && token.count == 4 + 64)
        let info = try #require(try await registry.authenticate(token: token))
        #expect(info.name == "ci" && info.scope == .write && info.createdBy == "alice")
        #expect(try await registry.authenticate(token: "fbx_" + String(repeating: "0", count: 64)) == nil)
        #expect(try await registry.authenticate(token: "not a token") == nil)

        // Only the hash is stored: the token's text appears nowhere in the database.
        let stored = try await queue.read { db in try String.fetchAll(db, sql: "SELECT sha256 FROM token") }
        #expect(stored == [SHA256Hex.of(Array(token.utf8))])
        #expect(!stored.contains(token))

        try await registry.revokeToken(name: "ci")
        #expect(try await registry.authenticate(token: token) == nil)
        await #expect { try await registry.revokeToken(name: "ci") } throws: { "\($0)".contains("no active token") }
        let listed = try await registry.tokens()
        #expect(listed.count == 1 && listed[0].revokedAt != nil && listed[0].revokedBy == "alice")
        #expect(listed[0].fingerprint == String(stored[0].prefix(8)))
    }

    @Test(arguments: TestStore.available)
    func aNameIsTakenUntilItsTokenIsRevoked(_ store: TestStore) async throws {
        try await store.withRegistry { registry in
            let first = try await registry.createToken(name: "deploy", scope: .read)
            await #expect { try await registry.createToken(name: "deploy", scope: .admin) } throws: {
                "\($0)".contains("revoke it first")
            }
            try await registry.revokeToken(name: "deploy")
            let second = try await registry.createToken(name: "deploy", scope: .admin)
            #expect(first != second)
            #expect(try await registry.authenticate(token: second)?.scope == .admin)
            #expect(try await registry.tokens().map(\.scope) == [.read, .admin])
            await #expect { try await registry.createToken(name: "bad name!", scope: .read) } throws: {
                "\($0)".contains("Token name 'bad name!' is not valid")
            }
        }
    }

    @Test func scopesAreOrderedAndTokensCannotBeRewritten() async throws {
        #expect(TokenScope.read < .write && TokenScope.write < .admin)
        let queue = try DatabaseQueue()
        let registry = try Registry(queue, logger: quietLogger)
        _ = try await registry.createToken(name: "ops", scope: .read)
        await #expect(throws: (any Error).self) {
            try await queue.write { db in try db.execute(sql: "UPDATE token SET scope = 'admin'") }
        }
        try await registry.revokeToken(name: "ops")
        await #expect(throws: (any Error).self) {
            try await queue.write { db in try db.execute(sql: "UPDATE token SET revokedAt = NULL") }
        }
    }
}
