import Foundation
import GRDB

/// Metric series stored as packed chunks (``PackedMetricSeries``), one `metricChunk` row per run
/// of consecutive steps of one (run, key).
///
/// Invariants: a series' chunks cover disjoint, increasing step ranges, each keyed by its first
/// step; a chunk's `minValue` and `maxValue` are the least and greatest of its values (so
/// `max(metrics.x)` reads no bytes); and a chunk is closed once it holds ``capacity`` bytes, so a
/// row stays inline in one 4 KiB page of an SQLite table and an append rewrites that one page.
enum MetricChunks {
    /// The most bytes a chunk grows to (about 400 values). Measured with 4 × 50 values a call:
    /// 1,024 and 4,000 bytes log at the same rate, and take 13.8 and 10.3 bytes a value (2,048: 20.2,
    /// as a 2 KiB row leaves the rest of its page unused).
    static let capacity = 4000

    /// Writes `samples` of several series of one run (any order; a later sample of a step
    /// replaces an earlier one, and a step already stored is replaced). Only the chunk holding a
    /// series' first new step and those after it are read and rewritten, so appending to a series
    /// touches its last chunk. Statements: one read for all series, then every rewritten chunk of
    /// every series in one multi-row upsert (deleting a chunk no longer needed is rare, one each).
    /// - Returns: each series' last sample afterwards, by key id.
    @discardableResult
    static func write(
        run: Int64,
        _ series: [(keyId: Int64, samples: [MetricSample])],
        in db: any StoreSQL
    ) throws -> [(keyId: Int64, last: MetricSample)] {
        var rows: [[StoreValue]] = []
        var stale: [(keyId: Int64, firstStep: Int64)] = []
        var lasts: [(keyId: Int64, last: MetricSample)] = []
        let incoming = series.map { ($0.keyId, latestPerStep($0.samples)) }.filter { !$0.1.isEmpty }
        let stored = try storedChunks(run: run, from: incoming.map { ($0.0, $0.1[0].step) }, in: db)
        for (keyId, samples) in incoming {
            let rewrite = rewrite(run: run, keyId: keyId, samples, over: stored[keyId] ?? ([], []))
            rows += rewrite.chunks
            stale += rewrite.stale.map { (keyId, $0) }
            if let last = rewrite.last { lasts.append((keyId, last)) }
        }
        try db.insertRows(
            insertSQL,
            rows,
            then: """
                ON CONFLICT (runId, keyId, firstStep) DO UPDATE SET minValue = excluded.minValue,
                    maxValue = excluded.maxValue, points = excluded.points
                    WHERE metricChunk.points IS DISTINCT FROM excluded.points
                """
        )
        for (keyId, step) in stale {
            try db.execute(
                sql: "DELETE FROM metricChunk WHERE runId = ? AND keyId = ? AND firstStep = ?",
                arguments: [run, keyId, step]
            )
        }
        return lasts
    }

    /// The stored chunks each series' new samples reach, in one query: for every `(keyId,
    /// firstStep)`, the chunk holding `firstStep` (the last one starting at or before it) and
    /// every later one, decoded, with their first steps.
    private static func storedChunks(
        run: Int64,
        from starts: [(keyId: Int64, firstStep: Int64)],
        in db: any StoreSQL
    ) throws -> [Int64: (firstSteps: [Int64], samples: [MetricSample])] {
        guard !starts.isEmpty else { return [:] }
        // Typed, so PostgreSQL knows the columns' types; SQLite reads the same list.
        let list = Array(repeating: "(CAST(? AS BIGINT), CAST(? AS BIGINT))", count: starts.count)
        var found: [Int64: (firstSteps: [Int64], samples: [MetricSample])] = [:]
        try db.forEachRow(
            sql: """
                WITH w(keyId, firstStep) AS (VALUES \(list.joined(separator: ", ")))
                SELECT c.keyId, c.firstStep, c.points FROM w JOIN metricChunk c
                    ON c.runId = ? AND c.keyId = w.keyId AND c.firstStep >= coalesce((SELECT max(firstStep)
                        FROM metricChunk WHERE runId = ? AND keyId = w.keyId AND firstStep <= w.firstStep), w.firstStep)
                ORDER BY c.keyId, c.firstStep
                """,
            arguments: StoreArguments(starts.flatMap { [$0.keyId, $0.firstStep] } + [run, run])
        ) { row in
            let points: [UInt8] = row[2]
            let samples = try points.withUnsafeBytes { try PackedMetricSeries.decode($0) }
            found[row[0], default: ([], [])].firstSteps.append(row[1])
            found[row[0], default: ([], [])].samples += samples
        }
        return found
    }

