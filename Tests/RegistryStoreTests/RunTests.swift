import Foundation
import FuseboxTestSupport
import FusionCore
import GRDB
import TensorCore
import Testing

@testable import RegistryStore

struct RunTests {
    /// Three training runs with params, tags and accuracy curves.
    func populated() async throws -> Registry {
        let registry = try memoryRegistry()
        try await registry.createModel("fusion", kind: .fused)
        let runs: [(String, String, [Double])] = [
            ("weighted-average", "vision", [0.5, 0.8, 0.95]), ("concat-mlp", "nlp", [0.6, 0.97, 0.85]),
            ("mean", "vision", [0.4, 0.5, 0.6]),
        ]
        for (method, team, curve) in runs {
            let id = try await registry.startRun(
                kind: .training,
                model: "fusion",
                params: ["method": .text(method), "epochs": 10],
                tags: ["team": team]
            )
            try await registry.logMetrics(
                run: id,
                curve.enumerated().map { MetricPoint(key: "val_accuracy", step: $0.offset, value: $0.element) }
            )
            try await registry.finishRun(id)
        }
        return registry
    }

    func methods(_ registry: Registry, _ query: String, orderBy: String? = nil) async throws -> [String] {
        try await registry.searchRuns(where: query, orderBy: orderBy).compactMap { $0.params["method"] }
    }

