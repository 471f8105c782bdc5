import Foundation
import FusionCore
import GRDB
import TensorCore

extension Registry {
    /// Creates a model.
    /// - Throws: `alreadyExists` when the name is taken, `invalidInput` for a bad name.
    public func createModel(_ name: String, kind: ModelKind, description: String = "") async throws {
        try Names.validate(name, as: "Model name")
        try await write { db in
            if let existing = try Self.modelRow(name, in: db) {
                // A deleted model of the same kind comes back (numbering on), as MLflow lets a
                // deleted name be created again.
                try db.execute(
                    sql:
                        "UPDATE model SET deletedAt = NULL, description = ? WHERE id = ? AND deletedAt IS NOT NULL AND kind = ?",
                    arguments: [description, existing.id, kind.rawValue]
                )
                guard db.changesCount == 1 else {
                    throw RegistryError(.alreadyExists, "A model named '\(name)' already exists.")
                }
                return
            }
            _ = try Self.insertModel(name, kind: kind, description: description, in: db)
        }
    }

    /// Every model, by name.
    public func models() async throws -> [ModelSummary] {
        try await read { db in try Self.modelSummaries(named: nil, in: db) }
    }

    /// One model's summary.
    public func model(_ name: String) async throws -> ModelSummary {
        try Names.validate(name, as: "Model name")
        return try await read { db in
            guard let summary = try Self.modelSummaries(named: name, in: db).first else {
                throw RegistryError(.notFound, "There is no model named '\(name)'. Run 'fusebox models' to list them.")
            }
            return summary
        }
    }

    /// Models by name, all of them or the one named.
    static func modelSummaries(named name: String?, in db: any StoreSQL) throws -> [ModelSummary] {
        let rows = try db.fetchAll(
            StoreRow.self,
            sql: """
                SELECT m.id, m.name, m.kind, m.description, m.createdAt, m.deletedAt, count(v.id) AS versionCount,
                    max(v.number) AS latest, max(v.createdAt) AS latestAt
                FROM model m LEFT JOIN modelVersion v ON v.modelId = m.id AND v.deletedAt IS NULL
                WHERE CAST(? AS TEXT) IS NULL OR m.name = ? GROUP BY m.id ORDER BY m.name
                """,
            arguments: [name, name]
        )
        return try rows.map { row in
            let id: Int64 = row["id"]
            let aliases = try db.fetchAll(
                StoreRow.self,
                sql:
                    "SELECT a.name, v.number FROM alias a JOIN modelVersion v ON v.id = a.versionId WHERE a.modelId = ?",
                arguments: [id]
            )
            let tags = try db.fetchAll(
                StoreRow.self,
                sql: "SELECT key, value FROM modelTag WHERE modelId = ?",
                arguments: [id]
            )
            var summary = ModelSummary(
                name: row["name"],
                kind: ModelKind(rawValue: row["kind"]) ?? .fused,
                description: row["description"],
                createdAt: row["createdAt"],
                versionCount: row["versionCount"],
                latestVersion: row["latest"],
                aliases: Dictionary(uniqueKeysWithValues: aliases.map { ($0["name"], $0["number"]) })
            )
            summary.tags = Dictionary(uniqueKeysWithValues: tags.map { ($0["key"], $0["value"]) })
            summary.deletedAt = row["deletedAt"]
            summary.updatedAt = max(row["createdAt"], row["latestAt"] ?? 0)
            return summary
        }
    }

    /// Every version of a model, newest first; deleted versions (tombstones) only when asked.
    public func versions(of model: String, includingDeleted: Bool = false) async throws -> [ModelVersion] {
        try Names.validate(model, as: "Model name")
        return try await read { db in
            let modelId = try Self.requireModel(model, in: db).id
            let ids = try db.fetchAll(
                Int64.self,
                sql:
                    "SELECT id FROM modelVersion WHERE modelId = ? \(includingDeleted ? "" : "AND deletedAt IS NULL ")ORDER BY number DESC",
                arguments: [modelId]
            )
            return try ids.map { try Self.version(id: $0, in: db) }
        }
    }

    /// One version.
    public func version(_ reference: VersionReference) async throws -> ModelVersion {
        try await read { db in try Self.version(id: Self.resolve(reference, in: db), in: db) }
    }

