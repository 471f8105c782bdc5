import Foundation
import FuseboxTestSupport
import GRDB
import RegistryMigrations
import Testing

@testable import RegistryStore

/// Metric series in packed chunks: the byte format, the store's write and read paths against a
/// plain dictionary model, the queries and checks that read them, and the conversion of stores
/// that kept one row per value.
struct MetricSeriesTests {
    @Test func packedSeriesRoundTripEveryValueAndTime() throws {
        var rng = TestRandom(seed: 7)
        var step: Int64 = 0
        var samples: [MetricSample] = []
        let specials: [Double] = [0, -0.0, .leastNonzeroMagnitude, -.greatestFiniteMagnitude, .pi, 1e-300]
        for i in 0..<2_000 {
            step += i % 97 == 0 ? Int64.random(in: 1...(1 << 40), using: &rng) : 1
            let value = i < specials.count ? specials[i] : Double.random(in: -1e6...1e6, using: &rng)
            let time = Int64.random(in: 0...(1 << 45), using: &rng)  // times may go backwards
            samples.append(MetricSample(step: step, value: value, time: time))
        }
        var bytes: [UInt8] = []
        PackedMetricSeries.append(samples.prefix(700), after: nil, to: &bytes)
        PackedMetricSeries.append(samples.dropFirst(700), after: samples[699], to: &bytes)
        let decoded = try PackedMetricSeries.decode(bytes)
        #expect(decoded.map(\.step) == samples.map(\.step))
        #expect(decoded.map(\.value.bitPattern) == samples.map(\.value.bitPattern))
        #expect(decoded.map(\.time) == samples.map(\.time))
        // Zigzag keeps small deltas of either sign short, and inverts exactly.
        for delta: Int64 in [0, -1, 1, -2, 2, .min, .max, 1 << 40, -(1 << 40)] {
            #expect(PackedMetricSeries.unzigzag(PackedMetricSeries.zigzag(delta)) == delta)
        }
        #expect([0, -1, 1, -2].map(PackedMetricSeries.zigzag) == [0, 1, 2, 3])
    }

    @Test func aTrainingSeriesCostsAboutTenBytesAValue() {
        // Steps one apart, logged in batches of 50 sharing one time.
        let samples = (0..<1_000).map { (i: Int) -> MetricSample in
            let time: Int64 = 1_764_000_000_000 + Int64(i / 50) * 900
            return MetricSample(step: Int64(i), value: 1 / Double(i + 1), time: time)
        }
        var bytes: [UInt8] = []
        PackedMetricSeries.append(samples, after: nil, to: &bytes)
        #expect(Double(bytes.count) / 1_000 < 10.1)
    }

