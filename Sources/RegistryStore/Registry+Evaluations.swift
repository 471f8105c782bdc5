import Foundation
import FusionCore
import GRDB

extension Registry {
    /// Stores an evaluation of a version on a dataset as a finished evaluation run, with its
    /// metrics and per-sample predictions (12 bytes a sample), in one transaction.
    /// - Parameters:
    ///   - reference: the version evaluated (resolved to its number).
    ///   - datasetFingerprint: the data's <doc:/documentation/FusionCore/Dataset/fingerprint> (64 hex digits).
    ///   - modalities: the modalities used, in the model's order.
    ///   - metrics: the metrics by name (non-finite values are not stored).
    ///   - predictions: every sample's label, prediction and true-class probability.
    @discardableResult
    public func recordEvaluation(
        of reference: VersionReference,
        datasetFingerprint: String,
        modalities: [String],
        metrics: [String: Double],
        predictions: SamplePredictions
    ) async throws -> EvaluationRecord {
        guard datasetFingerprint.count == 64 else {
            throw RegistryError(.invalidInput, "A dataset fingerprint is 64 hex digits.")
        }
        let finite = metrics.filter { $0.value.isFinite }
        // The class count rides along with the metrics: it is needed to recompute macro-F1.
        let stored = finite.merging(["class_count": Double(predictions.classCount)]) { $1 }
        let metricsJSON = String(
            decoding: try JSONSerialization.data(withJSONObject: stored, options: [.sortedKeys]),
            as: UTF8.self
        )
        return try await write { db in
            let versionId = try Self.resolve(reference, in: db)
            let run = try Self.insertRun(
                kind: .evaluation,
                model: reference.model,
                version: reference,
                params: [:],
                tags: [:],
                principal: principal,
                in: db
            )
            try Self.insertMetrics(
                run: run,
                finite.sorted { $0.key < $1.key }.map { MetricPoint(key: $0.key, step: 0, value: $0.value) },
                in: db
            )
            let id = try db.insertReturningID(
                sql: """
                    INSERT INTO evaluation (runId, versionId, datasetFingerprint, modalities, sampleCount, metrics, labels, predictedClasses,
                    trueClassProbabilities, createdAt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    run, versionId, datasetFingerprint, modalities.joined(separator: ","), predictions.count,
                    metricsJSON,
                    Self.pack(predictions.labels.map { Int32($0) }),
                    Self.pack(predictions.predictedClasses.map { Int32($0) }),
                    Self.pack(predictions.trueClassProbabilities), Clock.unixSeconds(),
                ]
            )
            try Self.sealEvaluation(id, in: db)
            try Self.finish(run: run, versionId: nil, in: db)
            return try Self.evaluation(id: id, in: db)
        }
    }

    /// The most recent evaluation of a version on a dataset with the same modalities, if any.
    public func findEvaluation(
        of reference: VersionReference,
        datasetFingerprint: String,
        modalities: [String]
    ) async throws -> EvaluationRecord? {
        try await read { db in
            let versionId = try Self.resolve(reference, in: db)
            guard
                let id = try db.fetchOne(
                    Int64.self,
                    sql: """
                        SELECT e.id FROM evaluation e JOIN run r ON r.id = e.runId
                        WHERE e.versionId = ? AND e.datasetFingerprint = ? AND e.modalities = ? AND r.deletedAt IS NULL ORDER BY e.id DESC LIMIT 1
                        """,
                    arguments: [versionId, datasetFingerprint, modalities.joined(separator: ",")]
                )
            else { return nil }
            return try Self.evaluation(id: id, in: db)
        }
    }

    /// Stores a comparison of two evaluations on the same dataset as a finished comparison run.
    @discardableResult
    public func recordComparison(
        a: EvaluationRecord,
        b: EvaluationRecord,
        statistics: PairedComparison,
        allowTrainingData: Bool = false
    ) async throws -> ComparisonRecord {
        guard a.datasetFingerprint == b.datasetFingerprint else {
            throw RegistryError(.invalidInput, "A comparison needs two evaluations on the same dataset.")
        }
        let json = String(decoding: try JSONEncoder().encode(statistics), as: UTF8.self)
        return try await write { db in
            let run = try Self.insertRun(
                kind: .comparison,
                model: b.model,
                version: VersionReference(model: b.model, selector: .number(b.version)),
                params: [
                    "a": .text("\(a.model)@\(a.version)"), "b": .text("\(b.model)@\(b.version)"),
                    "alpha": .number(statistics.alpha),
                    "resamples": .number(Double(statistics.resamples)), "seed": .number(Double(statistics.seed)),
                ]
                .merging(allowTrainingData ? ["allow_training_data": .text("true")] : [:]) { $1 },
                tags: [:],
                principal: principal,
                in: db
            )
            try Self.insertMetrics(
                run: run,
                [
                    MetricPoint(key: "mcnemar_p", step: 0, value: statistics.mcnemarP),
                    MetricPoint(key: "delta_accuracy", step: 0, value: statistics.deltaAccuracy.estimate),
                    MetricPoint(key: "delta_macro_f1", step: 0, value: statistics.deltaMacroF1.estimate),
                    MetricPoint(key: "delta_nll", step: 0, value: statistics.deltaNLL.estimate),
                ],
                in: db
            )
            let id = try db.insertReturningID(
                sql:
                    "INSERT INTO comparison (runId, evaluationA, evaluationB, datasetFingerprint, statistics, verdict, createdAt) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    run, a.id, b.id, a.datasetFingerprint, json, statistics.verdict.rawValue, Clock.unixSeconds(),
                ]
            )
            try Self.sealComparison(id, in: db)
            try Self.finish(run: run, versionId: nil, in: db)
            return ComparisonRecord(
                id: id,
                run: run,
                a: a,
                b: b,
                statistics: statistics,
                createdAt: Clock.unixSeconds()
            )
        }
    }

    // MARK: - Synchronous helpers

    /// A stored evaluation, after checking its digest (metrics and per-sample predictions).
    static func evaluation(id: Int64, in db: any StoreSQL) throws -> EvaluationRecord {
        let row = try db.fetchOne(
            StoreRow.self,
            sql: """
                SELECT e.*, m.name AS model, v.number AS version FROM evaluation e JOIN modelVersion v ON v.id = e.versionId
                JOIN model m ON m.id = v.modelId WHERE e.id = ?
                """,
            arguments: [id]
        )!
        let label =
            "Evaluation \(id) of \(row["model"] as String)@\(row["version"] as Int) (run \(row["runId"] as Int64))"
        guard try isIntact("evaluation", id, in: db) else {
            throw RegistryError(
                .corruptData,
                "\(label) fails its checksum: its metrics or per-sample predictions changed after they were recorded. Run 'fusebox verify'."
            )
        }
        guard let metricsObject = try? JSONSerialization.jsonObject(with: Data((row["metrics"] as String).utf8)),
            var metrics = metricsObject as? [String: Double]
        else {
            throw RegistryError(
                .corruptData,
                "\(label) has metrics that are not a JSON object of numbers. Run 'fusebox verify'."
            )
        }
        let storedClassCount = metrics.removeValue(forKey: "class_count").map { Int($0) }
        let labels: [Int32] = unpack(row["labels"])
        let predicted: [Int32] = unpack(row["predictedClasses"])
        let probabilities: [Float] = unpack(row["trueClassProbabilities"])
        let classCount = storedClassCount ?? Int(max(labels.max() ?? 0, predicted.max() ?? 0)) + 1
        return EvaluationRecord(
            id: id,
            run: row["runId"],
            model: row["model"],
            version: row["version"],
            datasetFingerprint: row["datasetFingerprint"],
            modalities: row["modalities"],
            metrics: metrics,
            predictions: SamplePredictions(
                labels: labels.map(Int.init),
                predictedClasses: predicted.map(Int.init),
                trueClassProbabilities: probabilities,
                classCount: max(classCount, 2)
            ),
            createdAt: row["createdAt"]
        )
    }

    /// Little-endian packing of Int32 / Float32 arrays into a blob.
    static func pack<T: FixedWidthInteger>(_ values: [T]) -> Data {
        Data(values.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) })
    }
    static func pack(_ values: [Float]) -> Data { pack(values.map(\.bitPattern)) }

    static func unpack(_ data: Data) -> [Int32] {
        stride(from: 0, to: data.count - 3, by: 4).map { i in
            Int32(littleEndian: data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: i, as: Int32.self) })
        }
    }

    static func unpack(_ data: Data) -> [Float] {
        let bits: [Int32] = unpack(data)
        return bits.map { Float(bitPattern: UInt32(bitPattern: $0)) }
    }
}