    @Test func queriesFilterOnLatestValuesParamsTagsAndAttributes() async throws {
        let r = try await populated()
        #expect(try await methods(r, "metrics.val_accuracy > 0.9") == ["weighted-average"])
        #expect(
            try await methods(r, "max(metrics.val_accuracy) > 0.9", orderBy: "id") == [
                "weighted-average", "concat-mlp",
            ]
        )
        #expect(
            try await methods(r, "min(metrics.val_accuracy) >= 0.5", orderBy: "id") == [
                "weighted-average", "concat-mlp",
            ]
        )
        #expect(
            try await methods(
                r,
                "metrics.val_accuracy > 0.7 and (params.method = 'weighted-average' or tags.team = 'nlp')",
                orderBy: "metrics.val_accuracy"
            )
                == ["weighted-average", "concat-mlp"]
        )
        #expect(try await methods(r, "not tags.team = 'vision'") == ["concat-mlp"])
        #expect(try await methods(r, "params.epochs >= 10 and params.method like 'concat%'") == ["concat-mlp"])
        #expect(try await methods(r, "model = 'fusion' and status = 'finished' and kind = 'training'").count == 3)
        #expect(try await methods(r, "created > '2020-01-01'").count == 3)
        #expect(try await methods(r, "params.method = 'mean'", orderBy: "created desc") == ["mean"])
        #expect(try await r.searchRuns(orderBy: "metrics.val_accuracy asc", limit: 1).first?.params["method"] == "mean")
    }

    /// Imported runs are written in batches and sealed as they are inserted: every run must hold
    /// exactly what it was given (across batch boundaries, with a series long enough for several
    /// chunks and a step given twice), and its digest must be the one computed from its rows.
    @Test(arguments: TestStore.available)
    func importedRunsHoldWhatTheyWereGivenAndAreSealedOverIt(_ store: TestStore) async throws {
        try await store.withRegistry { registry in
            let runs = (0..<1_203).map { (i: Int) -> ImportedRun in
                let steps = i % 100 == 0 ? 1_000 : i % 4
                var metrics = (0..<steps).map { step in
                    MetricPoint(key: "loss", step: step, value: 1 / Double(step + i + 1), time: Int64(step))
                }
                metrics.append(MetricPoint(key: "accuracy", step: 0, value: 0.1, time: 0))
                metrics.append(MetricPoint(key: "accuracy", step: 0, value: Double(i) / 2_000, time: 1))
                let startedAt = 1.7e9 + Double(i)
                return ImportedRun(
                    model: i % 3 == 0 ? nil : "m\(i % 2)",
                    kind: i % 4 == 0 ? .evaluation : .training,
                    startedAt: startedAt,
                    endedAt: i % 10 == 0 ? startedAt - 5 : startedAt + 60,  // some end before they start
                    params: ["i": .number(Double(i)), "name": .text("run \(i)")],
                    tags: i % 2 == 0 ? ["even": "yes", "Ä": "\(i)"] : [:],
                    metrics: metrics
                )
            }
            let ids = try await registry.importRuns(runs)
            #expect(ids.count == runs.count && Set(ids).count == runs.count)
            for i in [0, 1, 2, 499, 500, 501, 1_000, 1_202] {
                let run = try await registry.run(ids[i])
                #expect(run.model == runs[i].model && run.kind == runs[i].kind && run.status == .finished)
                #expect(run.endedAt == max(runs[i].endedAt, runs[i].startedAt))
                #expect(run.params == runs[i].params.mapValues(\.description) && run.tags == runs[i].tags)
                #expect(run.metrics["accuracy"] == Double(i) / 2_000)
                let loss = try await registry.metricHistory(run: ids[i], key: "loss")
                #expect(loss.map(\.step) == runs[i].metrics.filter { $0.key == "loss" }.map(\.step))
                #expect(loss.last?.value == runs[i].metrics.last { $0.key == "loss" }?.value)
            }
            #expect(try await registry.metricHistory(run: ids[1_000], key: "loss").count == 1_000)
            #expect(try await registry.verify().isHealthy)
            // And what a later run logs lands beside them.
            #expect(try await registry.importRuns([ImportedRun(startedAt: 1, endedAt: 2)]).first! > ids.max()!)
        }
    }

    /// Searches ordered by a metric first walk that metric's index (`orderedWalk`); whether the
    /// walk or the matching-set plan answers, the page must be the one the matching-set plan gives,
    /// with ties, runs lacking the metric, `not`, `or`, aggregates and sparse filters — and the
    /// walk gives it testing candidates either way (probes, SQLite's; matching sets, PostgreSQL's).
    @Test(arguments: TestStore.available)
    func theOrderedWalkGivesTheSamePageAsTheMatchingSetPlan(_ store: TestStore) async throws {
        try await store.withRegistry { registry in
            var rng = TestRandom(seed: 5)
            try await registry.importRuns(
                (0..<3000).map { i in
                    var metrics: [MetricPoint] = []
                    // Two decimals, so values tie; a tenth of the runs lack accuracy, a third lack loss.
                    if i % 10 != 0 {
                        let steps = i % 7 == 0 ? 3 : 1
                        for step in 0..<steps {
                            metrics.append(
                                MetricPoint(
                                    key: "accuracy",
                                    step: step,
                                    value: (Double.random(in: 0...1, using: &rng) * 100).rounded() / 100
                                )
                            )
                        }
                    }
                    if i % 3 != 0 {
                        metrics.append(MetricPoint(key: "loss", step: 0, value: Double.random(in: 0...1, using: &rng)))
                    }
                    return ImportedRun(
                        model: i % 2 == 0 ? "a" : "b",
                        startedAt: 1.7e9 + Double(i),
                        endedAt: 1.7e9 + Double(i) + 1,
                        params: [
                            "fusion": .text(Int.random(in: 0..<10, using: &rng) == 0 ? "weighted" : "concat"),
                            "seed": .number(Double(Int.random(in: 0..<1000, using: &rng))),
                        ],
                        tags: i % 5 == 0 ? ["team": "nlp"] : [:],
                        metrics: metrics
                    )
                }
            )
            let queries: [String?] = [
                nil, "params.fusion = 'weighted'", "metrics.accuracy > 0.5 and params.fusion = 'weighted'",
                "not metrics.accuracy > 0.5",
                "not metrics.loss < 0.3", "max(metrics.accuracy) > 0.8 or tags.team = 'nlp'",
                "not min(metrics.accuracy) < 0.2",
                "params.seed = 7", "params.seed < 500 and status = 'finished' and model = 'b'",
                "metrics.accuracy <= 0.3 or metrics.loss > 0.9",
            ]
            var walked = 0
            var fellBack = 0
            for query in queries {
                for (key, descending) in [("accuracy", true), ("accuracy", false), ("loss", true)] {
                    for limit in [1, 10, 100, 3000] {
                        let order = RunQuery.Order.metric(key, descending: descending)
                        let (whereSQL, arguments) =
                            try query.map { try RunQuery.compile(RunQuery.parse($0)) } ?? ("1 = 1", [])
                        let (orderSQL, orderArguments) = order.sql
                        let filter = try query.map(RunQuery.parse)
                        let (expected, walks) = try await registry.read { db in
                            (
                                try Registry.runSummaries(
                                    whereSQL: whereSQL,
                                    arguments: arguments + orderArguments,
                                    orderSQL: orderSQL,
                                    limit: limit,
                                    in: db
                                ).map(\.id),
                                try [RunQuery.Reach.perRun, .matchingSet].map { reach in
                                    try Registry.orderedWalk(
                                        by: key,
                                        descending: descending,
                                        filter: filter,
                                        limit: limit,
                                        reach: reach,
                                        in: db
                                    )?.map(\.id)
                                }
                            )
                        }
                        #expect(walks[0] == walks[1], "the walk's reaches differ")
                        if let walk = walks[0] {
                            #expect(
                                walk == expected,
                                "\(query ?? "-") by \(key) \(descending ? "desc" : "asc") limit \(limit)"
                            )
                            walked += 1
                        } else {
                            fellBack += 1
                        }
                        let found = try await registry.searchRuns(
                            where: query,
                            orderBy: "metrics.\(key) \(descending ? "desc" : "asc")",
                            limit: limit
                        ).map(\.id)
                        #expect(
                            found == expected,
                            "\(query ?? "-") by \(key) \(descending ? "desc" : "asc") limit \(limit)"
                        )
                    }
                }
            }
            // Both plans were exercised.
            #expect(walked > 40 && fellBack > 10, "walked \(walked), fell back \(fellBack)")
        }
    }

    @Test func injectionAttemptsAreMatchedLiterally() async throws {
        let r = try await populated()
        let id = try await r.startRun(
            kind: .training,
            model: "fusion",
            params: ["method": "x' OR '1'='1"],
            tags: ["note": "50%; DROP TABLE run; --"]
        )
        try await r.finishRun(id)
        #expect(try await methods(r, "params.method = 'x'' OR ''1''=''1'") == ["x' OR '1'='1"])
        // Unquoted, the same text is a parse error, never SQL.
        await #expect(throws: RegistryError.self) { try await r.searchRuns(where: "params.method = 'x' OR '1'='1' --") }
        #expect(try await r.searchRuns(where: "tags.note = '50%; DROP TABLE run; --'").count == 1)
        #expect(try await r.searchRuns(where: "tags.`note` like '50%;%'").count == 1)
        #expect(try await r.searchRuns(limit: 100).count == 4)  // the run table is still there
    }

    @Test(arguments: [
        ("metrics.acc >", "column 14: expected a value after '>'"),
        ("metrics.acc > 0.9 and", "column 22: expected a field"),
        ("metrics.acc ~ 1", "column 13: unexpected character '~'"),
        ("colour = 'red'", "column 1: unknown field 'colour'"),
        ("(metrics.acc > 1", "column 17: expected ')' to close the '(' at column 1"),
        ("metrics.acc like 'a%'", "column 1: 'like' compares text"),
        ("metrics.acc = 'high'", "column 1: metrics.acc compares to numbers"),
        ("params.x = 'unterminated", "column 12: unterminated string"),
        ("metrics.acc > 1 metrics.b > 2", "column 17: unexpected 'metrics.b'"),
        ("", "column 1: the query is empty"),
    ])
    func malformedQueriesNameTheColumn(query: String, message: String) async throws {
        let r = try await populated()
        await #expect {
            try await r.searchRuns(where: query)
        } throws: { error in
            (error as? RegistryError)?.code == .invalidInput && "\(error)".contains(message)
        }
    }

    @Test(arguments: TestStore.available)
    func metricHistoryAndLatestValueFollowTheHighestStep(_ store: TestStore) async throws {
        try await store.withRegistry { r in
            let id = try await r.startRun(kind: .training)
            try await r.logMetrics(
                run: id,
                (0..<1000).map { MetricPoint(key: "loss", step: $0, value: 1 / Double($0 + 1)) }
            )
            // An old step: history changes, latest does not.
            try await r.logMetrics(run: id, [MetricPoint(key: "loss", step: 3, value: 42)])
            let history = try await r.metricHistory(run: id, key: "loss")
            #expect(history.count == 1000 && history[3].value == 42)
            #expect(try await r.run(id).metrics["loss"] == 0.001)
            await #expect(throws: RegistryError.self) {
                try await r.logMetrics(run: id, [MetricPoint(key: "loss", step: 1, value: .nan)])
            }
            await #expect(throws: RegistryError.self) {
                try await r.logMetrics(run: 999, [MetricPoint(key: "loss", step: 1, value: 1)])
            }
        }
    }

    @Test(arguments: TestStore.available)
    func fusionWeightHistoryIsTyped(_ store: TestStore) async throws {
        try await store.withRegistry { r in
            let id = try await r.startRun(kind: .training)
            for epoch in 1...3 {
                let w = Float(epoch) / 10
                try await r.logEpoch(
                    run: id,
                    epoch: epoch,
                    metrics: ["loss": Double(w)],
                    weights: FusionWeights(entries: [
                        .init(modality: "image", classIndex: nil, weight: 1 - w),
                        .init(modality: "text", classIndex: nil, weight: w),
                    ])
                )
            }
            let history = try await r.fusionWeightHistory(run: id)
            #expect(history.count == 6)
            #expect(history.map(\.modality) == ["image", "text", "image", "text", "image", "text"])
            #expect(history.allSatisfy { $0.classIndex == nil })
            #expect(abs(history[5].weight - 0.3) < 1e-6)
        }
    }

    @Test func aRunWhoseProcessDiedIsMarkedFailedOnOpen() async throws {
        let dir = TemporaryDirectory()
        let path = dir.file("s.sqlite")
        let registry = try Registry.open(atPath: path, logger: quietLogger)
        let id = try await registry.startRun(kind: .training)
        // Hand the run to a process that has exited.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(sql: "UPDATE run SET ownerPid = ? WHERE id = ?", arguments: [process.processIdentifier, id])
        }
        try queue.close()
        let reopened = try Registry.open(atPath: path, logger: quietLogger)
        let run = try await reopened.run(id)
        #expect(run.status == .failed)
        #expect(run.failure?.contains("ended without finishing") == true)
        // A run owned by this live process stays running.
        let live = try await reopened.startRun(kind: .training)
        #expect(try await Registry.open(atPath: path, logger: quietLogger).run(live).status == .running)
    }

    @Test func aFailedPerEpochWriteStopsTrainingInsteadOfLosingTheHistory() async throws {
        let queue = try DatabaseQueue()
        let registry = try Registry(queue, logger: quietLogger)
        // The store refuses weight-history rows, as a full disk or a lock held too long would.
        try await queue.write { db in
            try db.execute(
                sql:
                    "CREATE TRIGGER refuse BEFORE INSERT ON fusionWeight BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
            )
        }
        let spec = try smallClassifier().spec
        var configuration = TrainingConfiguration()
        configuration.epochs = 3
        await #expect {
            try await registry.trainAndRegister(
                model: "m",
                spec: spec,
                data: smallDataset(),
                configuration: configuration
            )
        } throws: { error in "\(error)".contains("disk is full") }
        // No version was registered without its history, and the run says why it failed.
        #expect(try await registry.models().first?.versionCount == 0)
        let run = try #require(try await registry.searchRuns().first)
        #expect(run.status == .failed && run.failure?.contains("disk is full") == true)
    }

    @Test func anotherHostsLiveRunIsLeftAloneUntilItsHeartbeatIsStale() async throws {
        let queue = try DatabaseQueue()
        let registry = try Registry(queue, logger: quietLogger)
        let id = try await registry.startRun(kind: .training)
        // A run owned by pid 2^22 - 1 (dead here) on another machine, with another boot id: before,
        // the boot id alone made this host mark it failed.
        func owner(host: String, heartbeatAgo seconds: Double) async throws {
            try await queue.write { db in
                try db.execute(
                    sql:
                        "UPDATE run SET ownerHost = ?, ownerPid = 4194303, ownerBootId = 'another-boot', heartbeatAt = ? WHERE id = ?",
                    arguments: [host, Clock.unixSeconds() - seconds, id]
                )
            }
        }
        try await owner(host: "build-server-7", heartbeatAgo: 10)
        try registry.markAbandonedRunsFailed()
        #expect(try await registry.run(id).status == .running)
        // A heartbeat keeps it alive; a silent owner is given up after the documented timeout.
        try await owner(host: "build-server-7", heartbeatAgo: RunLiveness.staleAfter - 30)
        try await registry.heartbeat(run: id)
        try registry.markAbandonedRunsFailed()
        #expect(try await registry.run(id).status == .running)
        try await owner(host: "build-server-7", heartbeatAgo: RunLiveness.staleAfter + 1)
        try registry.markAbandonedRunsFailed()
        let failed = try await registry.run(id)
        #expect(
            failed.status == .failed && failed.failure?.contains("no sign of life") == true
                && failed.failure?.contains("build-server-7") == true
        )
        // On this host, a dead pid is proof at once, whatever the heartbeat says.
        let local = try await registry.startRun(kind: .training)
        try await queue.write { db in
            try db.execute(sql: "UPDATE run SET ownerPid = 4194303 WHERE id = ?", arguments: [local])
        }
        try registry.markAbandonedRunsFailed()
        #expect(try await registry.run(local).failure?.contains("ended without finishing") == true)
        #expect(try await registry.run(local).principal == ProcessIdentity.user)
    }

    @Test(arguments: TestStore.available)
    func evaluationsAndComparisonsRoundTrip(_ store: TestStore) async throws {
        try await store.withRegistry { r in
            try await r.registerVersion(model: "fusion", classifier: smallClassifier(weights: [0, 0]))
            try await r.registerVersion(model: "fusion", classifier: smallClassifier(weights: [3, 0]))
            let data = try smallDataset()
            var records: [EvaluationRecord] = []
            for v in [1, 2] {
                let reference = try VersionReference(parsing: "fusion@\(v)")
                let model = try await r.loadClassifier(reference)
                let p = try model.predictProbabilities(data)
                let predictions = SamplePredictions(
                    labels: data.labels,
                    predictedClasses: p.argmaxRows(),
                    trueClassProbabilities: data.labels.enumerated().map { p[$0.offset, $0.element] },
                    classCount: 3
                )
                records.append(
                    try await r.recordEvaluation(
                        of: reference,
                        datasetFingerprint: data.fingerprint,
                        modalities: ["image", "text"],
                        metrics: ClassificationMetrics(probabilities: p, labels: data.labels).scalars,
                        predictions: predictions
                    )
                )
            }
            let found = try await r.findEvaluation(
                of: VersionReference(parsing: "fusion@2"),
                datasetFingerprint: data.fingerprint,
                modalities: ["image", "text"]
            )
            #expect(found?.id == records[1].id)
            #expect(found?.predictions == records[1].predictions)
            let stats = try PairedComparison(a: records[0].predictions, b: records[1].predictions, resamples: 200)
            let comparison = try await r.recordComparison(a: records[0], b: records[1], statistics: stats)
            #expect(comparison.statistics == stats)
            #expect(try await r.searchRuns(where: "kind = 'comparison'").first?.metrics["mcnemar_p"] == stats.mcnemarP)
        }
    }
}
