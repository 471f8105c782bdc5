import Foundation
import FuseboxTestSupport
import FusionCore
import TensorCore
import TensorIO
import Testing

@testable import RegistryPostgres
@testable import RegistryStore

/// One `Registry`, two backends: the registry's workflows, integrity checks and concurrency
/// guarantees, run unchanged on an SQLite file and on a PostgreSQL database (`Registry.open(url:)`).
@Suite struct RegistryOnBothBackendsTests {
    typealias Backend = StoreSQLTests.Backend

    /// A fresh store of `backend` (a file in a new folder, or a new database), its URL, and a
    /// folder for files.
    static func withStore(
        _ backend: Backend,
        _ body: (_ url: String, _ dir: TemporaryDirectory) async throws -> Void
    ) async throws {
        let dir = TemporaryDirectory()
        try await backend.withStore(in: dir) { url in try await body(url, dir) }
    }

    @Test(arguments: StoreSQLTests.backends)
    func versionsAliasesRunsAndSearchWork(_ backend: Backend) async throws {
        try await Self.withStore(backend) { url, dir in
            let registry = try Registry.open(url: url, logger: quietLogger)
            #expect(try await registry.appliedMigrations().contains(Registry.recordDigestMigration))
            try await registry.registerVersion(model: "fusion", classifier: smallClassifier(weights: [0.1, 0.2]))
            try await registry.registerVersion(
                model: "fusion",
                classifier: smallClassifier(weights: [0.6, 0.3]),
                tags: ["team": "vision"]
            )
            // A component larger than one 4 MiB chunk, streamed into the database on PostgreSQL.
            let floats = (0..<(1_300_000)).map { Float($0 % 977) }
            let path = dir.file("big.safetensors")
            try SafetensorsWriter.write([("w", Tensor(floats: floats, shape: [1_300_000]))], toPath: path)
            try await registry.registerComponent(model: "bert", safetensorsPath: path)
            try await registry.exportSafetensors(
                VersionReference(parsing: "bert@1"),
                toPath: dir.file("out.safetensors")
            )
            #expect(
                FileManager.default.contentsEqual(atPath: path, andPath: dir.file("out.safetensors")),
                "the export is the registered file, byte for byte"
            )

            try await registry.setAlias("production", model: "fusion", version: 1)
            try await registry.setAlias("production", model: "fusion", version: 2, reason: "better")
            try await registry.rollback("production", model: "fusion")
            #expect(try await registry.version(VersionReference(parsing: "fusion@production")).number == 1)
            let loaded = try await registry.loadClassifier(VersionReference(parsing: "fusion@production"))
            #expect(loaded.spec == (try smallClassifier(weights: [0.1, 0.2])).spec)
            #expect(try await registry.versions(of: "fusion").map(\.number) == [2, 1], "newest first")

            let run = try await registry.startRun(
                kind: .training,
                model: "fusion",
                params: ["lr": .number(0.1)],
                tags: ["team": "Vision"],
                name: "Zeta"
            )
            try await registry.logMetrics(
                run: run,
                (0..<500).map { MetricPoint(key: "loss", step: $0, value: 1 / Double($0 + 1)) }
            )
            try await registry.finishRun(run)
            #expect(try await registry.metricHistory(run: run, key: "loss").count == 500)
            let found = try await registry.searchRuns(where: "metrics.loss < 0.01 and params.lr = '0.1'")
            #expect(found.map(\.id) == [run])
            // The dialects agree: `like` folds ASCII case on both, and no filter at all is every run.
            #expect(try await registry.searchRuns(where: "tags.team like 'vis%' and name like 'z%'").map(\.id) == [run])
            #expect(try await registry.searchRuns(where: "tags.team like 'Vis_on'").map(\.id) == [run])
            #expect(try await registry.searchRuns(orderBy: "id asc").map(\.id) == [run])

            let report = try await registry.verify()
            #expect(report.damaged.isEmpty, "\(report.damaged)")
            #expect(report.blobsChecked >= 3)
        }
    }

    @Test(arguments: StoreSQLTests.backends)
    func damageIsFoundOnEitherBackend(_ backend: Backend) async throws {
        try await Self.withStore(backend) { url, _ in
            let registry = try Registry.open(url: url, logger: quietLogger)
            try await registry.registerVersion(model: "fusion", classifier: smallClassifier())
            try await registry.backend.writeSQL { db in
                try db.execute(
                    sql: "UPDATE modelVersion SET spec = replace(spec, '\"classCount\":3', '\"classCount\":4')"
                )
            }
            #expect(try await registry.verify().damaged == ["fusion@1 spec"])
            await #expect(throws: RegistryError.self) {
                try await registry.loadClassifier(VersionReference(parsing: "fusion@1"))
            }
        }
    }

    /// Four registries (four connections, as four processes would hold) register 25 versions
    /// each of one model at once: the numbers are 1…100, each given once, with no error.
    @Test(arguments: StoreSQLTests.backends)
    func concurrentWritersGetGaplessNumbers(_ backend: Backend) async throws {
        try await Self.withStore(backend) { url, _ in
            _ = try Registry.open(url: url, logger: quietLogger)
            let classifier = try smallClassifier()
            let numbers = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<4 {
                    let registry = try Registry.open(url: url, logger: quietLogger)
                    group.addTask {
                        var mine: [Int] = []
                        for _ in 0..<25 {
                            mine.append(try await registry.registerVersion(model: "m", classifier: classifier))
                        }
                        return mine
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(numbers.sorted() == Array(1...100))
        }
    }
}
