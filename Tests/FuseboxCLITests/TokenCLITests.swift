import Foundation
import FuseboxTestSupport
import Testing

/// `fusebox token create|list|revoke` through the binary.
@Suite(.serialized)
struct TokenCLITests {
    @Test func createPrintsTheTokenAloneListNeverShowsItRevokeEndsIt() throws {
        let dir = TemporaryDirectory()
        let created = try ok(["token", "create", "ci", "--scope", "write"], dir)
        let token = created.stdout.trimmingCharacters(in: .newlines)
        #expect(token.hasPrefix("fbx_") && token.count == 68 && !token.contains("\n"), "\(created.stdout)")
        #expect(created.stderr.contains("not shown again"))

        let listed = try #require(
            try FuseboxBinary.json(ok(["token", "list", "--format", "json"], dir)) as? [[String: Any]]
        )
        #expect(listed.count == 1 && listed[0]["name"] as? String == "ci" && listed[0]["scope"] as? String == "write")
        let table = try ok(["token", "list"], dir).stdout
        #expect(table.contains("ci") && !table.contains(token.dropFirst(4).prefix(20)))

        // A second token of the same name is refused until the first is revoked; a bad scope is a usage error.
        let again = try FuseboxBinary.run(["token", "create", "ci", "--scope", "read"], in: dir.path)
        #expect(again.status != 0 && again.stderr.contains("revoke it first"), "\(again.stderr)")
        let badScope = try FuseboxBinary.run(["token", "create", "x", "--scope", "root"], in: dir.path)
        #expect(badScope.status == 64)
        _ = try ok(["token", "revoke", "ci"], dir)
        let revoked = try #require(
            try FuseboxBinary.json(ok(["token", "list", "--format", "json"], dir)) as? [[String: Any]]
        )
        #expect(revoked[0]["revoked"] is String)
        let twice = try FuseboxBinary.run(["token", "revoke", "ci"], in: dir.path)
        #expect(
            twice.status != 0 && twice.stderr.contains("no active token 'ci'") == false
                && twice.stderr.contains("no active token")
        )
    }
}
