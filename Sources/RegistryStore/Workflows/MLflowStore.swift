import Foundation
import GRDB

/// An MLflow SQLite tracking database opened read-only, with its artifact folder: what
/// ``Registry/importMLflow(database:artifacts:)`` reads. Only tables and columns that MLflow 2.x
/// and 3.x share are read; a database lacking one is refused, naming it and its Alembic revision.
struct MLflowStore {
    let queue: DatabaseQueue
    /// Where `mlflow-artifacts:/…` URIs point (`mlflow server --artifacts-destination`).
    let artifacts: String?

    static let required: [String: [String]] = [
        "experiments": ["experiment_id", "name", "lifecycle_stage", "creation_time", "last_update_time"],
        "experiment_tags": ["key", "value", "experiment_id"],
        "runs": [
            "run_uuid", "name", "user_id", "status", "start_time", "end_time", "lifecycle_stage", "artifact_uri",
            "experiment_id",
        ],
        "params": ["key", "value", "run_uuid"],
        "tags": ["key", "value", "run_uuid"],
        "metrics": ["key", "value", "timestamp", "run_uuid", "step", "is_nan"],
        "registered_models": ["name", "creation_time", "description"],
        "registered_model_tags": ["key", "value", "name"],
        "model_versions": [
            "name", "version", "creation_time", "description", "user_id", "current_stage", "source", "run_id",
        ],
        "model_version_tags": ["key", "value", "name", "version"],
        "registered_model_aliases": ["alias", "version", "name"],
    ]

