import RegistryStore

/// A model: `fusebox models --format json` and `GET /api/v1/models`.
public struct ModelJSON: Encodable, Sendable {
    public let model: String
    public let kind: String
    public let description: String
    public let versions: Int
    @NullEncoded public var latest: Int?
    public let aliases: [String: Int]
    public let created: String

    public init(_ m: ModelSummary) {
        model = m.name
        kind = m.kind.rawValue
        description = m.description
        versions = m.versionCount
        latest = m.latestVersion
        aliases = m.aliases
        created = isoDate(m.createdAt)
    }
}
