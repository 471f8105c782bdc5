import Foundation
import GRDB
import TensorIO

/// What `fusebox import mlflow` did: counts by kind, and every skipped item with the reason.
public struct MLflowImportReport: Sendable, Hashable {
    /// How many items of one kind were imported, found already present, or skipped.
    public struct Counts: Sendable, Hashable {
        /// Added to the store.
        public var imported = 0
        /// Already in the store from an earlier import (nothing added).
        public var present = 0
        /// Not imported (each with a line in `notes`).
        public var skipped = 0
    }

    /// Experiments.
    public var experiments = Counts()
    /// Runs.
    public var runs = Counts()
    /// Metric values of the runs imported.
    public var metricValues = 0
    /// Artifacts of the runs imported.
    public var artifacts = 0
    /// Registered models.
    public var models = Counts()
    /// Model versions.
    public var versions = Counts()
    /// Aliases.
    public var aliases = Counts()
    /// One line per skipped item or value: what and why.
    public var notes: [String] = []
}

extension Registry {
    /// Reads an MLflow SQLite tracking database (MLflow 2.x or 3.x; refused when a table or column it
    /// reads is missing) and its artifact folder, and imports experiments, runs (params, tags, every
    /// metric value), artifacts, registered models, versions whose source is one tensor file, and
    /// aliases. Idempotent: runs are keyed by their MLflow run id, versions by model, number and
    /// creation time, experiments and models by name. One transaction per experiment and per model.
    public func importMLflow(database path: String, artifacts root: String? = nil) async throws -> MLflowImportReport {
        let source = try MLflowStore(path: path, artifacts: root)
        var report = MLflowImportReport()
        var runs = ImportedRuns()
        for experiment in try source.experiments() {
            (runs, report) = try await write { [runs, report, blobs] db in
                var (ids, partial) = (runs, report)
                try Self.importExperiment(
                    experiment,
                    from: source,
                    runs: &ids,
                    report: &partial,
                    blobs: blobs,
                    in: db
                )
                return (ids, partial)
            }
        }
        for model in try source.models() {
            report = try await write { [runs, report, principal, blobs] db in
                var partial = report
                try Self.importModel(
                    model,
                    from: source,
                    runs: runs,
                    principal: principal,
                    report: &partial,
                    blobs: blobs,
                    in: db
                )
                return partial
            }
        }
        return report
    }

    /// The runs imported so far (or found from an earlier import): Fusebox ids by MLflow run id,
    /// and the store's artifact folder of each run's local artifact folder.
    struct ImportedRuns: Sendable {
        var ids: [String: Int64] = [:]
        var artifactRoots: [String: String] = [:]

        /// `mlflow-artifacts:/…` for a local path under an imported run's artifact folder.
        func storeURI(ofLocal path: String) -> String? {
            for (folder, root) in artifactRoots where path == folder || path.hasPrefix(folder + "/") {
                return "mlflow-artifacts:/\(root)\(path.dropFirst(folder.count))"
            }
            return nil
        }
    }