    /// The number of the version `reference` names now (an alias is resolved at this moment):
    /// one indexed lookup, for callers that cache loaded versions by number.
    public func versionNumber(_ reference: VersionReference) async throws -> Int {
        try await read { db in
            try db.fetchOne(
                Int.self,
                sql: "SELECT number FROM modelVersion WHERE id = ?",
                arguments: [Self.resolve(reference, in: db)]
            )!
        }
    }

    // MARK: - Synchronous helpers (compose inside one transaction)

    /// The model named `name` (deleted ones included), or nil.
    static func modelRow(
        _ name: String,
        in db: any StoreSQL
    ) throws -> (id: Int64, kind: ModelKind, isDeleted: Bool)? {
        guard
            let row = try db.fetchOne(
                StoreRow.self,
                sql: "SELECT id, kind, deletedAt FROM model WHERE name = ?",
                arguments: [name]
            )
        else { return nil }
        return (row["id"], ModelKind(rawValue: row["kind"]) ?? .fused, row.values[2] != .null)
    }

    static func requireModel(
        _ name: String,
        in db: any StoreSQL
    ) throws -> (id: Int64, kind: ModelKind, isDeleted: Bool) {
        guard let model = try modelRow(name, in: db) else {
            throw RegistryError(
                .notFound,
                "There is no model '\(name)'. Run 'fusebox models' to see the registered models."
            )
        }
        return model
    }

    static func insertModel(_ name: String, kind: ModelKind, description: String, in db: any StoreSQL) throws -> Int64 {
        try db.insertReturningID(
            sql: "INSERT INTO model (name, kind, description, createdAt) VALUES (?, ?, ?, ?)",
            arguments: [name, kind.rawValue, description, Clock.unixSeconds()]
        )
    }

    /// The model's id, creating it with `kind` when absent; an existing model of another kind is a conflict.
    /// A deleted model given a new version comes back, as ``createModel(_:kind:description:)`` brings it.
    static func ensureModel(_ name: String, kind: ModelKind, in db: any StoreSQL) throws -> Int64 {
        if let existing = try modelRow(name, in: db) {
            guard existing.kind == kind else {
                throw RegistryError(
                    .conflict,
                    "Model '\(name)' is a \(existing.kind.rawValue) model; it cannot take a \(kind.rawValue) version."
                )
            }
            if existing.isDeleted {
                try db.execute(sql: "UPDATE model SET deletedAt = NULL WHERE id = ?", arguments: [existing.id])
            }
            return existing.id
        }
        return try insertModel(name, kind: kind, description: "", in: db)
    }

    /// The version id a reference names.
    static func resolve(_ reference: VersionReference, in db: any StoreSQL) throws -> Int64 {
        let modelId = try requireModel(reference.model, in: db).id
        switch reference.selector {
        case .number(let n):
            guard
                let row = try db.fetchOne(
                    StoreRow.self,
                    sql:
                        "SELECT id, deletedAt, deletedBy, deleteReason FROM modelVersion WHERE modelId = ? AND number = ?",
                    arguments: [modelId, n]
                )
            else {
                throw RegistryError(
                    .notFound,
                    "Model '\(reference.model)' has no version \(n). Run 'fusebox versions \(reference.model)'."
                )
            }
            if let deletedAt: Double = row["deletedAt"] {
                let reason: String = row["deleteReason"] ?? ""
                throw RegistryError(
                    .notFound,
                    "\(reference.model)@\(n) was deleted by \(row["deletedBy"] ?? "?") at \(isoDate(deletedAt))\(reason.isEmpty ? "" : " (\(reason))"); see 'fusebox history \(reference.model)'."
                )
            }
            return row["id"]
        case .latest:
            guard
                let id = try db.fetchOne(
                    Int64.self,
                    sql:
                        "SELECT id FROM modelVersion WHERE modelId = ? AND deletedAt IS NULL ORDER BY number DESC LIMIT 1",
                    arguments: [modelId]
                )
            else { throw RegistryError(.notFound, "Model '\(reference.model)' has no versions yet.") }
            return id
        case .alias(let alias):
            guard
                let id = try db.fetchOne(
                    Int64.self,
                    sql: "SELECT versionId FROM alias WHERE modelId = ? AND name = ?",
                    arguments: [modelId, alias]
                )
            else {
                throw RegistryError(
                    .notFound,
                    "Alias '\(alias)' does not exist for model '\(reference.model)'. Run 'fusebox alias list \(reference.model)'."
                )
            }
            return id
        }
    }

