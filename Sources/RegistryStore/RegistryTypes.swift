import FusionCore
import TensorCore

/// What a registered model is.
public enum ModelKind: String, Sendable, Hashable, Codable {
    /// A fusion head trained by Fusebox (spec + parameters).
    case fused
    /// An externally trained unimodal model registered from a safetensors file.
    case component
}

/// A registered model as listed.
public struct ModelSummary: Sendable, Hashable {
    public let name: String
    public let kind: ModelKind
    public let description: String
    public let createdAt: Double
    public let versionCount: Int
    public let latestVersion: Int?
    /// Alias name → version number.
    public let aliases: [String: Int]
    public var tags: [String: String] = [:]
    /// When it was last changed: created, or its newest version registered.
    public var updatedAt: Double = 0
    /// Set when the model was deleted (all its versions are tombstones).
    public var deletedAt: Double? = nil
}

/// Where a version came from.
public struct Lineage: Sendable, Hashable {
    /// The training run that produced it.
    public var trainingRun: Int64?
    /// Dataset fingerprints by role (`train`, `validation`, `test`).
    public var datasets: [String: String]
    /// Component versions by modality, e.g. `image` → `cnn@3`.
    public var components: [String: VersionReference]

    public init(
        trainingRun: Int64? = nil,
        datasets: [String: String] = [:],
        components: [String: VersionReference] = [:]
    ) {
        self.trainingRun = trainingRun
        self.datasets = datasets
        self.components = components
    }
}

/// One tensor of a version, as stored.
public struct StoredTensor: Sendable, Hashable {
    public let name: String
    public let dtype: DType
    public let shape: Shape
    public let sha256: String
    public let byteCount: Int
}

/// An immutable model version.
public struct ModelVersion: Sendable, Hashable {
    public let model: String
    public let kind: ModelKind
    public let number: Int
    public let createdAt: Double
    /// The fusion spec (fused models only).
    public let spec: FusionSpec?
    public let tensors: [StoredTensor]
    public let tags: [String: String]
    public let trainingRun: Int64?
    public let datasets: [String: String]
    /// Component versions by modality, as `MODEL@N`.
    public let components: [String: String]
    /// Aliases pointing at this version.
    public let aliases: [String]
    /// The training run's latest metric values (empty when there is no run).
    public let metrics: [String: Double]
    /// Who registered it (nil for versions registered before principals were recorded).
    public let principal: String?
    /// Set when the version was deleted: it can no longer be loaded, and its number is never reused.
    public let deletion: Deletion?

    /// When, by whom and why a version was deleted.
    public struct Deletion: Sendable, Hashable {
        public let at: Double
        public let by: String
        public let reason: String
    }

    /// Where it came from, in MLflow's words (`runs:/…`, `mlflow-artifacts:/…`), when registered so.
    public var source: String? = nil
    public var description: String = ""

    public var reference: String { "\(model)@\(number)" }
}

/// One change of an alias, as recorded (append-only).
public struct AliasEvent: Sendable, Hashable {
    public enum Action: String, Sendable, Hashable, Codable { case set, move, delete, rollback }
    public let id: Int64
    public let model: String
    public let alias: String
    public let action: Action
    public let fromVersion: Int?
    public let toVersion: Int?
    public let reason: String
    /// The comparison that justified a promotion, if any.
    public let comparison: Int64?
    /// True when a failing gate was overridden with `--force`.
    public let forced: Bool
    public let createdAt: Double
    /// Who moved it (nil for events recorded before principals were).
    public let principal: String?
}

public enum RunKind: String, Sendable, Hashable, Codable { case training, evaluation, comparison }
public enum RunStatus: String, Sendable, Hashable, Codable { case running, finished, failed }

/// Which runs a search sees: the live ones (the default), the softly deleted ones, or both.
public enum RunLifecycle: Sendable, Hashable {
    case active, deleted, all

    var sql: String {
        switch self {
        case .active: "r.deletedAt IS NULL"
        case .deleted: "r.deletedAt IS NOT NULL"
        case .all: "1"
        }
    }
}