    @Test(
        arguments: [
            ([0x80], "a varint is cut off"),
            ([0x00, 1, 2, 3], "a value is cut off"),
            (Array(repeating: 0xFF, count: 11), "too long"),
            // Step 5, then a step delta of 0: step 5 again.
            ([0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x00], "steps must increase"),
        ] as [([UInt8], String)]
    )
    func malformedBytesAreReportedNotMisread(bytes: [UInt8], message: String) {
        #expect {
            try PackedMetricSeries.decode(bytes)
        } throws: { error in
            (error as? RegistryError)?.code == .corruptData && "\(error)".contains(message)
        }
    }

    /// Random batches — appends, rewrites of old steps, repeats inside a batch, several keys —
    /// against a dictionary; long enough that series span many chunks.
    @Test func writesAgreeWithADictionaryModel() async throws {
        let queue = try DatabaseQueue()
        let registry = try Registry(queue, logger: quietLogger)
        let run = try await registry.startRun(kind: .training)
        var rng = TestRandom(seed: 11)
        var model: [String: [Int: (value: Double, time: Int64)]] = [:]
        var next = ["loss": 0, "acc": 0]
        for batch in 0..<150 {
            var points: [MetricPoint] = []
            for _ in 0..<Int.random(in: 1...60, using: &rng) {
                let key = Bool.random(using: &rng) ? "loss" : "acc"
                let step: Int
                switch Int.random(in: 0..<10, using: &rng) {
                case 0: step = Int.random(in: 0...max(next[key]!, 1), using: &rng)  // an old step
                case 1: step = next[key]! + Int.random(in: 2...5_000, using: &rng)  // a gap
                default: step = next[key]! + 1
                }
                next[key] = max(next[key]!, step)
                let point = MetricPoint(
                    key: key,
                    step: step,
                    value: Double.random(in: -5...5, using: &rng),
                    time: 1_764_000_000_000 + Int64(batch) * 1_000 - Int64.random(in: 0...50, using: &rng)
                )
                points.append(point)
                model[key, default: [:]][step] = (point.value, point.time)
            }
            try await registry.logMetrics(run: run, points)
        }
        for (key, expected) in model {
            let history = try await registry.metricHistory(run: run, key: key)
            #expect(history.map(\.step) == expected.keys.sorted())
            #expect(history.allSatisfy { expected[$0.step]!.value == $0.value && expected[$0.step]!.time == $0.time })
            let last = expected.keys.max()!
            #expect(try await registry.run(run).metrics[key] == expected[last]!.value)
        }
        #expect(try await registry.metricHistories(run: run).mapValues(\.count) == model.mapValues(\.count))
        // Many chunks, each within its capacity and its bounds.
        let (chunks, largest) = try await queue.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT count(*) FROM metricChunk")!,
                try Int.fetchOne(db, sql: "SELECT max(length(points)) FROM metricChunk")!
            )
        }
        #expect(chunks > 4)
        #expect(largest <= MetricChunks.capacity)
        #expect(try await registry.verify().isHealthy)
    }

    @Test(arguments: TestStore.available)
    func maxAndMinOverTheWholeHistoryFindTheRightRuns(_ store: TestStore) async throws {
        try await store.withRegistry { registry in
            var runs: [Int64] = []
            for peak in [0.5, 0.9, 0.95] {
                let run = try await registry.startRun(kind: .training)
                // The peak sits in the middle of a series long enough to span several chunks.
                try await registry.logMetrics(
                    run: run,
                    (0..<2_000).map { MetricPoint(key: "acc", step: $0, value: $0 == 1_000 ? peak : 0.1) }
                )
                runs.append(run)
            }
            func ids(_ query: String) async throws -> [Int64] {
                try await registry.searchRuns(where: query).map(\.id).sorted()
            }
            #expect(try await ids("max(metrics.acc) > 0.8") == [runs[1], runs[2]])
            #expect(try await ids("max(metrics.acc) >= 0.95") == [runs[2]])
            #expect(try await ids("min(metrics.acc) < 0.1") == [])
            #expect(try await ids("metrics.acc = 0.1") == runs)
        }
    }

    /// A store from before migration 0010 keeps every value; runs intact before are intact
    /// after, and a run damaged before is still reported after.
    @Test func theUpgradeConvertsOneRowPerValueSeriesAndKeepsDamageVisible() async throws {
        let dir = TemporaryDirectory()
        let path = dir.file("old.sqlite")
        let before = SchemaMigrations.all.firstIndex { $0.identifier.hasPrefix("0010") }!
        try MigrationTests.olderStore(at: path, migrations: before)
        let queue = try DatabaseQueue(path: path)
        let times: [Int64] = [1_700_000_000_000, 1_700_000_000_000, 1_699_999_999_000]
        try await queue.write { db in
            Registry.addFunctions(to: db)
            try db.execute(sql: "INSERT INTO metricKey (id, name) VALUES (1, 'loss'), (2, 'acc')")
            for run in 1...3 {
                try db.execute(
                    sql: """
                        INSERT INTO run (id, kind, status, startedAt, endedAt, principal) VALUES (?, 'training', 'finished', 1, 2, 'me')
                        """,
                    arguments: [run]
                )
                // 600 steps of loss (three chunks of 256 at most), 3 of acc, inserted out of order.
                for step in (0..<600).reversed() {
                    try db.execute(
                        sql: "INSERT INTO metric (runId, keyId, step, value, time) VALUES (?, 1, ?, ?, ?)",
                        arguments: [run, step * 2, 1 / Double(step + run), times[step % 3]]
                    )
                }
                for step in 0..<3 {
                    try db.execute(
                        sql: "INSERT INTO metric (runId, keyId, step, value, time) VALUES (?, 2, ?, ?, 5)",
                        arguments: [run, step, Double(step) / 10]
                    )
                }
                try db.execute(
                    sql: "INSERT INTO latestMetric (runId, keyId, step, value) VALUES (?, 1, 1198, ?), (?, 2, 2, 0.2)",
                    arguments: [run, 1 / Double(599 + run), run]
                )
            }
            try db.execute(sql: "UPDATE run SET digest = (SELECT digest FROM runDigest d WHERE d.id = run.id)")
            // Run 3 is damaged before the upgrade.
            try db.execute(sql: "UPDATE metric SET value = 9 WHERE runId = 3 AND keyId = 2 AND step = 1")
        }
        try queue.close()

        let registry = try Registry.open(atPath: path, logger: quietLogger)
        for run: Int64 in 1...3 {
            let loss = try await registry.metricHistory(run: run, key: "loss")
            #expect(loss.map(\.step) == (0..<600).map { $0 * 2 })
            #expect(loss.map(\.value) == (0..<600).map { 1 / Double($0 + Int(run)) })
            #expect(loss.map(\.time) == (0..<600).map { times[$0 % 3] })
            #expect(
                try await registry.metricHistory(run: run, key: "acc").map(\.value) == [0, run == 3 ? 9 : 0.1, 0.2]
            )
        }
        let report = try await registry.verify()
        #expect(report.damaged == ["run 3 (params, tags, metrics or weight history)"])
        #expect(try await registry.searchRuns(where: "max(metrics.acc) > 1", lifecycle: .all).map(\.id) == [3])
    }
}
