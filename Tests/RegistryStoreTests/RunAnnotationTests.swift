import Foundation
import FuseboxTestSupport
import FusionCore
import GRDB
import Testing

@testable import RegistryStore

/// What clients of the server write to runs: params once, tags any time, never into evidence;
/// runs they own live by their writes, not by a process.
struct RunAnnotationTests {
    @Test(arguments: TestStore.available)
    func aParamIsLoggedOnceAndTagsCanChangeAfterTheRunEnds(_ store: TestStore) async throws {
        try await store.withRegistry { registry in
            let run = try await registry.startRun(kind: .training, params: ["lr": 0.1])
            try await registry.logParams(run: run, ["lr": 0.1, "seed": 7])
            await #expect(throws: RegistryError.self) { try await registry.logParams(run: run, ["lr": 0.2]) }
            try await registry.setTags(run: run, ["note": "first"])
            try await registry.finishRun(run)
            await #expect(throws: RegistryError.self) { try await registry.logParams(run: run, ["batch": 32]) }
            try await registry.setTags(run: run, ["note": "second"])
            let summary = try await registry.run(run)
            #expect(summary.params == ["lr": "0.1", "seed": "7"])
            #expect(summary.tags == ["note": "second"])
            #expect(try await registry.verify().isHealthy, "the ended run was not sealed again with its new tag")
        }
    }

    @Test(arguments: TestStore.available)
    func evidenceIsNeverWrittenToAfterwards(_ store: TestStore) async throws {
        try await store.withRegistry { registry in
            try await registry.registerVersion(model: "fused", classifier: smallClassifier())
            let evaluation = try await registry.evaluate(try VersionReference(parsing: "fused@1"), on: smallDataset())
            await #expect(throws: RegistryError.self) {
                try await registry.logMetrics(run: evaluation.run, [MetricPoint(key: "accuracy", step: 0, value: 1)])
            }
            await #expect(throws: RegistryError.self) { try await registry.setTags(run: evaluation.run, ["x": "y"]) }
            let listed = try await registry.evaluations(of: "fused")
            #expect(listed.map(\.id) == [evaluation.id])
            #expect(try await registry.evaluation(evaluation.id).metrics["accuracy"] == evaluation.metrics["accuracy"])
            await #expect(throws: RegistryError.self) { try await registry.evaluations(of: "nomodel") }
        }
    }

    @Test func aRunOwnedByARemoteClientLivesByItsWritesNotByAProcess() async throws {
        let queue = try DatabaseQueue()
        let registry = try Registry(queue, logger: quietLogger)
        let run = try await registry.startRun(kind: .training, owner: .remote("http trainer"))
        try registry.markAbandonedRunsFailed()
        #expect(try await registry.run(run).status == .running)
        try await queue.write { db in
            try db.execute(
                sql: "UPDATE run SET heartbeatAt = heartbeatAt - ? WHERE id = ?",
                arguments: [RunLiveness.staleAfter + 1, run]
            )
        }
        try registry.markAbandonedRunsFailed()
        let abandoned = try await registry.run(run)
        #expect(abandoned.status == .failed)
        #expect(abandoned.failure?.contains("no sign of life") == true)
    }

    @Test func loggingMetricsIsASignOfLife() async throws {
        let queue = try DatabaseQueue()
        let registry = try Registry(queue, logger: quietLogger)
        let run = try await registry.startRun(kind: .training, owner: .remote("http trainer"))
        try await queue.write { db in
            try db.execute(
                sql: "UPDATE run SET heartbeatAt = heartbeatAt - ? WHERE id = ?",
                arguments: [RunLiveness.staleAfter + 1, run]
            )
        }
        try await registry.logMetrics(run: run, [MetricPoint(key: "loss", step: 0, value: 1)])
        try registry.markAbandonedRunsFailed()
        #expect(try await registry.run(run).status == .running)
    }

    @Test(arguments: TestStore.available)
    func metricsLoggedAfterARunEndedAreSealedWithIt(_ store: TestStore) async throws {
        try await store.withRegistry { registry in
            let run = try await registry.startRun(kind: .training)
            try await registry.logMetrics(run: run, [MetricPoint(key: "loss", step: 0, value: 1)])
            try await registry.finishRun(run)
            try await registry.logMetrics(run: run, [MetricPoint(key: "loss", step: 1, value: 0.5)])
            let summary = try await registry.run(run)
            #expect(summary.status == .finished && summary.metrics["loss"] == 0.5)
            #expect(try await registry.verify().isHealthy, "the ended run was not sealed again with its new metric")
        }
    }
}
