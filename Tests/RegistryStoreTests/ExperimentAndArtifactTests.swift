import Foundation
import FuseboxTestSupport
import GRDB
import TensorCore
import TensorIO
import Testing

@testable import RegistryStore

/// What MLflow brought: experiments that group runs (deleted and restored with them), artifacts
/// stored content-addressed, verified and collected, versions made from a tensor artifact, and
/// the model-level annotations MLflow's registry can change.
struct ExperimentAndArtifactTests {
    @Test(arguments: TestStore.available)
    func deletingAnExperimentDeletesItsRunsAndRestoringBringsThemBack(_ store: TestStore) async throws {
        try await store.withRegistry { registry in
            let experiment = try await registry.createExperiment("vision", tags: ["team": "cv"])
            await #expect(throws: RegistryError.self) { try await registry.createExperiment("vision") }
            let done = try await registry.startRun(kind: .training, experiment: experiment, name: "a")
            try await registry.finishRun(done)
            let running = try await registry.startRun(kind: .training, experiment: experiment, name: "b")
            let deletedBefore = try await registry.startRun(kind: .training, experiment: experiment)
            try await registry.finishRun(deletedBefore)
            try await registry.deleteRun(deletedBefore)

            try await registry.deleteExperiment(experiment)
            #expect(try await registry.experiment(experiment).deletedAt != nil)
            #expect(try await registry.experiments().map(\.name) == ["Default"])
            let live = try await registry.searchRuns(where: "experiment = \(experiment)").map(\.id)
            #expect(live == [running], "a running run stays")
            await #expect(throws: RegistryError.self) {
                try await registry.startRun(kind: .training, experiment: experiment)
            }

            try await registry.restoreExperiment(experiment)
            let restored = try await registry.searchRuns(where: "experiment = \(experiment)", orderBy: "id asc").map(
                \.id
            )
            #expect(restored == [done, running], "the run deleted before stays deleted")
            #expect(try await registry.run(done).name == "a")
            await #expect(throws: RegistryError.self) { try await registry.deleteExperiment(0) }
            try await registry.renameExperiment(experiment, to: "vision-2")
            #expect(try await registry.experiment(named: "vision-2").tags == ["team": "cv"])
            #expect(try await registry.verify().isHealthy)
        }
    }

    @Test func artifactsAreContentAddressedListedVerifiedAndCollected() async throws {
        let dir = TemporaryDirectory()
        let registry = try Registry.open(atPath: dir.file("store.sqlite"), logger: quietLogger)
        let run = try await registry.startRun(kind: .training)
        try await registry.finishRun(run)
        let root = "0/\(run)/artifacts"
        try Data("same bytes".utf8).write(to: URL(fileURLWithPath: dir.file("a.txt")))
        try await registry.putArtifact("\(root)/notes/a.txt", fromFile: dir.file("a.txt"))
        try await registry.putArtifact("\(root)/b.txt", fromFile: dir.file("a.txt"))
        let listed = try await registry.listArtifacts(in: root)
        #expect(listed.map(\.path) == ["b.txt", "notes"])
        #expect(listed.map(\.isDirectory) == [false, true])
        #expect(try await registry.listArtifacts(in: "\(root)/b.txt").isEmpty, "a file lists nothing, as in MLflow")
        let blobs = try await registry.read { db in try db.fetchOne(Int.self, sql: "SELECT count(*) FROM tensorBlob") }
        #expect(blobs == 1, "the same bytes are stored once")

        try await registry.exportArtifact("\(root)/notes/a.txt", toPath: dir.file("out.txt"))
        #expect(FileManager.default.contents(atPath: dir.file("out.txt")) == Data("same bytes".utf8))
        for bad in ["", "/abs", "a/../b", "a//b", "a/./b"] {
            await #expect(throws: RegistryError.self, "\(bad)") {
                try await registry.putArtifact(bad, fromFile: dir.file("a.txt"))
            }
        }

        // A flipped byte is found by the download and by verify, naming the artifact.
        try await registry.write { db in
            try db.execute(sql: "UPDATE tensorChunk SET bytes = CAST('same bytez' AS BLOB)")
        }
        await #expect(throws: RegistryError.self) {
            try await registry.exportArtifact("\(root)/b.txt", toPath: dir.file("bad.txt"))
        }
        #expect(!FileManager.default.fileExists(atPath: dir.file("bad.txt")))
        let report = try await registry.verify()
        #expect(report.damaged.contains { $0.contains("artifact '\(root)/b.txt'") }, "\(report.damaged)")

        // Deleting the run and collecting garbage takes its artifacts and their bytes.
        try await registry.deleteRun(run)
        let dry = try await registry.collectGarbage(dryRun: true)
        #expect(dry.runs == 1 && dry.blobs == 1)
        #expect(try await registry.listArtifacts(in: root).count == 2, "a dry run changes nothing")
        let done = try await registry.collectGarbage()
        #expect(done.runs == 1 && done.blobs == 1)
        #expect(try await registry.listArtifacts(in: root).isEmpty)
    }

    @Test func aTensorArtifactBecomesAComponentVersionExportedByteForByte() async throws {
        let dir = TemporaryDirectory()
        let registry = try Registry.open(atPath: dir.file("store.sqlite"), logger: quietLogger)
        let run = try await registry.startRun(kind: .training)
        let tensor = Tensor(floats: [1, 2, 3, 4, 5, 6], shape: [2, 3])
        try SafetensorsWriter.write([("w", tensor)], toPath: dir.file("w.safetensors"))
        try NumPyArray.write(tensor, toPath: dir.file("w.npy"))
        try await registry.putArtifact("0/\(run)/artifacts/model/w.safetensors", fromFile: dir.file("w.safetensors"))
        try await registry.putArtifact("0/\(run)/artifacts/npy/w.npy", fromFile: dir.file("w.npy"))
        try await registry.putArtifact("0/\(run)/artifacts/both/a.npy", fromFile: dir.file("w.npy"))
        try await registry.putArtifact("0/\(run)/artifacts/both/b.npy", fromFile: dir.file("w.npy"))

        let first = try await registry.registerComponent(
            model: "cnn",
            artifact: "0/\(run)/artifacts/model",
            trainingRun: run,
            source: "runs:/\(run)/model",
            description: "first"
        )
        try await registry.exportSafetensors(
            VersionReference(parsing: "cnn@\(first)"),
            toPath: dir.file("out.safetensors")
        )
        #expect(
            FileManager.default.contents(atPath: dir.file("out.safetensors"))
                == FileManager.default.contents(atPath: dir.file("w.safetensors"))
        )
        let second = try await registry.registerComponent(model: "cnn", artifact: "0/\(run)/artifacts/npy")
        let version = try await registry.version(VersionReference(parsing: "cnn@\(second)"))
        #expect(version.tensors.map(\.name) == ["w"] && version.tensors[0].shape == [2, 3])
        await #expect(throws: RegistryError.self) {
            try await registry.registerComponent(model: "cnn", artifact: "0/\(run)/artifacts/both")
        }
        let described = try await registry.version(VersionReference(parsing: "cnn@\(first)"))
        #expect(described.source == "runs:/\(run)/model" && described.description == "first")
        #expect(described.trainingRun == run)

        try await registry.setVersionTag(VersionReference(parsing: "cnn@1"), key: "validated", value: "yes")
        try await registry.setModelTag("cnn", key: "owner", value: "vision")
        try await registry.renameModel("cnn", to: "image-cnn")
        #expect(try await registry.model("image-cnn").tags == ["owner": "vision"])
        #expect(try await registry.version(VersionReference(parsing: "image-cnn@1")).tags == ["validated": "yes"])
        #expect(try await registry.verify().isHealthy, "a tag change seals the version again")

        _ = try await registry.setAlias("production", model: "image-cnn", version: 1)
        try await registry.deleteModel("image-cnn")
        #expect(try await registry.model("image-cnn").deletedAt != nil)
        #expect(try await registry.versions(of: "image-cnn").isEmpty)
        #expect(try await registry.aliasEvents(of: "image-cnn").first?.action == .delete)
        try await registry.createModel("image-cnn", kind: .component)
        #expect(try await registry.model("image-cnn").deletedAt == nil)
        let third = try await registry.registerComponent(model: "image-cnn", artifact: "0/\(run)/artifacts/model")
        #expect(third == 3, "numbers are never given again")
        // Registering into a deleted model brings it back too.
        try await registry.deleteModel("image-cnn")
        _ = try await registry.registerComponent(model: "image-cnn", safetensorsPath: dir.file("w.safetensors"))
        #expect(try await registry.model("image-cnn").deletedAt == nil)
    }

    @Test(arguments: TestStore.available)
    func importedRunsAreSealedLikeEveryEndedRun(_ store: TestStore) async throws {
        try await store.withRegistry { registry in
            try await registry.importRuns([
                ImportedRun(
                    startedAt: 1.7e9,
                    endedAt: 1.7e9 + 5,
                    params: ["lr": 0.1],
                    metrics: [MetricPoint(key: "acc", step: 0, value: 0.5)]
                )
            ])
            #expect(try await registry.verify().isHealthy, "an imported run had no digest")
        }
    }
}
