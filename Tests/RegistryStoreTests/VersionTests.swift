import Foundation
import FuseboxTestSupport
import FusionCore
import GRDB
import TensorCore
import TensorIO
import Testing

@testable import RegistryStore

struct VersionTests {
    @Test(arguments: TestStore.available)
    func versionsAreNumberedAndLoadBack(_ store: TestStore) async throws {
        try await store.withRegistry { registry in
            let model = try smallClassifier()
            #expect(
                try await registry.registerVersion(model: "fusion", classifier: model, tags: ["team": "vision"]) == 1
            )
            #expect(
                try await registry.registerVersion(model: "fusion", classifier: smallClassifier(weights: [1, 2])) == 2
            )
            let loaded = try await registry.loadClassifier(VersionReference(parsing: "fusion@1"))
            #expect(loaded.parameters == model.parameters)
            #expect(loaded.spec == model.spec)
            let latest = try await registry.version(VersionReference(parsing: "fusion"))
            #expect(latest.number == 2)
            let first = try await registry.version(VersionReference(parsing: "fusion@1"))
            #expect(first.tags == ["team": "vision"])
            await #expect(throws: RegistryError.self) {
                try await registry.version(VersionReference(parsing: "fusion@3"))
            }
            await #expect(throws: RegistryError.self) { try await registry.version(VersionReference(parsing: "nope")) }
        }
    }

    @Test(arguments: TestStore.available)
    func identicalWeightsAreStoredOnceAndOneChangedTensorAddsOnlyItself(_ store: TestStore) async throws {
        try await store.withRegistry { registry in
            let dir = TemporaryDirectory()
            let path = dir.file("cnn.safetensors")
            var rng = TestRandom(seed: 5)
            let big = Tensor(floats: (0..<100_000).map { _ in Float.random(in: -1...1, using: &rng) }, shape: [100_000])
            let small = Tensor(floats: [1, 2, 3], shape: [3])
            try SafetensorsWriter.write([("conv.weight", big), ("conv.bias", small)], toPath: path)
            try await registry.registerComponent(model: "cnn", safetensorsPath: path)
            let once = try await registry.verify()
            #expect(once.blobsChecked == 2 && once.bytesChecked == 400_012)
            // The same file again adds no bytes.
            try await registry.registerComponent(model: "cnn", safetensorsPath: path)
            #expect(try await registry.verify().bytesChecked == 400_012)
            // Changing the small tensor adds only its 12 bytes.
            try SafetensorsWriter.write(
                [("conv.weight", big), ("conv.bias", Tensor(floats: [1, 2, 4], shape: [3]))],
                toPath: path,
                overwrite: true
            )
            #expect(try await registry.registerComponent(model: "cnn", safetensorsPath: path) == 3)
            let after = try await registry.verify()
            #expect(after.blobsChecked == 3 && after.bytesChecked == 400_024)
        }
    }

    @Test(arguments: TestStore.available)
    func registeredSafetensorsExportsByteIdentical(_ store: TestStore) async throws {
        try await store.withRegistry { registry in
            let dir = TemporaryDirectory()
            let path = dir.file("in.safetensors")
            // A header with metadata, unusual key order and padding, as another writer might produce.
            let header =
                #"{"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},"__metadata__":{"z":"1","a":"2"},"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}   "#
            let h = Array(header.utf8)
            try writeBytes(
                [UInt8(h.count), 0, 0, 0, 0, 0, 0, 0] + h + [1, 2, 3, 4] + [0, 0, 128, 63, 0, 0, 0, 64],
                to: path
            )
            try await registry.registerComponent(model: "bert", safetensorsPath: path)
            try await registry.exportSafetensors(
                VersionReference(parsing: "bert@1"),
                toPath: dir.file("out.safetensors")
            )
            #expect(try SHA256Hex.ofFile(atPath: dir.file("out.safetensors")) == SHA256Hex.ofFile(atPath: path))
            // Never overwrites without permission.
            await #expect(throws: RegistryError.self) {
                try await registry.exportSafetensors(
                    VersionReference(parsing: "bert@1"),
                    toPath: dir.file("out.safetensors")
                )
            }
            // A fused version exports with its spec in the metadata, loadable as safetensors.
            try await registry.registerVersion(model: "fusion", classifier: smallClassifier())
            try await registry.exportSafetensors(
                VersionReference(parsing: "fusion"),
                toPath: dir.file("fusion.safetensors")
            )
            let file = try SafetensorsFile(path: dir.file("fusion.safetensors"))
            #expect(file.header.metadata.contains { $0.key == "fusebox.spec" })
            #expect(try file.tensor(named: "fusion.weights").floats() == [0.2, 0.7])
        }
    }

    @Test func aFlippedByteIsCaughtOnLoadAndByVerifyAndOtherVersionsStillLoad() async throws {
        let queue = try DatabaseQueue()
        let registry = try Registry(queue, logger: quietLogger)
        try await registry.registerVersion(model: "fusion", classifier: smallClassifier(weights: [0.1, 0.2]))
        try await registry.registerVersion(model: "fusion", classifier: smallClassifier(weights: [0.3, 0.4]))
        // Flip one byte of version 1's only tensor.
        try await queue.write { db in
            let blob = try Int64.fetchOne(
                db,
                sql: "SELECT t.blobId FROM versionTensor t JOIN modelVersion v ON v.id = t.versionId WHERE v.number = 1"
            )!
            var bytes = try Data.fetchOne(db, sql: "SELECT bytes FROM tensorChunk WHERE blobId = ?", arguments: [blob])!
            bytes[0] ^= 0x01
            try db.execute(sql: "UPDATE tensorChunk SET bytes = ? WHERE blobId = ?", arguments: [bytes, blob])
        }
        await #expect {
            try await registry.loadClassifier(VersionReference(parsing: "fusion@1"))
        } throws: { error in
            let text = "\(error)"
            return (error as? RegistryError)?.code == .corruptData && text.contains("fusion@1")
                && text.contains("'fusion.weights'")
        }
        #expect(
            try await registry.loadClassifier(VersionReference(parsing: "fusion@2")).parameters["fusion.weights"]!
                .values == [0.3, 0.4]
        )
        let report = try await registry.verify()
        #expect(report.damaged == ["fusion@1 tensor 'fusion.weights'"])
        #expect(!report.isHealthy)
    }

    @Test(arguments: TestStore.available)
    func deletedVersionsLeaveBlobsForGarbageCollection(_ store: TestStore) async throws {
        try await store.withRegistry { registry in
            try await registry.registerVersion(model: "m", classifier: smallClassifier(weights: [1, 1]))
            try await registry.registerVersion(model: "m", classifier: smallClassifier(weights: [2, 2]))
            try await registry.deleteVersion(VersionReference(parsing: "m@1"))
            let dry = try await registry.collectGarbage(dryRun: true)
            #expect(dry.blobs == 1 && dry.bytes == 8)
            #expect(try await registry.verify().blobsChecked == 2)
            #expect(try await registry.collectGarbage().blobs == 1)
            #expect(try await registry.verify().blobsChecked == 1)
            #expect(try await registry.verify().isHealthy)
            #expect(try await registry.collectGarbage().blobs == 0)
        }
    }

    @Test(arguments: TestStore.available)
    func namesAreValidatedAndInjectionIsInert(_ store: TestStore) async throws {
        try await store.withRegistry { registry in
            for bad in [
                "", "a b", "x'; DROP TABLE model; --", "na\u{0}me", String(repeating: "a", count: 129), "-lead", "é",
            ] {
                await #expect(throws: RegistryError.self, "\(bad)") {
                    try await registry.createModel(bad, kind: .fused)
                }
            }
            // Tag values with quotes, semicolons, % and unicode are stored and matched literally.
            let tricky = "O'Brien; DROP TABLE run; -- 100% ✓"
            try await registry.registerVersion(model: "m", classifier: smallClassifier(), tags: ["owner": tricky])
            #expect(try await registry.version(VersionReference(parsing: "m")).tags["owner"] == tricky)
            await #expect(throws: RegistryError.self) {
                try await registry.registerVersion(
                    model: "m",
                    classifier: smallClassifier(),
                    tags: ["owner": "nul\u{0}"]
                )
            }
            #expect(try await registry.models().count == 1)
        }
    }
}
