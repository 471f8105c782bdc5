import Foundation
import FuseboxTestSupport
import FusionCore
import GRDB
import TensorCore
import TensorIO
import Testing

@testable import RegistryStore

/// Every stored byte an output depends on is covered by a digest that loads and `verify` check;
/// history is append-only; version numbers are never given twice.
struct IntegrityTests {
    /// A store with a fused version, a registered component file (with metadata in its header), an
    /// evaluation of each fused version and a comparison between them.
    func populatedStore() async throws -> (Registry, DatabaseQueue, TemporaryDirectory) {
        let queue = try DatabaseQueue()
        let registry = try Registry(queue, logger: quietLogger)
        try await registry.registerVersion(model: "fusion", classifier: smallClassifier(weights: [0.1, 0.2]))
        try await registry.registerVersion(model: "fusion", classifier: smallClassifier(weights: [0.5, 0.1]))
        let dir = TemporaryDirectory()
        let path = dir.file("bert.safetensors")
        try SafetensorsWriter.write(
            [("w", Tensor(floats: [1, 2, 3, 4], shape: [2, 2]))],
            metadata: [.init(key: "trained_on", value: "wiki")],
            toPath: path
        )
        try await registry.registerComponent(model: "bert", safetensorsPath: path)
        try await registry.setAlias("production", model: "fusion", version: 2)
        _ = try await registry.compare(
            VersionReference(parsing: "fusion@1"),
            VersionReference(parsing: "fusion@2"),
            on: smallDataset(),
            resamples: 50
        )
        return (registry, queue, dir)
    }

    /// One change to one stored value an output depends on, and the item `verify` must name.
    struct Damage: Sendable, CustomTestStringConvertible {
        let sql: String
        let reported: String
        var testDescription: String { reported }
    }

    static let damages: [Damage] = [
        // One character of a registered header, still valid JSON: export would silently differ.
        Damage(
            sql:
                "UPDATE modelVersion SET safetensorsHeader = CAST(replace(CAST(safetensorsHeader AS TEXT), 'wiki', 'wikj') AS BLOB) WHERE spec IS NULL",
            reported: "bert@1 safetensors header"
        ),
        Damage(
            sql:
                "UPDATE modelVersion SET spec = replace(spec, '\"classCount\":3', '\"classCount\":4') WHERE number = 1 AND spec IS NOT NULL",
            reported: "fusion@1 spec"
        ),
        Damage(
            sql:
                "UPDATE versionTensor SET shape = '[2,1]' WHERE name = 'fusion.weights' AND versionId = (SELECT id FROM modelVersion WHERE number = 2 AND spec IS NOT NULL)",
            reported: "fusion@2 tensor list"
        ),
        Damage(
            sql:
                "UPDATE tensorChunk SET bytes = zeroblob(length(bytes)) WHERE blobId = (SELECT blobId FROM versionTensor WHERE name = 'w')",
            reported: "bert@1 tensor 'w'"
        ),
        Damage(
            sql: "UPDATE evaluation SET predictedClasses = zeroblob(length(predictedClasses)) WHERE id = 1",
            reported: "evaluation 1"
        ),
        Damage(
            sql: "UPDATE evaluation SET metrics = replace(metrics, '\"accuracy\":0', '\"accuracy\":1') WHERE id = 2",
            reported: "evaluation 2"
        ),
        Damage(
            sql: "UPDATE evaluation SET trueClassProbabilities = zeroblob(length(trueClassProbabilities)) WHERE id = 2",
            reported: "evaluation 2"
        ),
        Damage(
            sql: "UPDATE comparison SET verdict = CASE verdict WHEN 'a-better' THEN 'b-better' ELSE 'a-better' END",
            reported: "comparison 1"
        ),
        Damage(
            sql: "UPDATE comparison SET statistics = replace(statistics, '\"alpha\":0.05', '\"alpha\":0.5')",
            reported: "comparison 1"
        ),
        // An ended run's record: the last bits of one metric value, a param, the latest-value index.
        // (A chunk whose first step is below 128 starts with that step in one byte, then the value.)
        Damage(
            sql: """
                UPDATE metricChunk SET points = flip_lowest_bit(points, 1)
                WHERE rowid = (SELECT min(rowid) FROM metricChunk WHERE firstStep < 128)
                """,
            reported: "run "
        ),
        // A chunk's bounds, which 'max(metrics.x)' reads instead of its bytes (not in the digest).
        Damage(
            sql: "UPDATE metricChunk SET maxValue = maxValue + 1 WHERE rowid = (SELECT min(rowid) FROM metricChunk)",
            reported: "run "
        ),
        Damage(
            sql: "UPDATE runParam SET value = 'x' WHERE (runId, key) = (SELECT runId, key FROM runParam LIMIT 1)",
            reported: "run "
        ),
        Damage(
            sql:
                "UPDATE latestMetric SET value = value + 1 WHERE (runId, keyId) = (SELECT runId, keyId FROM latestMetric LIMIT 1)",
            reported: "run "
        ),
        // A version's record: a tag added behind the store's back.
        Damage(
            sql: """
                INSERT INTO modelVersionTag (versionId, key, value)
                VALUES ((SELECT id FROM modelVersion WHERE number = 2 AND spec IS NOT NULL), 'owner', 'mallory')
                """,
            reported: "fusion@2 record"
        ),
        // The alias table against its append-only history.
        Damage(
            sql: "UPDATE alias SET versionId = (SELECT min(id) FROM modelVersion)",
            reported: "alias 'production' of fusion"
        ),
    ]