    static func importExperiment(
        _ experiment: MLflowStore.Experiment,
        from source: MLflowStore,
        runs imported: inout ImportedRuns,
        report: inout MLflowImportReport,
        blobs: TensorBlobs,
        in db: any StoreSQL
    ) throws {
        // MLflow's Default (0) is Fusebox's Default; others match by name.
        let id: Int64
        if experiment.id == 0 {
            id = 0
            report.experiments.present += 1
        } else if let existing = try db.fetchOne(
            Int64.self,
            sql: "SELECT id FROM experiment WHERE name = ?",
            arguments: [experiment.name]
        ) {
            id = existing
            report.experiments.present += 1
        } else {
            try validateExperimentName(experiment.name)
            id = try db.insertReturningID(
                sql: "INSERT INTO experiment (name, createdAt, updatedAt, deletedAt) VALUES (?, ?, ?, ?)",
                arguments: [
                    experiment.name, experiment.createdAt, experiment.updatedAt,
                    experiment.deleted ? experiment.updatedAt : nil,
                ]
            )
            for (key, value) in experiment.tags.sorted(by: { $0.key < $1.key }) {
                try db.execute(
                    sql: "INSERT INTO experimentTag (experimentId, key, value) VALUES (?, ?, ?)",
                    arguments: [id, key, value]
                )
            }
            report.experiments.imported += 1
        }
        for run in try source.runs(ofExperiment: experiment.id) {
            if let existing = try db.fetchOne(
                StoreRow.self,
                sql: "SELECT id, experimentId FROM run WHERE externalId = ?",
                arguments: [run.uuid]
            ) {
                imported.ids[run.uuid] = existing["id"]
                if let folder = source.artifactFolder(run.artifactURI) {
                    imported.artifactRoots[folder] =
                        "\(existing["experimentId"] as Int64)/\(existing["id"] as Int64)/artifacts"
                }
                report.runs.present += 1
                continue
            }
            guard let (status, failure) = run.fuseboxStatus else {
                report.runs.skipped += 1
                report.notes.append(
                    "run \(run.uuid) ('\(run.name)'): still \(run.status) in MLflow; import again once it ends"
                )
                continue
            }
            let runId = try db.insertReturningID(
                sql: """
                    INSERT INTO run (kind, status, startedAt, endedAt, failure, principal, experimentId, name, externalId, deletedAt)
                    VALUES ('training', ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    status, run.startedAt, max(run.endedAt ?? run.startedAt, run.startedAt), failure, run.user, id,
                    run.name.isEmpty ? nil : run.name, run.uuid, run.deletedAt,
                ]
            )
            imported.ids[run.uuid] = runId
            try db.insertRows(
                "INSERT INTO runParam (runId, key, value, number)",
                try source.params(of: run.uuid).map { key, value in
                    ([runId, key, value, Double(value)] as StoreArguments).values
                }
            )
            try db.insertRows(
                "INSERT INTO runTag (runId, key, value)",
                try source.tags(of: run.uuid).filter { $0.0 != "mlflow.runName" }.map { key, value in
                    ([runId, key, value] as StoreArguments).values
                }
            )
            let (points, dropped) = try source.metrics(of: run.uuid)
            try insertMetrics(run: runId, points, in: db)
            report.metricValues += points.count
            if dropped > 0 {
                report.notes.append(
                    "run \(run.uuid): \(dropped) metric value(s) not imported (NaN, infinite, a negative step, or an earlier value at a step that has a later one)"
                )
            }
            if let folder = source.artifactFolder(run.artifactURI) {
                let prefix = "\(id)/\(runId)/artifacts"
                imported.artifactRoots[folder] = prefix
                for file in MLflowStore.files(under: folder) {
                    try storeArtifact("\(prefix)/\(file)", fromFile: "\(folder)/\(file)", blobs: blobs, in: db)
                    report.artifacts += 1
                }
            } else if !run.artifactURI.isEmpty {
                report.notes.append(
                    "run \(run.uuid): artifacts at '\(run.artifactURI)' not found; pass --artifacts DIR"
                )
            }
            try sealRunIfEnded(runId, in: db)
            report.runs.imported += 1
        }
    }

    static func importModel(
        _ model: MLflowStore.Model,
        from source: MLflowStore,
        runs: ImportedRuns,
        principal: String,
        report: inout MLflowImportReport,
        blobs: TensorBlobs,
        in db: any StoreSQL
    ) throws {
        do { try Names.validate(model.name, as: "Model name") } catch let error as RegistryError {
            report.models.skipped += 1
            report.notes.append("registered model '\(model.name)': \(error.message)")
            return
        }
        let modelId: Int64
        if let existing = try modelRow(model.name, in: db) {
            guard existing.kind == .component else {
                report.models.skipped += 1
                report.notes.append("registered model '\(model.name)': a fused Fusebox model has that name")
                return
            }
            modelId = existing.id
            report.models.present += 1
        } else {
            modelId = try insertModel(model.name, kind: .component, description: model.description, in: db)
            for (key, value) in model.tags.sorted(by: { $0.key < $1.key }) {
                try db.execute(
                    sql: "INSERT INTO modelTag (modelId, key, value) VALUES (?, ?, ?)",
                    arguments: [modelId, key, value]
                )
            }
            report.models.imported += 1
        }
        var numbers: [Int: Int] = [:]
        for version in try source.versions(of: model.name) {
            let key = "mlflow:\(model.name)/\(version.number)@\(version.createdMilliseconds)"
            if let existing = try db.fetchOne(
                Int.self,
                sql: "SELECT number FROM modelVersion WHERE externalId = ?",
                arguments: [key]
            ) {
                numbers[version.number] = existing
                report.versions.present += 1
                continue
            }
            let label = "version \(version.number) of '\(model.name)'"
            guard let folder = source.versionFolder(version) else {
                report.versions.skipped += 1
                report.notes.append("\(label): its source '\(version.source)' is not a folder or file found on disk")
                continue
            }
            let tensors = (folder.file.map { [$0] } ?? MLflowStore.files(under: folder.path)).filter {
                $0.hasSuffix(".safetensors") || $0.hasSuffix(".npy")
            }
            guard tensors.count == 1 else {
                report.versions.skipped += 1
                report.notes.append(
                    "\(label): \(tensors.isEmpty ? "holds no .safetensors or .npy file" : "holds \(tensors.count) tensor files"); Fusebox registers one tensor file"
                )
                continue
            }
            let staging = NSTemporaryDirectory() + "fusebox-import-\(UUID().uuidString).safetensors"
            defer { try? FileManager.default.removeItem(atPath: staging) }
            let file = try tensorFileAsSafetensors(folder.path + "/" + tensors[0], staging: staging)
            let (versionId, number) = try insertComponent(
                SafetensorsFile(path: file),
                modelId: modelId,
                tags: version.tags,
                trainingRun: version.runUUID.flatMap { runs.ids[$0] },
                // Where its files now are, when they came with an imported run's artifacts.
                source: runs.storeURI(ofLocal: folder.path + (folder.file.map { "/\($0)" } ?? "")) ?? version.source,
                description: version.description,
                principal: version.user ?? principal,
                blobs: blobs,
                in: db
            )
            try db.execute(
                sql: "UPDATE modelVersion SET externalId = ?, createdAt = ? WHERE id = ?",
                arguments: [key, Double(version.createdMilliseconds) / 1000, versionId]
            )
            try sealVersion(versionId, in: db)
            numbers[version.number] = number
            if number != version.number {
                report.notes.append("\(label) is Fusebox version \(number) (earlier versions were not imported)")
            }
            report.versions.imported += 1
        }
        // MLflow aliases, then stages: a version in Production or Staging gets that alias, unless
        // an MLflow alias of the same name exists.
        var aliases = try source.aliases(of: model.name)
        for version in try source.versions(of: model.name) where ["Production", "Staging"].contains(version.stage) {
            let name = version.stage.lowercased()
            if aliases[name] == nil { aliases[name] = version.number }
        }
        for (alias, mlflowNumber) in aliases.sorted(by: { $0.key < $1.key }) {
            guard let number = numbers[mlflowNumber] else {
                report.aliases.skipped += 1
                report.notes.append("alias '\(alias)' of '\(model.name)': version \(mlflowNumber) was not imported")
                continue
            }
            do { try Names.validateAlias(alias) } catch let error as RegistryError {
                report.aliases.skipped += 1
                report.notes.append("alias '\(alias)' of '\(model.name)': \(error.message)")
                continue
            }
            let current = try db.fetchOne(
                Int.self,
                sql:
                    "SELECT v.number FROM alias a JOIN modelVersion v ON v.id = a.versionId WHERE a.modelId = ? AND a.name = ?",
                arguments: [modelId, alias]
            )
            if current == number {
                report.aliases.present += 1
                continue
            }
            _ = try moveAlias(
                alias,
                model: model.name,
                to: .number(number),
                action: nil,
                reason: "imported from MLflow",
                comparison: nil,
                forced: false,
                principal: principal,
                in: db
            )
            report.aliases.imported += 1
        }
    }

    /// A `.safetensors` file as it is, or a `.npy` array written to `staging` as a safetensors
    /// file with one tensor named after the file.
    static func tensorFileAsSafetensors(_ path: String, staging: String) throws -> String {
        guard path.hasSuffix(".npy") else { return path }
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        try SafetensorsWriter.write([(name, try NumPyArray.read(path: path))], toPath: staging)
        return staging
    }
}
