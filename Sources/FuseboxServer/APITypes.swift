import Foundation
import FusionCore
import RegistryStore
import TensorCore

/// `GET /api/v1/models`: the keys of `fusebox models --format json`.
struct ModelBody: Encodable {
    let model: String
    let kind: String
    let versions: Int
    let latest: Int?
    let aliases: [String: Int]
    let created: String

    init(_ m: ModelSummary) {
        model = m.name
        kind = m.kind.rawValue
        versions = m.versionCount
        latest = m.latestVersion
        aliases = m.aliases
        created = isoDate(m.createdAt)
    }
}

/// `GET /api/v1/models/{model}/versions/{ref}`: the keys of `fusebox show --format json`.
struct VersionBody: Encodable {
    struct Modality: Encodable {
        let name: String
        let kind: String
        let width: Int
    }
    struct Tensor: Encodable {
        let name: String
        let dtype: String
        let shape: [Int]
        let sha256: String
    }
    let model: String
    let version: Int
    let kind: String
    let created: String
    let aliases: [String]
    let tags: [String: String]
    let training_run: Int64?
    let datasets: [String: String]
    let components: [String: String]
    let metrics: [String: Double]
    let method: String?
    let modalities: [Modality]
    let classes: [String]?
    let tensors: [Tensor]

    init(_ v: ModelVersion) {
        model = v.model
        version = v.number
        kind = v.kind.rawValue
        created = isoDate(v.createdAt)
        aliases = v.aliases
        tags = v.tags
        training_run = v.trainingRun
        datasets = v.datasets
        components = v.components
        metrics = v.metrics.filter { $0.value.isFinite }
        method = v.spec?.method.rawValue
        modalities = v.spec?.modalities.map { Modality(name: $0.name, kind: $0.kind.rawValue, width: $0.width) } ?? []
        classes = v.spec?.classNames
        tensors = v.tensors.map {
            Tensor(name: $0.name, dtype: $0.dtype.rawValue, shape: $0.shape.dimensions, sha256: $0.sha256)
        }
    }
}

/// `POST …/predict`: rows per modality.
struct PredictRequest: Decodable {
    let inputs: [String: [[Float]]]
}

/// The answer to a prediction: the version that answered, class probabilities, and each row's
/// predicted class (its name when the version has class names, else its index).
struct PredictResponse: Encodable {
    let model: String
    let version: Int
    let probabilities: [[Float]]
    let predictions: [PredictedClass]
}

/// A class index, or its name.
enum PredictedClass: Encodable {
    case index(Int)
    case name(String)

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .index(let i): try c.encode(i)
        case .name(let n): try c.encode(n)
        }
    }
}
