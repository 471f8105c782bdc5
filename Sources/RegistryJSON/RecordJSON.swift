import FusionCore
import RegistryStore

/// An evaluation: `GET /api/v1/evaluations` (per-sample predictions are left out).
public struct EvaluationJSON: Encodable, Sendable {
    public let id: Int64
    public let run: Int64
    public let model: String
    public let version: Int
    public let dataset: String
    public let modalities: [String]
    public let samples: Int
    /// Present on a single evaluation, not in listings.
    @NullEncoded public var metrics: [String: Double]?
    public let created: String

    public init(_ e: EvaluationSummary) {
        self.init(
            id: e.id,
            run: e.run,
            model: e.model,
            version: e.version,
            dataset: e.datasetFingerprint,
            modalities: e.modalities,
            samples: e.sampleCount,
            metrics: nil,
            createdAt: e.createdAt
        )
    }

    public init(_ e: EvaluationRecord) {
        self.init(
            id: e.id,
            run: e.run,
            model: e.model,
            version: e.version,
            dataset: e.datasetFingerprint,
            modalities: e.modalities,
            samples: e.predictions.count,
            metrics: finite(e.metrics),
            createdAt: e.createdAt
        )
    }

    init(
        id: Int64,
        run: Int64,
        model: String,
        version: Int,
        dataset: String,
        modalities: String,
        samples: Int,
        metrics: [String: Double]?,
        createdAt: Double
    ) {
        self.id = id
        self.run = run
        self.model = model
        self.version = version
        self.dataset = dataset
        self.modalities = modalities.split(separator: ",").map(String.init)
        self.samples = samples
        self.metrics = metrics
        created = isoDate(createdAt)
    }
}

/// A comparison: `GET /api/v1/comparisons` (summary) and `GET /api/v1/comparisons/{id}` (with both
/// evaluations and the paired statistics: McNemar, bootstrap intervals, one-sided bounds, verdict).
public struct ComparisonJSON: Encodable, Sendable {
    public let id: Int64
    public let run: Int64
    public let a: String
    public let b: String
    public let dataset: String
    public let verdict: String
    public let created: String
    @NullEncoded public var evaluation_a: EvaluationJSON?
    @NullEncoded public var evaluation_b: EvaluationJSON?
    @NullEncoded public var statistics: PairedComparison?

    public init(_ c: ComparisonSummary) {
        id = c.id
        run = c.run
        a = c.a
        b = c.b
        dataset = c.datasetFingerprint
        verdict = c.verdict.rawValue
        created = isoDate(c.createdAt)
    }

    public init(_ c: ComparisonRecord) {
        id = c.id
        run = c.run
        a = "\(c.a.model)@\(c.a.version)"
        b = "\(c.b.model)@\(c.b.version)"
        dataset = c.a.datasetFingerprint
        verdict = c.statistics.verdict.rawValue
        created = isoDate(c.createdAt)
        evaluation_a = EvaluationJSON(c.a)
        evaluation_b = EvaluationJSON(c.b)
        statistics = c.statistics
    }
}
