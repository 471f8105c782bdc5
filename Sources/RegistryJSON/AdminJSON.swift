import RegistryStore

/// A new token, the one time it is shown: `fusebox token create --format json` and `POST /api/v1/tokens`.
public struct CreatedTokenJSON: Encodable, Sendable {
    public let name: String
    public let scope: String
    public let token: String

    public init(name: String, scope: TokenScope, token: String) {
        self.name = name
        self.scope = scope.rawValue
        self.token = token
    }
}

/// What `gc` purged (or would): `fusebox gc --format json` and `POST /api/v1/gc`.
public struct GarbageJSON: Encodable, Sendable {
    public let runs: Int
    public let blobs: Int
    public let bytes: Int
    public let files: Int
    public let dry_run: Bool

    public init(_ report: GarbageReport) {
        runs = report.runs
        blobs = report.blobs
        bytes = report.bytes
        files = report.files
        dry_run = report.dryRun
    }
}

/// A deleted version: `fusebox delete --format json` and `DELETE /api/v1/models/{model}/versions/{ref}`.
public struct DeletionJSON: Encodable, Sendable {
    public let deleted: String
    /// Aliases that pointed at it and were removed (with `force`).
    public let removed_aliases: [String]

    public init(_ deletion: VersionDeletion) {
        deleted = deletion.reference
        removed_aliases = deletion.removedAliases.map(\.alias)
    }
}
