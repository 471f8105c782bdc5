import Foundation
import RegistryStore

/// MLflow's JSON shapes (its protobuf messages as its server writes them), built from Fusebox's
/// records. Times are Unix milliseconds; ids are text.
enum MLflowJSON {
    struct Tag: Encodable {
        let key: String
        let value: String
    }

    static func tags(_ dictionary: [String: String]) -> [Tag] {
        dictionary.sorted { $0.key < $1.key }.map { Tag(key: $0.key, value: $0.value) }
    }

    static func milliseconds(_ seconds: Double) -> Int64 { Int64((seconds * 1000).rounded()) }

    struct Experiment: Encodable {
        let experiment_id: String
        let name: String
        let artifact_location: String
        let lifecycle_stage: String
        let creation_time: Int64
        let last_update_time: Int64
        let tags: [Tag]

        init(_ e: RegistryStore.Experiment) {
            experiment_id = String(e.id)
            name = e.name
            artifact_location = "mlflow-artifacts:/\(e.id)"
            lifecycle_stage = e.deletedAt == nil ? "active" : "deleted"
            creation_time = milliseconds(e.createdAt)
            last_update_time = milliseconds(e.updatedAt)
            tags = MLflowJSON.tags(e.tags)
        }
    }

    struct RunInfo: Encodable {
        let run_id: String
        let run_uuid: String
        let run_name: String
        let experiment_id: String
        let user_id: String
        let status: String
        let start_time: Int64
        let end_time: Int64?
        let artifact_uri: String
        let lifecycle_stage: String

        init(_ run: RunSummary) {
            run_id = String(run.id)
            run_uuid = run_id
            run_name = run.name ?? ""
            experiment_id = String(run.experimentId)
            user_id = run.principal ?? ""
            status = MLflowJSON.status(run)
            start_time = milliseconds(run.startedAt)
            end_time = run.endedAt.map(milliseconds)
            artifact_uri = MLflowJSON.artifactURI(run)
            lifecycle_stage = run.deletedAt == nil ? "active" : "deleted"
        }
    }

    /// MLflow's status for a run: a failed run whose reason is `killed` was killed.
    static func status(_ run: RunSummary) -> String {
        switch run.status {
        case .running: "RUNNING"
        case .finished: "FINISHED"
        case .failed: run.failure == killed ? "KILLED" : "FAILED"
        }
    }

    /// The failure reason recorded for MLflow's `KILLED`.
    static let killed = "killed"

    /// Where a run's artifacts live: `mlflow-artifacts:/EXPERIMENT/RUN/artifacts`.
    static func artifactURI(_ run: RunSummary) -> String {
        "mlflow-artifacts:/\(artifactRoot(experiment: run.experimentId, run: run.id))"
    }

    static func artifactRoot(experiment: Int64, run: Int64) -> String { "\(experiment)/\(run)/artifacts" }

    struct Metric: Encodable {
        let key: String
        let value: Double
        let timestamp: Int64
        let step: Int64
    }

    struct RunData: Encodable {
        let metrics: [Metric]
        let params: [Tag]
        let tags: [Tag]
    }

    struct Inputs: Encodable {}

    struct Run: Encodable {
        let info: RunInfo
        let data: RunData
        let inputs = Inputs()

        init(_ run: RunSummary) {
            info = RunInfo(run)
            var tags = run.tags
            if let name = run.name { tags["mlflow.runName"] = name }
            let time = milliseconds(run.endedAt ?? run.startedAt)
            data = RunData(
                metrics: run.metrics.sorted { $0.key < $1.key }.map {
                    Metric(key: $0.key, value: $0.value, timestamp: time, step: 0)
                },
                params: MLflowJSON.tags(run.params),
                tags: MLflowJSON.tags(tags)
            )
        }
    }

    struct AliasEntry: Encodable {
        let alias: String
        let version: String
    }

    struct ModelVersion: Encodable {
        let name: String
        let version: String
        let creation_timestamp: Int64
        let last_updated_timestamp: Int64
        let current_stage = "None"
        let description: String
        let source: String
        let run_id: String
        let status = "READY"
        let tags: [Tag]
        let aliases: [String]
        let run_link = ""

        init(_ v: RegistryStore.ModelVersion) {
            name = v.model
            version = String(v.number)
            creation_timestamp = milliseconds(v.createdAt)
            last_updated_timestamp = creation_timestamp
            description = v.description
            source = v.source ?? "models:/\(v.model)/\(v.number)"
            run_id = v.trainingRun.map(String.init) ?? ""
            tags = MLflowJSON.tags(v.tags)
            aliases = v.aliases
        }
    }

    struct RegisteredModel: Encodable {
        let name: String
        let creation_timestamp: Int64
        let last_updated_timestamp: Int64
        let description: String
        let latest_versions: [ModelVersion]
        let tags: [Tag]
        let aliases: [AliasEntry]

        init(_ m: ModelSummary, latest: RegistryStore.ModelVersion?) {
            name = m.name
            creation_timestamp = milliseconds(m.createdAt)
            last_updated_timestamp = milliseconds(m.updatedAt)
            description = m.description
            latest_versions = latest.map { [ModelVersion($0)] } ?? []
            tags = MLflowJSON.tags(m.tags)
            aliases = m.aliases.sorted { $0.key < $1.key }.map { AliasEntry(alias: $0.key, version: String($0.value)) }
        }
    }

    struct FileInfo: Encodable {
        let path: String
        let is_dir: Bool
        let file_size: Int?
    }
}
