import Foundation
import FusionCore
import GRDB

/// A stored evaluation without its per-sample predictions (what a listing shows).
public struct EvaluationSummary: Sendable, Hashable {
    /// The evaluation's id.
    public let id: Int64
    /// The evaluation run that recorded it.
    public let run: Int64
    /// The model evaluated.
    public let model: String
    /// The version evaluated.
    public let version: Int
    /// The <doc:/documentation/FusionCore/Dataset/fingerprint> of the data it was evaluated on.
    public let datasetFingerprint: String
    /// The modalities used, comma-separated in the model's order.
    public let modalities: String
    /// The number of samples.
    public let sampleCount: Int
    /// When it was recorded, in Unix seconds.
    public let createdAt: Double
}

/// A stored comparison, as a listing shows it: which versions, on which data, and the verdict.
public struct ComparisonSummary: Sendable, Hashable {
    /// The comparison's id.
    public let id: Int64
    /// The comparison run that recorded it.
    public let run: Int64
    /// Version A, the reference (`MODEL@N`).
    public let a: String
    /// Version B, the candidate (`MODEL@N`).
    public let b: String
    /// The fingerprint of the data both were evaluated on.
    public let datasetFingerprint: String
    /// Which is better, by McNemar's test.
    public let verdict: PairedComparison.Verdict
    /// When it was recorded, in Unix seconds.
    public let createdAt: Double
}

extension Registry {
    /// Evaluations, newest first (of one model's versions when `model` is given); deleted runs' are left out.
    public func evaluations(of model: String? = nil, limit: Int = 100) async throws -> [EvaluationSummary] {
        if let model { try Names.validate(model, as: "Model name") }
        return try await read { db in
            if let model { _ = try Self.requireModel(model, in: db) }
            return try db.fetchAll(
                StoreRow.self,
                sql: """
                    SELECT e.id, e.runId, m.name, v.number, e.datasetFingerprint, e.modalities, e.sampleCount, e.createdAt
                    FROM evaluation e JOIN run r ON r.id = e.runId JOIN modelVersion v ON v.id = e.versionId JOIN model m ON m.id = v.modelId
                    WHERE r.deletedAt IS NULL AND (CAST(? AS TEXT) IS NULL OR m.name = ?) ORDER BY e.id DESC LIMIT ?
                    """,
                arguments: [model, model, limit]
            ).map {
                EvaluationSummary(
                    id: $0[0],
                    run: $0[1],
                    model: $0[2],
                    version: $0[3],
                    datasetFingerprint: $0[4],
                    modalities: $0[5],
                    sampleCount: $0[6],
                    createdAt: $0[7]
                )
            }
        }
    }

    /// One evaluation with its per-sample predictions (its digest is checked).
    public func evaluation(_ id: Int64) async throws -> EvaluationRecord {
        try await read { db in
            guard
                try db.fetchOne(
                    Int.self,
                    sql:
                        "SELECT 1 FROM evaluation e JOIN run r ON r.id = e.runId WHERE e.id = ? AND r.deletedAt IS NULL",
                    arguments: [id]
                ) != nil
            else { throw RegistryError(.notFound, "There is no evaluation \(id).") }
            return try Self.evaluation(id: id, in: db)
        }
    }

    /// Comparisons, newest first (where either side is a version of `model` when it is given).
    public func comparisons(of model: String? = nil, limit: Int = 100) async throws -> [ComparisonSummary] {
        if let model { try Names.validate(model, as: "Model name") }
        return try await read { db in
            if let model { _ = try Self.requireModel(model, in: db) }
            return try db.fetchAll(
                StoreRow.self,
                sql: """
                    SELECT c.id, c.runId, ma.name || '@' || va.number, mb.name || '@' || vb.number, c.datasetFingerprint, c.verdict, c.createdAt
                    FROM comparison c JOIN run r ON r.id = c.runId
                    JOIN evaluation ea ON ea.id = c.evaluationA JOIN modelVersion va ON va.id = ea.versionId JOIN model ma ON ma.id = va.modelId
                    JOIN evaluation eb ON eb.id = c.evaluationB JOIN modelVersion vb ON vb.id = eb.versionId JOIN model mb ON mb.id = vb.modelId
                    WHERE r.deletedAt IS NULL AND (CAST(? AS TEXT) IS NULL OR ma.name = ? OR mb.name = ?) ORDER BY c.id DESC LIMIT ?
                    """,
                arguments: [model, model, model, limit]
            ).map {
                ComparisonSummary(
                    id: $0[0],
                    run: $0[1],
                    a: $0[2],
                    b: $0[3],
                    datasetFingerprint: $0[4],
                    verdict: PairedComparison.Verdict(rawValue: $0[5]) ?? .noDifference,
                    createdAt: $0[6]
                )
            }
        }
    }

    /// One comparison with both evaluations and its statistics (every digest is checked).
    public func comparison(_ id: Int64) async throws -> ComparisonRecord {
        try await read { db in
            guard
                let row = try db.fetchOne(
                    StoreRow.self,
                    sql: """
                        SELECT c.runId, c.evaluationA, c.evaluationB, c.statistics, c.createdAt FROM comparison c
                        JOIN run r ON r.id = c.runId WHERE c.id = ? AND r.deletedAt IS NULL
                        """,
                    arguments: [id]
                )
            else { throw RegistryError(.notFound, "There is no comparison \(id).") }
            guard try Self.isIntact("comparison", id, in: db) else {
                throw RegistryError(
                    .corruptData,
                    "Comparison \(id) fails its checksum: its statistics changed after they were recorded. Run 'fusebox verify'."
                )
            }
            let statistics: PairedComparison
            do {
                statistics = try JSONDecoder().decode(PairedComparison.self, from: Data((row[3] as String).utf8))
            } catch {
                throw RegistryError(.corruptData, "Comparison \(id)'s statistics cannot be read: \(error)")
            }
            return ComparisonRecord(
                id: id,
                run: row[0],
                a: try Self.evaluation(id: row[1], in: db),
                b: try Self.evaluation(id: row[2], in: db),
                statistics: statistics,
                createdAt: row[4]
            )
        }
    }
}