    init(path: String, artifacts: String?) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw RegistryError(.notFound, "There is no MLflow database at '\(path)'.")
        }
        var configuration = Configuration()
        configuration.readonly = true
        do { queue = try DatabaseQueue(path: path, configuration: configuration) } catch {
            throw RegistryError(.invalidInput, "'\(path)' cannot be opened as an SQLite database: \(error).")
        }
        self.artifacts = artifacts
        try queue.read { db in
            guard try db.tableExists("alembic_version"), try db.tableExists("experiments") else {
                throw RegistryError(
                    .invalidInput,
                    "'\(path)' is not an MLflow tracking database (no alembic_version or experiments table)."
                )
            }
            let revision = try String.fetchOne(db, sql: "SELECT version_num FROM alembic_version") ?? "?"
            for (table, columns) in Self.required.sorted(by: { $0.key < $1.key }) {
                guard try db.tableExists(table) else {
                    throw RegistryError(
                        .invalidInput,
                        "'\(path)' is an MLflow database this import does not understand (Alembic revision \(revision)): it has no '\(table)' table. Upgrade it with 'mlflow db upgrade' (MLflow 2.3 or later)."
                    )
                }
                let present = Set(try db.columns(in: table).map(\.name))
                if let missing = columns.first(where: { !present.contains($0) }) {
                    throw RegistryError(
                        .invalidInput,
                        "'\(path)' is an MLflow database this import does not understand (Alembic revision \(revision)): '\(table)' has no '\(missing)' column."
                    )
                }
            }
        }
    }

    struct Experiment {
        let id: Int64
        let name: String
        let deleted: Bool
        let createdAt: Double
        let updatedAt: Double
        let tags: [String: String]
    }

    func experiments() throws -> [Experiment] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM experiments ORDER BY experiment_id").map { row in
                let id: Int64 = row["experiment_id"]
                let tags = try Row.fetchAll(
                    db,
                    sql: "SELECT key, value FROM experiment_tags WHERE experiment_id = ?",
                    arguments: [id]
                )
                let created = Double(row["creation_time"] as Int64? ?? 0) / 1000
                return Experiment(
                    id: id,
                    name: row["name"],
                    deleted: row["lifecycle_stage"] == "deleted",
                    createdAt: created,
                    updatedAt: Double(row["last_update_time"] as Int64? ?? 0) / 1000,
                    tags: Dictionary(tags.map { ($0["key"], $0["value"] ?? "") }, uniquingKeysWith: { _, last in last })
                )
            }
        }
    }

    struct Run {
        let uuid: String
        let name: String
        let user: String?
        let status: String
        let startedAt: Double
        let endedAt: Double?
        let deletedAt: Double?
        let artifactURI: String

        /// Fusebox's status and failure reason; nil while the run is still running or scheduled.
        var fuseboxStatus: (String, String?)? {
            switch status {
            case "FINISHED": ("finished", nil)
            case "FAILED": ("failed", "failed")
            case "KILLED": ("failed", "killed")
            default: nil
            }
        }
    }

    func runs(ofExperiment experiment: Int64) throws -> [Run] {
        try queue.read { db in
            let hasDeletedTime = try db.columns(in: "runs").contains { $0.name == "deleted_time" }
            return try Row.fetchAll(
                db,
                sql: "SELECT * FROM runs WHERE experiment_id = ? ORDER BY start_time, run_uuid",
                arguments: [experiment]
            ).map { row in
                let started = Double(row["start_time"] as Int64? ?? 0) / 1000
                let deleted = (row["lifecycle_stage"] as String?) == "deleted"
                let deletedTime = hasDeletedTime ? (row["deleted_time"] as Int64?).map { Double($0) / 1000 } : nil
                return Run(
                    uuid: row["run_uuid"],
                    name: row["name"] ?? "",
                    user: row["user_id"],
                    status: row["status"] ?? "FINISHED",
                    startedAt: started,
                    endedAt: (row["end_time"] as Int64?).map { Double($0) / 1000 },
                    deletedAt: deleted ? deletedTime ?? started : nil,
                    artifactURI: row["artifact_uri"] ?? ""
                )
            }
        }
    }

    func params(of run: String) throws -> [(String, String)] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT key, value FROM params WHERE run_uuid = ? ORDER BY key", arguments: [run])
                .map { ($0["key"], $0["value"] ?? "") }
        }
    }

    func tags(of run: String) throws -> [(String, String)] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT key, value FROM tags WHERE run_uuid = ? ORDER BY key", arguments: [run])
                .map { ($0["key"], $0["value"] ?? "") }
        }
    }

    /// Every metric value Fusebox can hold (finite, step ≥ 0; at a step logged twice, the later
    /// value), and how many were left out.
    func metrics(of run: String) throws -> ([MetricPoint], dropped: Int) {
        try queue.read { db in
            var points: [String: MetricPoint] = [:]
            var dropped = 0
            let rows = try Row.fetchCursor(
                db,
                sql:
                    "SELECT key, value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ? ORDER BY key, step, timestamp",
                arguments: [run]
            )
            while let row = try rows.next() {
                let value: Double = row["value"]
                let step: Int64 = row["step"]
                guard !(row["is_nan"] as Bool), value.isFinite, step >= 0, let step = Int(exactly: step) else {
                    dropped += 1
                    continue
                }
                let key: String = row["key"]
                if points["\(key)\u{0}\(step)"] != nil { dropped += 1 }
                points["\(key)\u{0}\(step)"] = MetricPoint(key: key, step: step, value: value, time: row["timestamp"])
            }
            return (points.values.sorted { ($0.key, $0.step) < ($1.key, $1.step) }, dropped)
        }
    }

    struct Model {
        let name: String
        let description: String
        let tags: [String: String]
    }

    func models() throws -> [Model] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT name, description FROM registered_models ORDER BY name").map { row in
                let name: String = row["name"]
                let tags = try Row.fetchAll(
                    db,
                    sql: "SELECT key, value FROM registered_model_tags WHERE name = ?",
                    arguments: [name]
                )
                return Model(
                    name: name,
                    description: row["description"] ?? "",
                    tags: Dictionary(tags.map { ($0["key"], $0["value"] ?? "") }, uniquingKeysWith: { _, last in last })
                )
            }
        }
    }

    struct Version {
        let number: Int
        let createdMilliseconds: Int64
        let description: String
        let user: String?
        let stage: String
        let source: String
        let runUUID: String?
        let tags: [String: String]
    }

    func versions(of model: String) throws -> [Version] {
        try queue.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM model_versions WHERE name = ? ORDER BY version",
                arguments: [model]
            ).map { row in
                let number: Int = row["version"]
                let tags = try Row.fetchAll(
                    db,
                    sql: "SELECT key, value FROM model_version_tags WHERE name = ? AND version = ?",
                    arguments: [model, number]
                )
                let run: String? = row["run_id"]
                return Version(
                    number: number,
                    createdMilliseconds: row["creation_time"] ?? 0,
                    description: row["description"] ?? "",
                    user: (row["user_id"] as String?).flatMap { $0.isEmpty ? nil : $0 },
                    stage: row["current_stage"] ?? "None",
                    source: row["source"] ?? "",
                    runUUID: run.flatMap { $0.isEmpty ? nil : $0 },
                    tags: Dictionary(tags.map { ($0["key"], $0["value"] ?? "") }, uniquingKeysWith: { _, last in last })
                )
            }
        }
    }

    func aliases(of model: String) throws -> [String: Int] {
        try queue.read { db in
            Dictionary(
                try Row.fetchAll(
                    db,
                    sql: "SELECT alias, version FROM registered_model_aliases WHERE name = ?",
                    arguments: [model]
                )
                .map { ($0["alias"], $0["version"]) },
                uniquingKeysWith: { _, last in last }
            )
        }
    }

    /// The local folder an artifact URI names, if it exists: `file://…` or a plain path as is,
    /// `mlflow-artifacts:/P` under ``artifacts``.
    func artifactFolder(_ uri: String) -> String? {
        let path: String
        if uri.hasPrefix("mlflow-artifacts:") {
            guard let artifacts else { return nil }
            path = artifacts + "/" + uri.dropFirst("mlflow-artifacts:".count).drop { $0 == "/" }
        } else if uri.hasPrefix("file://") {
            path = URL(string: uri)?.path ?? String(uri.dropFirst("file://".count))
        } else if uri.hasPrefix("/") {
            path = uri
        } else {
            return nil
        }
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
            ? path : nil
    }

    /// The folder a version's source names (with the file, when it names one file):
    /// `runs:/UUID/PATH` under the run's artifact folder, or an artifact URI.
    func versionFolder(_ version: Version) -> (path: String, file: String?)? {
        var uri = version.source
        if uri.hasPrefix("runs:/") {
            let rest = uri.dropFirst("runs:/".count).split(separator: "/", maxSplits: 1).map(String.init)
            guard let run = rest.first,
                let runURI = try? queue.read({ db in
                    try String.fetchOne(db, sql: "SELECT artifact_uri FROM runs WHERE run_uuid = ?", arguments: [run])
                })
            else { return nil }
            uri = rest.count == 2 ? "\(runURI)/\(rest[1])" : runURI
        }
        if let folder = artifactFolder(uri) { return (folder, nil) }
        // A source naming one file: its folder, if the file is a tensor file.
        let parent = (uri as NSString).deletingLastPathComponent
        if let folder = artifactFolder(parent) {
            let name = (uri as NSString).lastPathComponent
            return FileManager.default.fileExists(atPath: folder + "/" + name) ? (folder, name) : nil
        }
        return nil
    }

    /// Every regular file under `folder`, as paths relative to it, sorted.
    static func files(under folder: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return [] }
        var files: [String] = []
        while let next = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder + "/" + next, isDirectory: &isDirectory),
                !isDirectory.boolValue
            {
                files.append(next)
            }
        }
        return files.sorted()
    }
}
