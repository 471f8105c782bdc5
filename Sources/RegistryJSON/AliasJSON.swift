import RegistryStore

/// An alias event: `fusebox history|alias … --format json` and `GET /api/v1/models/{model}/history`.
public struct AliasEventJSON: Encodable, Sendable {
    public let id: Int64
    public let model: String
    public let alias: String
    public let action: String
    @NullEncoded public var from: Int?
    @NullEncoded public var to: Int?
    public let reason: String
    /// The comparison cited as evidence (promotions).
    @NullEncoded public var comparison: Int64?
    public let forced: Bool
    public let time: String
    @NullEncoded public var principal: String?

    public init(_ e: AliasEvent) {
        id = e.id
        model = e.model
        alias = e.alias
        action = e.action.rawValue
        from = e.fromVersion
        to = e.toVersion
        reason = e.reason
        comparison = e.comparison
        forced = e.forced
        time = isoDate(e.createdAt)
        principal = e.principal
    }
}

/// An alias and its target: `fusebox alias list --format json` and `GET /api/v1/models/{model}/aliases`.
public struct AliasJSON: Encodable, Sendable {
    public let model: String
    public let alias: String
    public let version: Int
    public let updated: String

    public init(model: String, alias: String, version: Int, updatedAt: Double) {
        self.model = model
        self.alias = alias
        self.version = version
        updated = isoDate(updatedAt)
    }
}

/// What a promotion did: `fusebox promote --format json` and `POST …/aliases/{alias}/promote`.
public struct PromotionJSON: Encodable, Sendable {
    public let passed: Bool
    public let forced: Bool
    public let moved: Bool
    public let explanation: String
    @NullEncoded public var comparison: Int64?
    @NullEncoded public var event: AliasEventJSON?

    public init(_ outcome: PromotionOutcome) {
        passed = outcome.passed
        forced = outcome.forced
        moved = outcome.event != nil
        explanation = outcome.explanation
        comparison = outcome.comparison?.id
        event = outcome.event.map(AliasEventJSON.init)
    }
}
