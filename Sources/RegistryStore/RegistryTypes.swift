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
    /// The model's unique name.
    public let name: String
    /// Fused or component.
    public let kind: ModelKind
    /// Its description (empty when none was given).
    public let description: String
    /// When it was created, in Unix seconds.
    public let createdAt: Double
    /// The number of live versions (deleted ones are not counted).
    public let versionCount: Int
    /// The newest live version's number (nil when there is none).
    public let latestVersion: Int?
    /// Alias name → version number.
    public let aliases: [String: Int]
    /// Its tags.
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

    /// Creates a lineage.
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
    /// The tensor's name in the version.
    public let name: String
    /// The element type.
    public let dtype: DType
    /// The dimensions.
    public let shape: Shape
    /// The SHA-256 of the tensor's bytes, in hex: its blob's address, checked on every load.
    public let sha256: String
    /// The size of the tensor's bytes.
    public let byteCount: Int
}

/// An immutable model version.
public struct ModelVersion: Sendable, Hashable {
    /// The model's name.
    public let model: String
    /// Fused or component.
    public let kind: ModelKind
    /// The version number: from 1, gapless, never reused.
    public let number: Int
    /// When it was registered, in Unix seconds.
    public let createdAt: Double
    /// The fusion spec (fused models only).
    public let spec: FusionSpec?
    /// Its tensors, by name.
    public let tensors: [StoredTensor]
    /// Its tags (`fusebox tag`, MLflow's version tags).
    public let tags: [String: String]
    /// The training run that produced it, if any.
    public let trainingRun: Int64?
    /// Dataset fingerprints by role (`train`, `validation`, `test`).
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
        /// When, in Unix seconds.
        public let at: Double
        /// The principal that deleted it.
        public let by: String
        /// The reason given.
        public let reason: String
    }

    /// Where it came from, in MLflow's words (`runs:/…`, `mlflow-artifacts:/…`), when registered so.
    public var source: String? = nil
    /// Its description (empty when none was given).
    public var description: String = ""

    /// The version as `MODEL@N`.
    public var reference: String { "\(model)@\(number)" }
}

/// One change of an alias, as recorded (append-only).
public struct AliasEvent: Sendable, Hashable {
    /// What happened to the alias.
    public enum Action: String, Sendable, Hashable, Codable {
        /// The alias was created, pointing at ``AliasEvent/toVersion``.
        case set
        /// The alias moved from ``AliasEvent/fromVersion`` to ``AliasEvent/toVersion`` (a promotion).
        case move
        /// The alias was removed.
        case delete
        /// The alias went back to the version it pointed at before its last move.
        case rollback
    }
    /// The event's id, increasing in the order events happened.
    public let id: Int64
    /// The model whose alias changed.
    public let model: String
    /// The alias.
    public let alias: String
    /// What happened.
    public let action: Action
    /// The version the alias pointed at before (nil for `set`).
    public let fromVersion: Int?
    /// The version it points at after (nil for `delete`).
    public let toVersion: Int?
    /// Why, as given (empty when no reason was given).
    public let reason: String
    /// The comparison that justified a promotion, if any.
    public let comparison: Int64?
    /// True when a failing gate was overridden with `--force`.
    public let forced: Bool
    /// When, in Unix seconds.
    public let createdAt: Double
    /// Who moved it (nil for events recorded before principals were).
    public let principal: String?
}

/// What a run did.
public enum RunKind: String, Sendable, Hashable, Codable {
    /// Trained a fused model (or was logged from outside, e.g. through the MLflow API).
    case training
    /// Evaluated a version on a dataset (``EvaluationRecord``).
    case evaluation
    /// Compared two versions on the same samples (``ComparisonRecord``).
    case comparison
}

/// Where a run is in its life.
public enum RunStatus: String, Sendable, Hashable, Codable {
    /// Started and not ended; a run whose process died is found by its liveness check.
    case running
    /// Ended normally; its record is sealed with a digest.
    case finished
    /// Ended with an error (``RunSummary/failure``), or was marked failed when its process was gone.
    case failed
}

/// Which runs a search sees: the live ones (the default), the softly deleted ones, or both.
public enum RunLifecycle: Sendable, Hashable {
    /// Runs that are not deleted.
    case active
    /// Softly deleted runs only (they can be restored until `gc` purges them).
    case deleted
    /// Both.
    case all

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
    /// Text that is not a number.
    case text(String)
    /// A number (compared numerically in queries).
    case number(Double)

    /// A text value, as in `"adam"`.
    public init(stringLiteral value: String) { self = .text(value) }
    /// A number, as in `0.001`.
    public init(floatLiteral value: Double) { self = .number(value) }
    /// A number, as in `256`.
    public init(integerLiteral value: Int) { self = .number(Double(value)) }

