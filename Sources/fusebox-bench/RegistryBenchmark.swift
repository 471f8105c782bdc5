import Foundation
import FusionCore
import Logging
import RegistryPostgres
import RegistryStore
import TensorCore
import TensorIO

/// Registry operations on real stores — files, or with `--db postgres://…` databases on that
/// server — with the sizes of ../shared/anchors/mlflow/bench.py where they overlap. `--json`
/// prints one object with the issue's keys.
struct RegistryBenchmark {
    let options: BenchOptions
    let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }

    func run() async throws {
        let dir = options.string("dir", NSTemporaryDirectory() + "fusebox-registry-bench-\(getpid())")
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // --keep leaves the stores (scripts/bench-api-search.sh serves search-10000.sqlite).
        defer { if options.values["keep"] == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let repeats = options.int("repeats", 3)
        let millionRuns = options.int("search-runs-large", 1_000_000)
        let bigMiB = options.int("size-mib", 1024)
        let batchCount = options.int("metric-batches", 100)
        // --only limits,metrics,versions,aliases,search,files runs those sections; all by default.
        let only = options.string("only", "").split(separator: ",").map(String.init)
        let stores = BenchStores(dir: dir, server: options.values["db"], logger: logger)
        func wants(_ section: String) -> Bool { only.isEmpty || only.contains(section) }
        var figures: [String: Double] = [:]
        var ranges: [String: [Double]] = [:]
        func record(_ key: String, _ values: [Double]) {
            figures[key] = Measure.median(values)
            ranges[key] = values
            FileHandle.standardError.write(Data("\(key): \(Measure.summary(values, "%.4g"))\n".utf8))
        }

        // (0) The machine's own limits, so each figure below reads as a share of them from one run:
        // SHA-256 over memory (swift-crypto, as the store hashes), and a streaming write of
        // --size-mib in 4 MiB chunks ending in fsync (cp of the same size is in section (e)).
        if wants("limits") {
            var rng = SeededRandom(seed: 5)
            var buffer = [UInt8](repeating: 0, count: 64 << 20)
            buffer.withUnsafeMutableBytes { raw in
                for offset in stride(from: 0, to: raw.count, by: 8) {
                    raw.storeBytes(of: rng.next(), toByteOffset: offset, as: UInt64.self)
                }
            }
            var hashing: [Double] = []
            var writing: [Double] = []
            let chunk = Data(buffer.prefix(4 << 20))
            for _ in 0..<repeats {
                hashing.append(Double(buffer.count) / 1e6 / Measure.seconds { _ = SHA256Hex.of(buffer) })
                let path = "\(dir)/stream.bin"
                writing.append(
                    Double(bigMiB) * 1.048576
                        / (try Measure.seconds {
                            FileManager.default.createFile(atPath: path, contents: nil)
                            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path, isDirectory: false))
                            for _ in 0..<bigMiB / 4 { try handle.write(contentsOf: chunk) }
                            try handle.synchronize()
                            try handle.close()
                        })
                )
                try FileManager.default.removeItem(atPath: path)
            }
            record("limit_sha256_mb_per_s", hashing)
            record("limit_stream_write_mb_per_s", writing)
        }

        // (a) metric logging, batched: 200 values per call (MLflow's log_batch size), 100 calls
        // (--metric-batches) into one run.
        if wants("metrics") {
            let registry = try stores.open("metrics")
            var rates: [Double] = []
            for _ in 0..<repeats {
                let run = try await registry.startRun(kind: .training)
                let batches = (0..<batchCount).map { b in
                    (0..<200).map { i in
                        MetricPoint(
                            key: ["accuracy", "loss", "w_image", "w_text"][i % 4],
                            step: b * 50 + i / 4,
                            value: Double(i)
                        )
                    }
                }
                let seconds = try await Measure.asyncSeconds {
                    for batch in batches { try await registry.logMetrics(run: run, batch) }
                }
                rates.append(Double(batchCount * 200) / seconds)
            }
            record("metrics_per_s", rates)
            // One big batch: the store's raw rate.
            let run = try await registry.startRun(kind: .training)
            let big = (0..<100_000).map { MetricPoint(key: "loss", step: $0, value: 1 / Double($0 + 1)) }
            record(
                "metrics_per_s_one_batch_100k",
                [100_000 / (try await Measure.asyncSeconds { try await registry.logMetrics(run: run, big) })]
            )
            // 1,000-step history read.
            let history = try await registry.startRun(kind: .training)
            try await registry.logMetrics(
                run: history,
                (0..<1000).map { MetricPoint(key: "val_accuracy", step: $0, value: Double($0) / 1000) }
            )
            var reads: [Double] = []
            for _ in 0..<max(repeats, 20) {
                reads.append(
                    1000
                        * (try await Measure.asyncSeconds {
                            _ = try await registry.metricHistory(run: history, key: "val_accuracy")
                        })
                )
            }
            record("metric_history_ms_1000", reads)
        }
        // Bytes per metric value: file growth for 1M values (checkpointed); a file's figure.
        if wants("metrics") && !stores.isPostgres {
            let path = "\(dir)/size.sqlite"
            let registry = try Registry.open(atPath: path, logger: logger)
            let run = try await registry.startRun(kind: .training)
            try await registry.backup(toPath: "\(dir)/size-before.sqlite")
            for chunk in 0..<10 {
                try await registry.logMetrics(
                    run: run,
                    (0..<100_000).map {
                        MetricPoint(
                            key: ["accuracy", "loss", "w_image", "w_text"][$0 % 4],
                            step: chunk * 25_000 + $0 / 4,
                            value: Double.random(in: 0...1)
                        )
                    }
                )
            }
            try await registry.backup(toPath: "\(dir)/size-after.sqlite")
            let before = try FileManager.default.attributesOfItem(atPath: "\(dir)/size-before.sqlite")[.size] as! Int
            let after = try FileManager.default.attributesOfItem(atPath: "\(dir)/size-after.sqlite")[.size] as! Int
            record("bytes_per_metric_value", [Double(after - before) / 1_000_000])
        }

        // (b) versions with 1 MiB of weights: run + version + finish, each its own transaction.
        if wants("versions") {
            let registry = try stores.open("versions")
            let classes = 362  // stacking over 2 modalities: a 724 × 362 Float32 kernel = 1.0 MiB
            let spec = FusionSpec(
                classCount: classes,
                modalities: ["image", "text"].map { ModalitySpec(name: $0, kind: .probs, width: classes, layers: []) },
                method: .stacking
            )
            var rng = SeededRandom(seed: 1)
            let models = try (0..<100).map { _ in
                try FusedClassifier(
                    spec: spec,
                    parameters: [
                        "fusion.kernel": Matrix(
                            rows: 2 * classes,
                            columns: classes,
                            values: (0..<2 * classes * classes).map { _ in rng.unitFloat() }
                        ),
                        "fusion.bias": Matrix(rows: 1, columns: classes),
                    ]
                )
            }
            var rates: [Double] = []
            for r in 0..<repeats {
                let seconds = try await Measure.asyncSeconds {
                    for m in models {
                        let run = try await registry.startRun(kind: .training, model: nil)
                        try await registry.registerVersion(
                            model: "weights-\(r)",
                            classifier: m,
                            lineage: Lineage(trainingRun: run),
                            finishingRun: run
                        )
                    }
                }
                rates.append(Double(models.count) / seconds)
            }
            record("versions_per_s_1mib", rates)
            // A new fusebox process resolving an alias and loading (verifying) its 1 MiB of weights.
            try await registry.setAlias("production", model: "weights-0", version: 7)
            if let cli = options.values["fusebox"] ?? Self.siblingBinary("fusebox") {
                var times: [Double] = []
                for _ in 0..<max(repeats, 10) {
                    times.append(
                        1000
                            * (try Child.run(
                                cli,
                                [
                                    "export", "weights-0@production", "-o", "\(dir)/loaded.safetensors", "--force",
                                    "--db", stores.address("versions"),
                                ]
                            )).seconds
                    )
                }
                record("new_process_load_ms", times)
            }
        }

        // (c) alias moves with 500 and 5,000 versions of one model.
        for count in [500, 5000] where wants("aliases") {
            let registry = try stores.open("alias-\(count)")
            let tiny = try FusedClassifier(
                spec: FusionSpec(
                    classCount: 2,
                    modalities: ["a", "b"].map { ModalitySpec(name: $0, kind: .probs, width: 2, layers: []) },
                    method: .weightedAverage
                ),
                parameters: ["fusion.weights": Matrix([[0.5, 0.5]])]
            )
            for _ in 0..<count { try await registry.registerVersion(model: "m", classifier: tiny) }
            var rates: [Double] = []
            for _ in 0..<repeats {
                let seconds = try await Measure.asyncSeconds {
                    for i in 0..<500 {
                        try await registry.setAlias("production", model: "m", version: 1 + (i * 37) % count)
                    }
                }
                rates.append(500 / seconds)
            }
            record("alias_moves_per_s_\(count == 500 ? "500" : "5000")", rates)
        }

        // (d) run search: MLflow's query over 2k, 10k and a million runs, and over the store
        // --search-store names, as it is (a store built by an earlier run, or one in service).
        if wants("search"), let address = options.values["search-store"] {
            let registry = try Registry.open(url: address, createIfMissing: false, access: .readOnly, logger: logger)
            record(
                "search_ms_given_store",
                try await Self.timeSearch(registry, repeats: repeats, label: "search_ms_given_store")
            )
        }
        for (key, total) in [("search_ms_2k", 2_000), ("search_ms_10k", 10_000), ("search_ms_1m", millionRuns)]
        where wants("search") {
            // Imported 50,000 runs a call (`importRuns`: one statement a run, their rows in
            // batches), timed as import_runs_per_s.
            let registry = try stores.open("search-\(total)")
            var rng = SeededRandom(seed: UInt64(total))
            var imported = 0
            var importSeconds = 0.0
            while imported < total {
                let n = min(50_000, total - imported)
                let runs = (0..<n).map { _ in
                    ImportedRun(
                        model: "fusion",
                        startedAt: 1.7e9,
                        endedAt: 1.7e9 + 60,
                        params: [
                            "fusion": .text(rng.index(below: 10) == 0 ? "weighted" : "concat"), "epochs": 50,
                            "lr": 0.001, "batch": 256, "seed": .number(Double(rng.index(below: 1000))),
                        ],
                        metrics: [
                            MetricPoint(key: "accuracy", step: 49, value: Double(rng.unitFloat()), time: 0),
                            MetricPoint(key: "loss", step: 49, value: Double(rng.unitFloat()), time: 0),
                            MetricPoint(key: "w_image", step: 49, value: 0.7, time: 0),
                            MetricPoint(key: "w_text", step: 49, value: 0.3, time: 0),
                        ]
                    )
                }
                importSeconds += try await Measure.asyncSeconds { try await registry.importRuns(runs) }
                imported += n
            }
            record("import_runs_per_s_\(key.dropFirst("search_ms_".count))", [Double(total) / importSeconds])
            if stores.isPostgres { try stores.settle("search-\(total)") }
            record(key, try await Self.timeSearch(registry, repeats: repeats, label: key))
        }

        // (e) register and export a large safetensors file, against cp of the same file.
        if wants("files") {
            let path = "\(dir)/big.safetensors"
            let n = bigMiB * (1 << 20) / 4 / 8
            var rng = SeededRandom(seed: 3)
            try SafetensorsWriter.write(
                (0..<8).map { i in
                    ("t\(i)", Tensor(floats: (0..<n).map { _ in Float(rng.next() & 0xFFFF) }, shape: [n]))
                },
                toPath: path
            )
            let mb = Double(bigMiB) * 1.048576
            var register: [Double] = []
            var export: [Double] = []
            var copy: [Double] = []
            var durableCopy: [Double] = []
            for r in 0..<repeats {
                let store = "big-\(r)"
                let registry = try stores.open(store)
                register.append(
                    mb
                        / (try await Measure.asyncSeconds {
                            try await registry.registerComponent(model: "big", safetensorsPath: path)
                        })
                )
                export.append(
                    mb
                        / (try await Measure.asyncSeconds {
                            try await registry.exportSafetensors(
                                VersionReference(parsing: "big@1"),
                                toPath: "\(dir)/out.safetensors",
                                overwrite: true
                            )
                        })
                )
                copy.append(mb / (try Child.run("cp", [path, "\(dir)/copy.safetensors"])).seconds)
                // The same copy made durable, as registering and exporting are (`cp` alone
                // measures the page cache: its bytes reach the disk after it returns).
                try? FileManager.default.removeItem(atPath: "\(dir)/copy.safetensors")
                durableCopy.append(
                    mb
                        / (try Child.run(
                            "/bin/sh",
                            ["-c", "cp '\(path)' '\(dir)/copy.safetensors' && sync '\(dir)/copy.safetensors'"]
                        )).seconds
                )
                let (exported, original) = (
                    try SHA256Hex.ofFile(atPath: "\(dir)/out.safetensors"), try SHA256Hex.ofFile(atPath: path)
                )
                precondition(exported == original, "the export differs from the registered file")
                stores.remove(store)
            }
            record("register_mb_per_s_1gib", register)
            record("export_mb_per_s_1gib", export)
            record("cp_mb_per_s_1gib", copy)
            record("cp_sync_mb_per_s_1gib", durableCopy)
            // Memory stays bounded: the peak resident set of a fusebox process registering, then
            // exporting, the same file.
            if let cli = options.values["fusebox"] ?? Self.siblingBinary("fusebox") {
                _ = try stores.open("big-cli")
                let store = stores.address("big-cli")
                let registering = try Child.run(cli, ["register", "big", "--weights", path, "--db", store])
                let exporting = try Child.run(
                    cli,
                    ["export", "big@1", "-o", "\(dir)/out.safetensors", "--force", "--db", store]
                )
                record("register_peak_rss_mib_1gib", [registering.peakRSSMiB])
                record("export_peak_rss_mib_1gib", [exporting.peakRSSMiB])
                stores.remove("big-cli")
            }
        }

        // Shares of the machine's limits, from this run's medians.
        func share(_ key: String, _ value: Double?, of limit: Double?) {
            guard let value, let limit else { return }
            figures[key] = value / limit
            ranges[key] = [value / limit]
        }
        share("register_share_of_cp", figures["register_mb_per_s_1gib"], of: figures["cp_mb_per_s_1gib"])
        share("export_share_of_cp", figures["export_mb_per_s_1gib"], of: figures["cp_mb_per_s_1gib"])
        share("register_share_of_cp_sync", figures["register_mb_per_s_1gib"], of: figures["cp_sync_mb_per_s_1gib"])
        share("export_share_of_cp_sync", figures["export_mb_per_s_1gib"], of: figures["cp_sync_mb_per_s_1gib"])
        share(
            "versions_share_of_sha256",
            figures["versions_per_s_1mib"].map { $0 * 1.048576 },
            of: figures["limit_sha256_mb_per_s"]
        )

        if options.json {
            let data = try JSONSerialization.data(withJSONObject: figures, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("| figure | median | range (\(repeats)+ repeats) |")
            print("|---|---|---|")
            for key in figures.keys.sorted() {
                print(
                    "| \(key) | \(String(format: "%.4g", figures[key]!)) | \(String(format: "%.4g", ranges[key]!.min()!))–\(String(format: "%.4g", ranges[key]!.max()!)) |"
                )
            }
        }
    }

    /// A binary built beside this one.
    /// Milliseconds per search with MLflow's query (a 1,000-run page), at least 20 times; the
    /// number of hits goes to standard error under `label`.
    static func timeSearch(_ registry: Registry, repeats: Int, label: String) async throws -> [Double] {
        var times: [Double] = []
        var hits = 0
        for _ in 0..<max(repeats, 20) {
            times.append(
                1000
                    * (try await Measure.asyncSeconds {
                        hits = try await registry.searchRuns(
                            where: "metrics.accuracy > 0.9 and params.fusion = 'weighted'",
                            orderBy: "metrics.accuracy desc",
                            limit: 1000
                        ).count
                    })
            )
        }
        FileHandle.standardError.write(Data("\(label): \(hits) hits (first page of at most 1000)\n".utf8))
        return times
    }

    static func siblingBinary(_ name: String) -> String? {
        let path = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
            name
        ).path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }
}
