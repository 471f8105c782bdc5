import FusionCore
import RegistryStore
import TensorCore

/// One version: `fusebox show --format json` and `GET /api/v1/models/{model}/versions/{ref}`.
/// Listings (`fusebox versions`, `GET …/versions`) use the same shape.
public struct VersionJSON: Encodable, Sendable {
    public struct Modality: Encodable, Sendable {
        public let name: String
        public let kind: String
        public let width: Int
        /// What the modality's branch does, in words (``branchDescription(_:of:)``).
        public let branch: String
        /// A cross-fitted branch's own L2 strength λ.
        @NullEncoded public var l2: Double?
    }
    public struct Tensor: Encodable, Sendable {
        public let name: String
        public let dtype: String
        public let shape: [Int]
        public let sha256: String
        public let bytes: Int
    }
    public let model: String
    public let version: Int
    public let kind: String
    public let created: String
    @NullEncoded public var principal: String?
    public let aliases: [String]
    public let tags: [String: String]
    @NullEncoded public var training_run: Int64?
    public let datasets: [String: String]
    public let components: [String: String]
    public let metrics: [String: Double]
    @NullEncoded public var method: String?
    @NullEncoded public var task: String?
    @NullEncoded public var classes: [String]?
    public let modalities: [Modality]
    @NullEncoded public var branch_folds: Int?
    public let tensors: [Tensor]

    public init(_ v: ModelVersion) {
        model = v.model
        version = v.number
        kind = v.kind.rawValue
        created = isoDate(v.createdAt)
        principal = v.principal
        aliases = v.aliases
        tags = v.tags
        training_run = v.trainingRun
        datasets = v.datasets
        components = v.components
        metrics = finite(v.metrics)
        method = v.spec?.method.rawValue
        task = v.spec?.task.rawValue
        classes = v.spec?.classNames
        modalities =
            v.spec.map { spec in
                spec.modalities.map {
                    Modality(
                        name: $0.name,
                        kind: $0.kind.rawValue,
                        width: $0.width,
                        branch: Self.branchDescription($0, of: spec),
                        l2: $0.l2.map(Double.init)
                    )
                }
            } ?? []
        branch_folds = v.spec?.branchFolds
        tensors = v.tensors.map {
            Tensor(
                name: $0.name,
                dtype: $0.dtype.rawValue,
                shape: $0.shape.dimensions,
                sha256: $0.sha256,
                bytes: $0.byteCount
            )
        }
    }

    /// What a modality's branch does, in words: `standardise → logistic regression (λ = 0.00125),
    /// fitted on its own; head on 5-fold out-of-fold probabilities`.
    public static func branchDescription(_ m: ModalitySpec, of spec: FusionSpec) -> String {
        if let folds = spec.branchFolds, let l2 = m.l2 {
            return
                "standardise → logistic regression (λ = \(formatNumber(Double(l2)))), fitted on its own; head on \(folds)-fold out-of-fold probabilities"
        }
        var steps: [String] = []
        if m.standardize { steps.append("standardise") }
        if m.temperature { steps.append("temperature") }
        for layer in m.layers {
            switch layer {
            case .dense(let units): steps.append("Dense(\(units))")
            case .relu: steps.append("relu")
            case .dropout(let rate): steps.append("Dropout(\(rate))")
            case .softmax: steps.append("softmax")
            }
        }
        if m.kind == .probs && steps.isEmpty { steps.append("probabilities as given") }
        return steps.joined(separator: " → ")
    }
}