    /// The value as stored: the text, or the number without a trailing `.0` when it is whole.
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
    /// The run's id.
    public let id: Int64
    /// The model it belongs to, if any.
    public let model: String?
    /// The version it registered or evaluated, if any.
    public let version: Int?
    /// What it did.
    public let kind: RunKind
    /// Running, finished or failed.
    public let status: RunStatus
    /// When it started, in Unix seconds.
    public let startedAt: Double
    /// When it ended, in Unix seconds (nil while running).
    public let endedAt: Double?
    /// Why it failed, when it did.
    public let failure: String?
    /// Who started it (nil for runs recorded before principals were).
    public let principal: String?
    /// Its params, as text.
    public let params: [String: String]
    /// Its tags.
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
    /// The metric's name.
    public let key: String
    /// The step (the epoch, for training metrics).
    public let step: Int
    /// The value.
    public let value: Double
    /// Unix time in milliseconds.
    public let time: Int64

    /// Creates a value, timestamped now unless `time` is given.
    public init(key: String, step: Int, value: Double, time: Int64 = MetricPoint.now()) {
        self.key = key
        self.step = step
        self.value = value
        self.time = time
    }

    /// The current time in Unix milliseconds.
    public static func now() -> Int64 { Int64(Clock.unixSeconds() * 1000) }
}

/// A fusion weight at an epoch, as stored.
public struct WeightPoint: Sendable, Hashable {
    /// The epoch, from 1.
    public let epoch: Int
    /// The modality the weight belongs to.
    public let modality: String
    /// The class for per-class weights, nil for a per-modality weight.
    public let classIndex: Int?
    /// The normalised weight (see <doc:/documentation/FusionCore/FusionWeights>).
    public let weight: Double
}

/// A stored evaluation: one version on one dataset.
public struct EvaluationRecord: Sendable {
    /// The evaluation's id.
    public let id: Int64
    /// The evaluation run that recorded it.
    public let run: Int64
    /// The model evaluated.
    public let model: String
    /// The version evaluated.
    public let version: Int
    /// The <doc:/documentation/FusionCore/Dataset/fingerprint> of the data.
    public let datasetFingerprint: String
    /// The modalities used, comma-separated in the model's order.
    public let modalities: String
    /// The metrics by name (`accuracy`, `macro_f1`, `nll`…).
    public let metrics: [String: Double]
    /// Every sample's label, prediction and true-class probability, for paired comparisons.
    public let predictions: SamplePredictions
    /// When it was recorded, in Unix seconds.
    public let createdAt: Double
}

/// A stored A/B comparison.
public struct ComparisonRecord: Sendable {
    /// The comparison's id.
    public let id: Int64
    /// The comparison run that recorded it.
    public let run: Int64
    /// The evaluation of version A (the reference).
    public let a: EvaluationRecord
    /// The evaluation of version B (the candidate).
    public let b: EvaluationRecord
    /// The paired statistics of B against A.
    public let statistics: PairedComparison
    /// When it was recorded, in Unix seconds.
    public let createdAt: Double
}

/// What `verify` found.
public struct VerificationReport: Sendable {
    /// `ok`, or the problems `PRAGMA integrity_check` lists.
    public let integrity: [String]
    /// The tensor blobs whose SHA-256 was recomputed.
    public let blobsChecked: Int
    /// The bytes read to do it.
    public let bytesChecked: Int
    /// Files in the object folder that no blob names (left by a write that was stopped, or by
    /// deletions `gc` has not finished): not damage — `fusebox gc` removes them.
    public let unreferencedObjects: Int
    /// Versions, evaluations, comparisons, ended runs and aliases checked against their digests or history.
    public let recordsChecked: Int
    /// Every item whose bytes no longer match their digest: `MODEL@N tensor 'NAME'`, `MODEL@N spec`,
    /// `MODEL@N safetensors header`, `MODEL@N tensor list (…)`, `evaluation ID (run R)`, `comparison ID (run R)`.
    public let damaged: [String]
    /// True when SQLite's check says `ok` and nothing is damaged.
    public var isHealthy: Bool { integrity == ["ok"] && damaged.isEmpty }
}

/// What `gc` removed (or would remove with a dry run).
public struct GarbageReport: Sendable {
    /// Deleted runs purged.
    public let runs: Int
    /// Tensor blobs no version or artifact names any more, removed.
    public let blobs: Int
    /// Their total size in bytes.
    public let bytes: Int
    /// Files removed from the object folder: the objects of the blobs removed, objects no blob
    /// named (a write that was stopped after writing its object) and stopped writers' temporary files.
    public let files: Int
    /// True when nothing was removed: the counts say what would be.
    public let dryRun: Bool
}