/// A param value: text, kept as a number too when it is one, so queries compare numbers numerically.
public enum ParamValue: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral,
    ExpressibleByFloatLiteral,
    ExpressibleByIntegerLiteral
{
    case text(String)
    case number(Double)

    public init(stringLiteral value: String) { self = .text(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }

    public var description: String {
        switch self {
        case .text(let s): s
        case .number(let d): d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        }
    }

    /// A Float parameter as the user typed it: its shortest decimal (`0.001`), not the Float widened
    /// to a Double (`0.0010000000474974513`), so `params.lr = 0.001` matches what was given.
    public static func decimal(_ x: Float) -> ParamValue { .number(Double("\(x)") ?? Double(x)) }

    var number: Double? {
        switch self {
        case .number(let d): d
        case .text(let s): Double(s)
        }
    }
}

/// A run as listed and queried.
public struct RunSummary: Sendable, Hashable {
    public let id: Int64
    public let model: String?
    public let version: Int?
    public let kind: RunKind
    public let status: RunStatus
    public let startedAt: Double
    public let endedAt: Double?
    public let failure: String?
    /// Who started it (nil for runs recorded before principals were).
    public let principal: String?
    public let params: [String: String]
    public let tags: [String: String]
    /// The value at the highest step of each metric.
    public let metrics: [String: Double]
    /// The experiment that groups it (0, "Default", unless it was started in another).
    public var experimentId: Int64 = 0
    /// Its display name (MLflow's `run_name`), if it was given one.
    public var name: String? = nil
    /// When it was deleted softly (nil while it is live).
    public var deletedAt: Double? = nil
}

/// One metric value.
public struct MetricPoint: Sendable, Hashable {
    public let key: String
    public let step: Int
    public let value: Double
    /// Unix time in milliseconds.
    public let time: Int64

    public init(key: String, step: Int, value: Double, time: Int64 = MetricPoint.now()) {
        self.key = key
        self.step = step
        self.value = value
        self.time = time
    }

    public static func now() -> Int64 { Int64(Clock.unixSeconds() * 1000) }
}

/// A fusion weight at an epoch, as stored.
public struct WeightPoint: Sendable, Hashable {
    public let epoch: Int
    public let modality: String
    public let classIndex: Int?
    public let weight: Double
}

/// A stored evaluation: one version on one dataset.
public struct EvaluationRecord: Sendable {
    public let id: Int64
    public let run: Int64
    public let model: String
    public let version: Int
    public let datasetFingerprint: String
    /// The modalities used, comma-separated in the model's order.
    public let modalities: String
    public let metrics: [String: Double]
    public let predictions: SamplePredictions
    public let createdAt: Double
}

/// A stored A/B comparison.
public struct ComparisonRecord: Sendable {
    public let id: Int64
    public let run: Int64
    public let a: EvaluationRecord
    public let b: EvaluationRecord
    public let statistics: PairedComparison
    public let createdAt: Double
}

/// What `verify` found.
public struct VerificationReport: Sendable {
    /// `ok`, or the problems `PRAGMA integrity_check` lists.
    public let integrity: [String]
    public let blobsChecked: Int
    public let bytesChecked: Int
    /// Versions, evaluations, comparisons, ended runs and aliases checked against their digests or history.
    public let recordsChecked: Int
    /// Every item whose bytes no longer match their digest: `MODEL@N tensor 'NAME'`, `MODEL@N spec`,
    /// `MODEL@N safetensors header`, `MODEL@N tensor list (…)`, `evaluation ID (run R)`, `comparison ID (run R)`.
    public let damaged: [String]
    public var isHealthy: Bool { integrity == ["ok"] && damaged.isEmpty }
}

/// What `gc` removed (or would remove with a dry run).
public struct GarbageReport: Sendable {
    /// Deleted runs purged.
    public let runs: Int
    public let blobs: Int
    public let bytes: Int
    public let dryRun: Bool
}
