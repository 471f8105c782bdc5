import GRDB
import TensorIO

/// What a token may do on `fusebox serve`. Each scope includes the ones before it:
/// `read` (every GET), `write` (registering, runs, evaluations, comparisons, aliases), `admin`
/// (tokens, deletes, gc).
public enum TokenScope: String, Sendable, Hashable, CaseIterable, Comparable {
    /// Every GET, the searches, predictions.
    case read
    /// `read`, and registering, runs, evaluations, comparisons and alias moves.
    case write
    /// `write`, and tokens, deletes and `gc`.
    case admin

    /// Orders scopes by what they allow: `read < write < admin`.
    public static func < (a: TokenScope, b: TokenScope) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// A token as listed: never the token itself, which is shown once when it is created.
public struct TokenInfo: Sendable, Hashable {
    /// The name writes made with the token are recorded under (their principal).
    public let name: String
    /// What the token may do.
    public let scope: TokenScope
    /// Unix seconds.
    public let createdAt: Double
    /// The principal that created it.
    public let createdBy: String
    /// When it was revoked, in Unix seconds (nil while it is valid).
    public let revokedAt: Double?
    /// The principal that revoked it.
    public let revokedBy: String?
    /// The first 8 hex digits of the token's SHA-256, to tell tokens of one name apart.
    public let fingerprint: String
}

extension Registry {
    /// The prefix of every token (so a leaked one is recognisable in logs and scanners).
    public static let tokenPrefix = "fbx_"

    /// Creates a token named `name` with `scope` and returns it: `fbx_` and 64 hex digits of
    /// 32 bytes from the system's cryptographic generator. Only its SHA-256 is stored.
    /// - Throws: `alreadyExists` when an unrevoked token has that name; `invalidInput` for a bad name.
    public func createToken(name: String, scope: TokenScope) async throws -> String {
        try Names.validate(name, as: "Token name")
        var generator = SystemRandomNumberGenerator()
        let secret =
            Self.tokenPrefix + SHA256Hex.hex((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let hash = SHA256Hex.of(Array(secret.utf8))
        try await write { [principal] db in
            if try db.fetchOne(
                Bool.self,
                sql: "SELECT 1 FROM token WHERE name = ? AND revokedAt IS NULL",
                arguments: [name]
            )
                != nil
            {
                throw RegistryError(
                    .alreadyExists,
                    "A token named '\(name)' exists; revoke it first (fusebox token revoke \(name))."
                )
            }
            try db.execute(
                sql: "INSERT INTO token (name, scope, sha256, createdAt, createdBy) VALUES (?, ?, ?, ?, ?)",
                arguments: [name, scope.rawValue, hash, Clock.unixSeconds(), principal]
            )
        }
        return secret
    }

    /// Every token, revoked ones included, oldest first.
    public func tokens() async throws -> [TokenInfo] {
        try await read { db in
            try db.fetchAll(StoreRow.self, sql: "SELECT * FROM token ORDER BY id").map(Self.tokenInfo)
        }
    }

    /// Revokes the unrevoked token named `name`; requests carrying it are refused from then on.
    /// - Throws: `notFound` when no unrevoked token has that name.
    public func revokeToken(name: String) async throws {
        try Names.validate(name, as: "Token name")
        try await write { [principal] db in
            try db.execute(
                sql: "UPDATE token SET revokedAt = ?, revokedBy = ? WHERE name = ? AND revokedAt IS NULL",
                arguments: [Clock.unixSeconds(), principal, name]
            )
            guard db.changesCount == 1 else {
                throw RegistryError(.notFound, "There is no active token named '\(name)'.")
            }
        }
    }

    /// The unrevoked token whose SHA-256 matches `token`'s, or nil (unknown, malformed or revoked).
    public func authenticate(token: String) async throws -> TokenInfo? {
        guard token.hasPrefix(Self.tokenPrefix), token.utf8.count == Self.tokenPrefix.utf8.count + 64 else {
            return nil
        }
        let hash = SHA256Hex.of(Array(token.utf8))
        return try await read { db in
            try db.fetchOne(
                StoreRow.self,
                sql: "SELECT * FROM token WHERE sha256 = ? AND revokedAt IS NULL",
                arguments: [hash]
            )
            .map(Self.tokenInfo)
        }
    }

    static func tokenInfo(_ row: StoreRow) -> TokenInfo {
        TokenInfo(
            name: row["name"],
            scope: TokenScope(rawValue: row["scope"]) ?? .read,
            createdAt: row["createdAt"],
            createdBy: row["createdBy"],
            revokedAt: row["revokedAt"],
            revokedBy: row["revokedBy"],
            fingerprint: String((row["sha256"] as String).prefix(8))
        )
    }
}