    /// What writing `incoming` (step-ordered, one sample a step, not empty) into one series over
    /// its `stored` chunks changes: the chunks to store (as `metricChunk` rows), the first steps of
    /// stored chunks no longer needed, and the series' last sample.
    private static func rewrite(
        run: Int64,
        keyId: Int64,
        _ incoming: [MetricSample],
        over stored: (firstSteps: [Int64], samples: [MetricSample])
    ) -> (chunks: [[StoreValue]], stale: [Int64], last: MetricSample?) {
        let series = merge(stored.samples, incoming)
        let packed = pack(series)
        let written = Set(packed.map(\.firstStep))
        let rows = packed.map { row(run: run, keyId: keyId, $0) }
        return (rows, stored.firstSteps.filter { !written.contains($0) }, series.last)
    }

    /// One chunk of a series: its first step, least and greatest value, and packed bytes.
    typealias Chunk = (firstStep: Int64, low: Double, high: Double, bytes: [UInt8])

    /// The start of the statement that stores chunks, for ``row(run:keyId:_:)``'s rows.
    static let insertSQL = "INSERT INTO metricChunk (runId, keyId, firstStep, minValue, maxValue, points)"

    /// A chunk of `run`'s series `keyId` as a `metricChunk` row, in ``insertSQL``'s column order.
    static func row(run: Int64, keyId: Int64, _ chunk: Chunk) -> [StoreValue] {
        [
            .integer(run), .integer(keyId), .integer(chunk.firstStep), .real(chunk.low), .real(chunk.high),
            .bytes(chunk.bytes),
        ]
    }

    /// Points of several series grouped by key, in the order given (the input ``write(run:_:in:)``
    /// and ``latestPerStep(_:)`` expect).
    static func series(_ points: [MetricPoint]) -> [String: [MetricSample]] {
        var series: [String: [MetricSample]] = [:]
        for p in points {
            series[p.key, default: []].append(MetricSample(step: Int64(p.step), value: p.value, time: p.time))
        }
        return series
    }

    /// A series (step-ordered, one sample a step) as its chunks, each closed once the next sample
    /// would take it past ``capacity``.
    static func pack(_ series: [MetricSample]) -> [Chunk] {
        var chunks: [Chunk] = []
        var index = 0
        var bytes: [UInt8] = []
        bytes.reserveCapacity(capacity)
        while index < series.count {
            let chunkStart = index
            var previous: MetricSample?
            var (low, high) = (series[index].value, series[index].value)
            bytes.removeAll(keepingCapacity: true)
            while index < series.count {
                let sample = series[index]
                let end = bytes.count
                PackedMetricSeries.append(CollectionOfOne(sample), after: previous, to: &bytes)
                if end > 0 && bytes.count > capacity {
                    bytes.removeSubrange(end...)  // it starts the next chunk
                    break
                }
                (low, high) = (min(low, sample.value), max(high, sample.value))
                previous = sample
                index += 1
            }
            chunks.append((series[chunkStart].step, low, high, bytes))
        }
        return chunks
    }

    /// `samples` in step order, keeping the last one given for each step.
    static func latestPerStep(_ samples: [MetricSample]) -> [MetricSample] {
        let ordered = samples.indices.sorted { (samples[$0].step, $0) < (samples[$1].step, $1) }
        var out: [MetricSample] = []
        out.reserveCapacity(samples.count)
        for i in ordered {
            if out.last?.step == samples[i].step { out[out.count - 1] = samples[i] } else { out.append(samples[i]) }
        }
        return out
    }