    /// A version, after checking its digests (spec, header, tensor list).
    static func version(id: Int64, in db: any StoreSQL) throws -> ModelVersion {
        let row = try db.fetchOne(
            StoreRow.self,
            sql: """
                SELECT v.number, v.spec, v.createdAt, v.trainingRunId, v.principal, v.deletedAt, v.deletedBy, v.deleteReason,
                    v.source, v.description, m.name, m.kind
                FROM modelVersion v JOIN model m ON m.id = v.modelId WHERE v.id = ?
                """,
            arguments: [id]
        )!
        try checkVersion(id, label: "\(row["name"] as String)@\(row["number"] as Int)", in: db)
        var spec: FusionSpec?
        if let json: String = row["spec"] {
            do { spec = try JSONDecoder().decode(FusionSpec.self, from: Data(json.utf8)) } catch {
                throw RegistryError(
                    .corruptData,
                    "The spec of \(row["name"] as String)@\(row["number"] as Int) cannot be read: \(error)."
                )
            }
        }
        let tensors = try db.fetchAll(
            StoreRow.self,
            sql: """
                SELECT t.name, t.dtype, t.shape, b.sha256, b.byteCount FROM versionTensor t JOIN tensorBlob b ON b.id = t.blobId
                WHERE t.versionId = ? ORDER BY t.position
                """,
            arguments: [id]
        ).map { r in
            StoredTensor(
                name: r["name"],
                dtype: .init(rawValue: r["dtype"]) ?? .uint8,
                shape: Self.decodeShape(r["shape"]),
                sha256: r["sha256"],
                byteCount: r["byteCount"]
            )
        }
        let tags = try db.fetchAll(
            StoreRow.self,
            sql: "SELECT key, value FROM modelVersionTag WHERE versionId = ?",
            arguments: [id]
        )
        let datasets = try db.fetchAll(
            StoreRow.self,
            sql: "SELECT role, fingerprint FROM modelVersionDataset WHERE versionId = ?",
            arguments: [id]
        )
        let components = try db.fetchAll(
            StoreRow.self,
            sql: """
                SELECT c.modality, m.name, v.number FROM modelVersionComponent c JOIN modelVersion v ON v.id = c.componentVersionId
                JOIN model m ON m.id = v.modelId WHERE c.versionId = ?
                """,
            arguments: [id]
        )
        let aliases = try db.fetchAll(
            String.self,
            sql: "SELECT name FROM alias WHERE versionId = ? ORDER BY name",
            arguments: [id]
        )
        let run: Int64? = row["trainingRunId"]
        let metrics = try run.map { try latestMetrics(run: $0, in: db) } ?? [:]
        var version = ModelVersion(
            model: row["name"],
            kind: ModelKind(rawValue: row["kind"]) ?? .fused,
            number: row["number"],
            createdAt: row["createdAt"],
            spec: spec,
            tensors: tensors,
            tags: Dictionary(uniqueKeysWithValues: tags.map { ($0["key"], $0["value"]) }),
            trainingRun: run,
            datasets: Dictionary(uniqueKeysWithValues: datasets.map { ($0["role"], $0["fingerprint"]) }),
            components: Dictionary(
                uniqueKeysWithValues: components.map {
                    ($0["modality"], "\($0["name"] as String)@\($0["number"] as Int)")
                }
            ),
            aliases: aliases,
            metrics: metrics,
            principal: row["principal"],
            deletion: (row["deletedAt"] as Double?).map {
                ModelVersion.Deletion(at: $0, by: row["deletedBy"] ?? "", reason: row["deleteReason"] ?? "")
            }
        )
        version.source = row["source"]
        version.description = row["description"]
        return version
    }

    static func decodeShape(_ text: String) -> Shape {
        Shape(
            text.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).split(separator: ",").compactMap {
                Int($0.trimmingCharacters(in: .whitespaces))
            }
        )
    }

    static func encodeShape(_ shape: Shape) -> String {
        "[" + shape.dimensions.map(String.init).joined(separator: ",") + "]"
    }
}
