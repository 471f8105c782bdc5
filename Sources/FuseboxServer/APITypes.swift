import Foundation
import FusionCore
import RegistryStore

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

/// `POST /api/v1/runs`: a training run (evaluations and comparisons are recorded whole by the
/// registry's workflows, never assembled by a client).
struct RunCreateRequest: Decodable {
    let model: String?
    /// `MODEL@REF` or a version number of `model`.
    let version: String?
    let params: [String: ParamInput]?
    let tags: [String: String]?
}

/// A param as JSON gives it: text or a number.
struct ParamInput: Decodable {
    let value: ParamValue

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let number = try? c.decode(Double.self) {
            value = .number(number)
        } else {
            value = .text(try c.decode(String.self))
        }
    }
}

/// `POST /api/v1/runs/{id}/metrics`: a batch, written in one transaction.
struct MetricsRequest: Decodable {
    struct Point: Decodable {
        let key: String
        let value: Double
        let step: Int?
        /// Milliseconds since 1970; now when absent.
        let time: Int64?
    }
    let metrics: [Point]
}

/// `POST /api/v1/runs/{id}/params`.
struct ParamsRequest: Decodable {
    let params: [String: ParamInput]
}

/// `POST /api/v1/runs/{id}/tags`.
struct TagsRequest: Decodable {
    let tags: [String: String]
}

/// `POST /api/v1/runs/{id}/finish`: `finished` (the default) or `failed` with a reason.
struct FinishRequest: Decodable {
    let status: RunStatus?
    let reason: String?
}

/// `PUT /api/v1/models/{model}/aliases/{alias}`.
struct AliasSetRequest: Decodable {
    let version: Int
    let reason: String?
}

/// `POST /api/v1/models/{model}/aliases/{alias}/promote`: the candidate, the labelled data both
/// versions are judged on, and the gate (the CLI's defaults when absent).
struct PromoteRequest: Decodable {
    let version: Int
    let inputs: [String: [[Float]]]
    let labels: [Int]
    let require: String?
    let metric: String?
    let margin: Double?
    let alpha: Double?
    let bootstrap: Int?
    let seed: UInt64?
    let force: Bool?
    let allow_training_data: Bool?
}

/// `POST /api/v1/models/{model}/aliases/{alias}/rollback`.
struct ReasonRequest: Decodable {
    let reason: String?
}

/// `POST /api/v1/tokens`.
struct TokenCreateRequest: Decodable {
    let name: String
    /// `read`, `write` or `admin`.
    let scope: String
}
