import RegistryStore

/// A token (never its secret): `fusebox token list --format json` and `GET /api/v1/tokens`.
public struct TokenJSON: Encodable, Sendable {
    public let name: String
    public let scope: String
    public let fingerprint: String
    public let created: String
    public let created_by: String
    @NullEncoded public var revoked: String?
    @NullEncoded public var revoked_by: String?

    public init(_ t: TokenInfo) {
        name = t.name
        scope = t.scope.rawValue
        fingerprint = t.fingerprint
        created = isoDate(t.createdAt)
        created_by = t.createdBy
        revoked = t.revokedAt.map { isoDate($0) }
        revoked_by = t.revokedBy
    }
}