    /// Two step-ordered series as one; where both have a step, `newer`'s sample wins.
    static func merge(_ older: [MetricSample], _ newer: [MetricSample]) -> [MetricSample] {
        if older.last.map({ $0.step < newer.first?.step ?? .max }) ?? true { return older + newer }
        var out: [MetricSample] = []
        out.reserveCapacity(older.count + newer.count)
        var (i, j) = (0, 0)
        while i < older.count || j < newer.count {
            if j == newer.count || (i < older.count && older[i].step < newer[j].step) {
                out.append(older[i])
                i += 1
            } else {
                if i < older.count, older[i].step == newer[j].step { i += 1 }
                out.append(newer[j])
                j += 1
            }
        }
        return out
    }

    /// A series' samples in step order (empty when the run has no such key).
    static func history(run: Int64, keyId: Int64, in db: any StoreSQL) throws -> [MetricSample] {
        var out: [MetricSample] = []
        try db.forEachRow(
            sql: "SELECT points FROM metricChunk WHERE runId = ? AND keyId = ? ORDER BY firstStep",
            arguments: [run, keyId]
        ) { row in
            let points: [UInt8] = row[0]
            try points.withUnsafeBytes { out += try PackedMetricSeries.decode($0) }
        }
        return out
    }

    /// Checks every stored series: each chunk decodes, starts at its `firstStep`, follows the
    /// previous chunk's last step, holds its `minValue` and `maxValue`, and each series' last
    /// sample is its `latestMetric` row (and the other way round).
    /// - Returns: one line per damaged series, naming the run and the key.
    static func damagedSeries(in db: any StoreSQL) throws -> [String] {
        struct Series: Hashable {
            let run: Int64
            let key: String
        }
        var damaged: Set<Series> = []
        var last: [Series: MetricSample] = [:]
        try db.forEachRow(
            sql: """
                SELECT c.runId, k.name, c.firstStep, c.minValue, c.maxValue, c.points FROM metricChunk c
                JOIN metricKey k ON k.id = c.keyId ORDER BY c.runId, c.keyId, c.firstStep
                """,
            arguments: []
        ) { row in
            let series = Series(run: row[0], key: row[1])
            let (firstStep, low, high): (Int64, Double, Double) = (row[2], row[3], row[4])
            let points: [UInt8]? = row[5]
            let samples = try? (points ?? []).withUnsafeBytes { try PackedMetricSeries.decode($0) }
            guard let samples, let first = samples.first, first.step == firstStep,
                last[series].map({ $0.step < firstStep }) ?? true,
                samples.map(\.value).min() == low, samples.map(\.value).max() == high
            else {
                damaged.insert(series)
                return
            }
            last[series] = samples.last
        }
        for row in try db.fetchAll(
            StoreRow.self,
            sql: "SELECT l.runId, k.name, l.step, l.value FROM latestMetric l JOIN metricKey k ON k.id = l.keyId"
        ) {
            let series = Series(run: row[0], key: row[1])
            let (step, value): (Int64, Double) = (row[2], row[3])
            if let sample = last.removeValue(forKey: series), sample.step == step, sample.value == value { continue }
            damaged.insert(series)
        }
        damaged.formUnion(last.keys)
        return damaged.sorted { ($0.run, $0.key) < ($1.run, $1.key) }.map {
            "run \($0.run) metric '\($0.key)' (its packed series or its latest value)"
        }
    }

    /// Packs (step, value, time) rows into one chunk: the aggregate `fusebox_metric_pack`, used by
    /// migration 0010 to convert one-row-per-value series. Rows may come in any order.
    struct Packer: DatabaseAggregate {
        var samples: [MetricSample] = []

        init() {}

        mutating func step(_ values: [DatabaseValue]) throws {
            guard let step = Int64.fromDatabaseValue(values[0]), let value = Double.fromDatabaseValue(values[1]),
                let time = Int64.fromDatabaseValue(values[2])
            else { throw RegistryError(.corruptData, "A metric row holds a NULL or a non-number.") }
            samples.append(MetricSample(step: step, value: value, time: time))
        }

        func finalize() throws -> (any DatabaseValueConvertible)? {
            var bytes: [UInt8] = []
            PackedMetricSeries.append(samples.sorted { $0.step < $1.step }, after: nil, to: &bytes)
            return bytes.isEmpty ? nil : Data(bytes)
        }
    }

    static let packFunction = DatabaseFunction(
        "fusebox_metric_pack",
        argumentCount: 3,
        pure: true,
        aggregate: Packer.self
    )
}