    /// `flip_lowest_bit(blob, i)`: the blob with the lowest bit of its byte `i` (from 0) flipped.
    static let flipLowestBit = DatabaseFunction("flip_lowest_bit", argumentCount: 2) { values in
        var bytes = [UInt8](Data.fromDatabaseValue(values[0])!)
        bytes[Int.fromDatabaseValue(values[1])!] ^= 1
        return Data(bytes)
    }

    @Test(arguments: damages) func verifyNamesEveryDamagedItem(_ damage: Damage) async throws {
        let (registry, queue, _) = try await populatedStore()
        #expect(try await registry.verify().isHealthy)
        try await queue.write { db in
            db.add(function: Self.flipLowestBit)
            try db.execute(sql: damage.sql)
            #expect(db.changesCount >= 1, "the damage must change a row")
        }
        let report = try await registry.verify()
        #expect(!report.isHealthy)
        #expect(
            !report.damaged.isEmpty && report.damaged.allSatisfy { $0.hasPrefix(damage.reported) },
            "\(report.damaged)"
        )
    }

    @Test func exportOfADamagedHeaderNamesTheVersionAndWritesNothing() async throws {
        let (registry, queue, dir) = try await populatedStore()
        try await queue.write { db in try db.execute(sql: Self.damages[0].sql) }
        let out = dir.file("out.safetensors")
        await #expect {
            try await registry.exportSafetensors(VersionReference(parsing: "bert@1"), toPath: out)
        } throws: { error in
            let message = "\(error)"
            return (error as? RegistryError)?.code == .corruptData && message.contains("bert@1")
                && message.contains("header")
                && !message.contains(out)
        }
        #expect(!FileManager.default.fileExists(atPath: out))
        // An invalid byte in the header is named the same way, not as a problem of the output file.
        try await queue.write { db in
            try db.execute(sql: "UPDATE modelVersion SET safetensorsHeader = x'7b00' WHERE spec IS NULL")
        }
        await #expect {
            try await registry.exportSafetensors(VersionReference(parsing: "bert@1"), toPath: out)
        } throws: { error in "\(error)".contains("bert@1") && !"\(error)".contains(out) }
    }

    @Test func aDamagedSpecOrEvaluationIsRefusedOnLoad() async throws {
        let (registry, queue, _) = try await populatedStore()
        try await queue.write { db in try db.execute(sql: Self.damages[1].sql) }
        await #expect {
            try await registry.loadClassifier(VersionReference(parsing: "fusion@1"))
        } throws: { error in
            (error as? RegistryError)?.code == .corruptData && "\(error)".contains("fusion@1's stored spec")
        }
        // A comparison reusing a damaged stored evaluation refuses it instead of trusting it.
        try await queue.write { db in try db.execute(sql: Self.damages[4].sql) }
        let found = try await registry.read { db in try Self.evaluationError(1, db) }
        #expect(found.contains("Evaluation 1 of fusion@1"), "\(found)")
    }

    static func evaluationError(_ id: Int64, _ db: any StoreSQL) throws -> String {
        do { _ = try Registry.evaluation(id: id, in: db) } catch { return "\(error)" }
        return "loaded"
    }

    @Test func aliasHistoryCanBeNeitherChangedNorRemoved() async throws {
        let queue = try DatabaseQueue()
        let registry = try Registry(queue, logger: quietLogger)
        try await registry.registerVersion(model: "m", classifier: smallClassifier())
        try await registry.setAlias("production", model: "m", version: 1)
        for sql in ["UPDATE aliasEvent SET reason = 'rewritten'", "DELETE FROM aliasEvent", "DELETE FROM modelVersion"]
        {
            #expect(throws: DatabaseError.self, "\(sql)") { try queue.write { db in try db.execute(sql: sql) } }
        }
        #expect(try await registry.aliasEvents(of: "m").count == 1)
        #expect(try await registry.versions(of: "m").count == 1)
    }

    /// A version is sealed over the values its writer inserted, without reading them back: its
    /// digests must be the ones computed from the stored rows, whatever the version holds.
    @Test(arguments: TestStore.available)
    func aVersionSealedAsItIsWrittenMatchesItsStoredRows(_ store: TestStore) async throws {
        try await store.withRegistry { registry in
            let dir = TemporaryDirectory()
            let path = dir.file("bert.safetensors")
            try SafetensorsWriter.write(
                [("w", Tensor(floats: [1, 2, 3, 4], shape: [2, 2])), ("b", Tensor(floats: [0.5], shape: [1]))],
                metadata: [.init(key: "trained_on", value: "wiki")],
                toPath: path
            )
            let ended = try await registry.startRun(kind: .training, model: nil)
            try await registry.finishRun(ended)
            let running = try await registry.startRun(kind: .training, model: nil)
            let finishing = try await registry.startRun(kind: .training, model: nil)
            // A component on an ended run (sealed again), with tags whose order by UTF-8 bytes
            // differs from their order in a dictionary or a collation.
            try await registry.registerComponent(
                model: "bert",
                safetensorsPath: path,
                tags: ["z": "1", "Äpfel": "2", "a": "3", "B": "4"],
                trainingRun: ended,
                source: "s3://bucket/bert"
            )
            let fingerprint = String(repeating: "ab", count: 32)
            try await registry.registerVersion(
                model: "fusion",
                classifier: smallClassifier(),
                lineage: Lineage(
                    trainingRun: running,
                    datasets: ["train": fingerprint, "test": String(fingerprint.reversed())],
                    components: [
                        "text": VersionReference(parsing: "bert@1"), "image": VersionReference(parsing: "bert"),
                    ]
                ),
                tags: ["stage": "candidate", "owner": "ml-team"]
            )
            // A run finished by its version; the same weights again (blobs already stored).
            try await registry.registerVersion(
                model: "fusion",
                classifier: smallClassifier(),
                lineage: Lineage(trainingRun: finishing),
                finishingRun: finishing
            )
            let versions = try await registry.read { db in
                try db.fetchAll(
                    StoreRow.self,
                    sql: "SELECT id, specDigest, headerDigest, layoutDigest, recordDigest FROM modelVersion ORDER BY id"
                ).map { row in (sealed: Array(row.values[1...]), stored: try RecordDigests.version(row["id"], in: db)) }
            }
            #expect(versions.count == 3)
            for (sealed, stored) in versions {
                let parts = try #require(stored)
                #expect(sealed == [parts.spec, parts.header, parts.layout, parts.record].map(StoreValue.text))
            }
            // Each run records its version; only the finished one changed status.
            #expect(try await registry.run(ended).version == 1)
            let live = try await registry.run(running)
            #expect(live.status == .running && live.version == 1)
            let finished = try await registry.run(finishing)
            #expect(finished.status == .finished && finished.version == 2)
            #expect(try await registry.verify().isHealthy)
        }
    }

    @Test(arguments: TestStore.available)
    func aDeletedNumberIsNeverGivenAgainAndTheDeletionIsRecorded(_ store: TestStore) async throws {
        try await store.withRegistry { registry in
            try await registry.registerVersion(model: "m", classifier: smallClassifier(weights: [1, 1]))
            try await registry.registerVersion(model: "m", classifier: smallClassifier(weights: [2, 2]))
            try await registry.setAlias("production", model: "m", version: 2)
            // Refused while an alias points at it…
            await #expect {
                try await registry.deleteVersion(VersionReference(parsing: "m@2"))
            } throws: { error in (error as? RegistryError)?.code == .conflict && "\(error)".contains("'production'") }
            // …and with force the alias goes too, recorded.
            let deletion = try await registry.deleteVersion(
                VersionReference(parsing: "m@2"),
                force: true,
                reason: "leaked test data"
            )
            #expect(deletion.removedAliases.map(\.alias) == ["production"])
            #expect(try await registry.aliasEvents(of: "m").first?.action == .delete)
            // The latest version was deleted; the next one is 3, not 2 again.
            #expect(try await registry.registerVersion(model: "m", classifier: smallClassifier(weights: [3, 3])) == 3)
            await #expect {
                try await registry.loadClassifier(VersionReference(parsing: "m@2"))
            } throws: { error in
                "\(error)".contains("m@2 was deleted by \(ProcessIdentity.user)")
                    && "\(error)".contains("leaked test data")
            }
            #expect(try await registry.versions(of: "m").map(\.number) == [3, 1])
            let all = try await registry.versions(of: "m", includingDeleted: true)
            #expect(all.first { $0.number == 2 }?.deletion?.reason == "leaked test data")
            #expect(try await registry.models().first?.versionCount == 2)
            // An alias is never rolled back onto a deleted version.
            try await registry.setAlias("staging", model: "m", version: 1)
            try await registry.setAlias("staging", model: "m", version: 3)
            try await registry.deleteVersion(VersionReference(parsing: "m@1"))
            await #expect {
                try await registry.rollback("staging", model: "m")
            } throws: { error in "\(error)".contains("Refusing to roll 'staging' back to m@1: it was deleted") }
            // A tombstone is final and its bytes are reclaimed.
            #expect(try await registry.collectGarbage().blobs == 2)
            #expect(try await registry.verify().isHealthy)
            #expect(try await registry.version(VersionReference(parsing: "m")).principal == ProcessIdentity.user)
        }
    }

    @Test func runsAreDeletedSoftlyRestoredAndPurgedUnlessHistoryNeedsThem() async throws {
        let (registry, _, _) = try await populatedStore()
        let runs = try await registry.searchRuns()
        let comparisonRun = try #require(runs.first { $0.kind == .comparison }).id
        let evaluationRun = try #require(runs.first { $0.kind == .evaluation }).id
        // An evaluation a comparison uses must stay.
        await #expect {
            try await registry.deleteRun(evaluationRun)
        } throws: { error in "\(error)".contains("comparison 1 uses its evaluation") }
        try await registry.deleteRun(comparisonRun)
        #expect(try await registry.searchRuns().count == runs.count - 1)
        await #expect { try await registry.run(comparisonRun) } throws: { error in "\(error)".contains("runs restore") }
        try await registry.restoreRun(comparisonRun)
        #expect(try await registry.run(comparisonRun).kind == .comparison)
        try await registry.deleteRun(comparisonRun)
        let report = try await registry.collectGarbage()
        #expect(report.runs == 1)
        await #expect { try await registry.restoreRun(comparisonRun) } throws: { error in "\(error)".contains("purged")
        }
        // Its evaluations are free to go now.
        try await registry.deleteRun(evaluationRun)
        #expect(try await registry.collectGarbage().runs == 1)
        #expect(try await registry.verify().isHealthy)
    }

    @Test(arguments: TestStore.available)
    func aPromotionsEvidenceCannotBeDeleted(_ store: TestStore) async throws {
        try await store.withRegistry { registry in
            try await registry.registerVersion(model: "m", classifier: smallClassifier(weights: [1, 1]))
            try await registry.registerVersion(model: "m", classifier: smallClassifier(weights: [2, 2]))
            try await registry.setAlias("production", model: "m", version: 1)
            let outcome = try await registry.promote(
                VersionReference(parsing: "m@2"),
                alias: "production",
                data: smallDataset(),
                gate: PromotionGate(.notWorse, margin: 0.5),
                resamples: 50
            )
            let run = try #require(outcome.comparison?.run)
            await #expect { try await registry.deleteRun(run) } throws: { error in
                "\(error)".contains("evidence for a promotion")
            }
        }
    }
}
