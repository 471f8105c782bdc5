import RegistryStore

/// A run: `fusebox runs list|show --format json` and `GET /api/v1/runs`, `GET /api/v1/runs/{id}`.
public struct RunJSON: Encodable, Sendable {
    public let id: Int64
    public let kind: String
    public let status: String
    /// Its name (MLflow's `run_name`), if it has one.
    @NullEncoded public var name: String?
    /// The experiment that groups it (0: Default).
    public let experiment: Int64
    @NullEncoded public var model: String?
    @NullEncoded public var version: Int?
    public let started: String
    @NullEncoded public var ended: String?
    @NullEncoded public var failure: String?
    @NullEncoded public var principal: String?
    public let params: [String: String]
    public let tags: [String: String]
    /// Each metric's latest value.
    public let metrics: [String: Double]

    public init(_ r: RunSummary) {
        id = r.id
        kind = r.kind.rawValue
        status = r.status.rawValue
        name = r.name
        experiment = r.experimentId
        model = r.model
        version = r.version
        started = isoDate(r.startedAt)
        ended = r.endedAt.map { isoDate($0) }
        failure = r.failure
        principal = r.principal
        params = r.params
        tags = r.tags
        metrics = finite(r.metrics)
    }
}

/// One value of a metric's history.
public struct MetricPointJSON: Encodable, Sendable {
    public let step: Int
    public let value: Double
    /// Milliseconds since 1970 when it was logged.
    public let time: Int64

    public init(_ p: MetricPoint) {
        step = p.step
        value = p.value
        time = p.time
    }
}

/// One fusion weight at one epoch (`class` is null for per-modality weights).
public struct WeightPointJSON: Encodable, Sendable {
    public let epoch: Int
    public let modality: String
    @NullEncoded public var `class`: Int?
    public let weight: Double

    public init(_ p: WeightPoint) {
        epoch = p.epoch
        modality = p.modality
        `class` = p.classIndex
        weight = p.weight
    }
}

/// A run with every metric's history: `fusebox runs show --format json`.
public struct RunWithHistoryJSON: Encodable, Sendable {
    public let run: RunJSON
    public let history: [String: [MetricPointJSON]]

    public init(run: RunSummary, histories: [String: [MetricPoint]]) {
        self.run = RunJSON(run)
        history = histories.mapValues { $0.map(MetricPointJSON.init) }
    }

    enum Key: String, CodingKey { case history }

    /// The run's keys and `history`, in one object.
    public func encode(to encoder: any Encoder) throws {
        try run.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(history, forKey: .history)
    }
}
