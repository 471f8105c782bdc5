import Foundation
import FuseboxTestSupport
import FusionCore
import GRDB
import TensorCore
import TensorIO
import Testing

@testable import RegistryStore

/// Large tensors as content-addressed files beside the store (`<store>-objects/ab/cdef…`): written
/// and flushed before the row that names them commits, read back verified, covered by `verify`,
/// `gc` and `backup`.
struct ObjectFolderTests {
    /// A store file in `dir` holding a component with one tensor above the object threshold
    /// (`floats` × 4 bytes) and one small one.
    static func storeWithComponent(
        _ dir: TemporaryDirectory,
        floats: Int = 1_200_000,
        seed: UInt64 = 1
    ) async throws
        -> (Registry, String)
    {
        let registry = try Registry.open(atPath: dir.file("store.sqlite"), logger: quietLogger)
        let file = dir.file("cnn-\(seed).safetensors")
        try writeComponent(file, floats: floats, seed: seed)
        try await registry.registerComponent(model: "cnn", safetensorsPath: file)
        return (registry, file)
    }

    static func writeComponent(_ path: String, floats: Int, seed: UInt64) throws {
        try writeComponentFile(path, floats: floats, seed: seed)
    }

    static func blobs(_ registry: Registry) async throws -> [(sha256: String, inObjectFolder: Bool, chunks: Int)] {
        try await registry.read { db in
            try db.fetchAll(
                StoreRow.self,
                sql: """
                    SELECT sha256, inObjectFolder, (SELECT count(*) FROM tensorChunk c WHERE c.blobId = b.id) AS chunks
                    FROM tensorBlob b ORDER BY byteCount DESC
                    """
            ).map { ($0["sha256"], $0["inObjectFolder"], $0["chunks"]) }
        }
    }

    @Test func aLargeTensorIsOneObjectFileAndExportsBitForBit() async throws {
        let dir = TemporaryDirectory()
        let (registry, file) = try await Self.storeWithComponent(dir)
        let stored = try await Self.blobs(registry)
        #expect(stored.count == 2)
        #expect(stored[0].inObjectFolder && stored[0].chunks == 0, "the 4.8 MB tensor is an object")
        #expect(!stored[1].inObjectFolder && stored[1].chunks == 1, "the 12-byte tensor stays in the database")
        let folder = try #require(registry.objectFolderPath)
        #expect(folder == dir.file("store.sqlite-objects"))
        let object = ObjectFolder(root: folder)
        #expect(try object.digests() == [stored[0].sha256])
        #expect(try SHA256Hex.ofFile(atPath: object.path(of: stored[0].sha256)) == stored[0].sha256)
        #expect(object.temporaries().isEmpty)
        try await registry.exportSafetensors(VersionReference(parsing: "cnn@1"), toPath: dir.file("out.safetensors"))
        #expect(try readBytes(dir.file("out.safetensors")) == readBytes(file))
        // The same bytes again: no new object, no temporary file left.
        try await registry.registerComponent(model: "cnn", safetensorsPath: file)
        #expect(try object.digests().count == 1 && object.temporaries().isEmpty)
        let report = try await registry.verify()
        #expect(report.isHealthy && report.blobsChecked == 2 && report.unreferencedObjects == 0)
    }

    @Test func fusedVersionsAndArtifactsUseTheObjectFolderToo() async throws {
        let dir = TemporaryDirectory()
        var registry = try Registry.open(atPath: dir.file("store.sqlite"), logger: quietLogger)
        registry.blobs.objectThreshold = 4  // every tensor above 4 bytes becomes an object
        let model = try smallClassifier(weights: [0.25, 0.5])
        try await registry.registerVersion(model: "fusion", classifier: model)
        #expect(try await Self.blobs(registry).allSatisfy(\.inObjectFolder))
        #expect(try await registry.loadClassifier(VersionReference(parsing: "fusion@1")).parameters == model.parameters)
        try writeBytes(Array(repeating: 9, count: 1000), to: dir.file("notes.bin"))
        try await registry.putArtifact("0/1/artifacts/notes.bin", fromFile: dir.file("notes.bin"))
        try await registry.exportArtifact("0/1/artifacts/notes.bin", toPath: dir.file("back.bin"))
        #expect(try readBytes(dir.file("back.bin")) == Array(repeating: 9, count: 1000))
        #expect(try ObjectFolder(root: registry.objectFolderPath!).digests().count == 2)
    }

    @Test func aDamagedOrMissingObjectIsNamedAndExportsNothing() async throws {
        let dir = TemporaryDirectory()
        let (registry, _) = try await Self.storeWithComponent(dir)
        let sha256 = try await Self.blobs(registry)[0].sha256
        let object = ObjectFolder(root: registry.objectFolderPath!).path(of: sha256)
        var bytes = try readBytes(object)
        bytes[1000] ^= 1
        try writeBytes(bytes, to: object)
        await #expect {
            try await registry.exportSafetensors(
                VersionReference(parsing: "cnn@1"),
                toPath: dir.file("out.safetensors")
            )
        } throws: { error in
            (error as? RegistryError)?.code == .corruptData && "\(error)".contains("Tensor 'conv.weight' of cnn@1")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.file("out.safetensors")))
        #expect(try await registry.verify().damaged == ["cnn@1 tensor 'conv.weight'"])
        try FileManager.default.removeItem(atPath: object)
        await #expect {
            _ = try await registry.tensors(VersionReference(parsing: "cnn@1"))
        } throws: { error in
            (error as? RegistryError)?.code == .corruptData && "\(error)".contains("is missing")
        }
        await #expect {
            try await registry.exportSafetensors(
                VersionReference(parsing: "cnn@1"),
                toPath: dir.file("out.safetensors")
            )
        } throws: { error in
            (error as? RegistryError)?.code == .corruptData && "\(error)".contains("is missing")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.file("out.safetensors")))
        #expect(try await registry.verify().damaged == ["cnn@1 tensor 'conv.weight'"])
    }

    @Test func gcRemovesTheObjectsOfDeletedVersionsAndFilesNoRowNames() async throws {
        let dir = TemporaryDirectory()
        let (registry, _) = try await Self.storeWithComponent(dir)
        let objects = ObjectFolder(root: registry.objectFolderPath!)
        let kept = try objects.digests()
        // What a writer killed mid-registration leaves: an object published before its row
        // committed, and a temporary file.
        let orphan = try objects.stage { emit in try [UInt8](repeating: 3, count: 64).withUnsafeBytes { try emit($0) } }
        try objects.publish(orphan)
        _ = try objects.stage { emit in try [UInt8](repeating: 4, count: 64).withUnsafeBytes { try emit($0) } }
        #expect(try await registry.verify().unreferencedObjects == 1)
        let dry = try await registry.collectGarbage(dryRun: true)
        #expect(dry.files == 2 && dry.blobs == 0)
        #expect(try objects.digests().count == 2 && objects.temporaries().count == 1)
        let swept = try await registry.collectGarbage()
        #expect(swept.files == 2)
        #expect(try objects.digests() == kept && objects.temporaries().isEmpty)
        #expect(try await registry.verify().isHealthy)
        // A deleted version's object goes with its row.
        try await registry.deleteVersion(VersionReference(parsing: "cnn@1"))
        #expect(try await registry.collectGarbage(dryRun: true).files == 1)
        #expect(try objects.digests() == kept)
        let after = try await registry.collectGarbage()
        #expect(after.blobs == 2 && after.files == 1)
        #expect(try objects.digests().isEmpty)
        #expect(try await registry.verify().isHealthy)
    }

    @Test func backupCopiesTheObjectsVerifiedAndTheCopyStandsAlone() async throws {
        let dir = TemporaryDirectory()
        let (registry, file) = try await Self.storeWithComponent(dir)
        let backup = dir.file("copy.sqlite")
        try await registry.backup(toPath: backup)
        let copy = try Registry.open(atPath: backup, access: .readOnly, logger: quietLogger)
        #expect(copy.objectFolderPath == backup + "-objects")
        #expect(try await copy.verify().isHealthy)
        // The copy does not depend on the original's folder.
        try FileManager.default.moveItem(atPath: registry.objectFolderPath!, toPath: dir.file("away"))
        try await copy.exportSafetensors(VersionReference(parsing: "cnn@1"), toPath: dir.file("out.safetensors"))
        #expect(try readBytes(dir.file("out.safetensors")) == readBytes(file))
        try FileManager.default.moveItem(atPath: dir.file("away"), toPath: registry.objectFolderPath!)
        // A damaged object fails the backup and leaves the previous one as it was.
        let before = try readBytes(backup)
        let backedUp = Set(try ObjectFolder(root: backup + "-objects").digests())
        let second = dir.file("second.safetensors")
        try Self.writeComponent(second, floats: 1_100_000, seed: 2)
        try await registry.registerComponent(model: "cnn", safetensorsPath: second)
        let secondSHA = try #require(
            try ObjectFolder(root: registry.objectFolderPath!).digests().first { !backedUp.contains($0) }
        )
        let damaged = ObjectFolder(root: registry.objectFolderPath!).path(of: secondSHA)
        var bytes = try readBytes(damaged)
        bytes[0] ^= 0x80
        try writeBytes(bytes, to: damaged)
        await #expect {
            try await registry.backup(toPath: backup, overwrite: true)
        } throws: { error in
            (error as? RegistryError)?.code == .corruptData && "\(error)".contains("fails its checksum")
        }
        #expect(try readBytes(backup) == before)
        #expect(ObjectFolder(root: backup + "-objects").temporaries().isEmpty)
    }

    @Test func aFileWrittenToWhileItIsRegisteredIsRefusedAndNothingIsStored() async throws {
        let dir = TemporaryDirectory()
        let registry = try Registry.open(atPath: dir.file("store.sqlite"), logger: quietLogger)
        let path = dir.file("w.safetensors")
        try Self.writeComponent(path, floats: 1_200_000, seed: 7)
        let file = try SafetensorsFile(path: path)
        // Rewrite one byte in place after the file was opened (same size, new modification time).
        usleep(20_000)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seek(toOffset: UInt64(file.fileSize - 1))
        try handle.write(contentsOf: [0x42])
        try handle.close()
        await #expect {
            try await registry.write { [blobs = registry.blobs] db in
                let model = try Registry.ensureModel("w", kind: .component, in: db)
                _ = try Registry.insertComponent(
                    file,
                    modelId: model,
                    tags: [:],
                    trainingRun: nil,
                    source: nil,
                    description: "",
                    principal: "test",
                    blobs: blobs,
                    in: db
                )
            }
        } throws: { error in
            (error as? TensorIOError)?.code == .changed && "\(error)".contains("changed while it was being read")
        }
        #expect(try await Self.blobs(registry).isEmpty)
        #expect(try await registry.models().isEmpty)
        // The large tensor's object was published before the check failed: an orphan, for gc.
        #expect(try await registry.verify().unreferencedObjects == 1)
        #expect(try await registry.collectGarbage().files == 1)
    }

    @Test func blobsStoredInTheDatabaseBeforeStayReadableAndAreNotStoredTwice() async throws {
        let dir = TemporaryDirectory()
        let path = dir.file("store.sqlite")
        let file = dir.file("w.safetensors")
        try Self.writeComponent(file, floats: 1_200_000, seed: 3)
        // A store written without an object folder (as before migration 0011): every blob in chunks.
        do {
            let queue = try DatabaseQueue(path: path)
            try await Registry(queue, path: path, logger: quietLogger).registerComponent(
                model: "w",
                safetensorsPath: file
            )
            try queue.close()
        }
        let registry = try Registry.open(atPath: path, logger: quietLogger)
        #expect(try await Self.blobs(registry).map(\.inObjectFolder) == [false, false])
        try await registry.registerComponent(model: "w", safetensorsPath: file)
        let objects = ObjectFolder(root: registry.objectFolderPath!)
        #expect(
            try objects.digests().isEmpty && objects.temporaries().isEmpty,
            "the same bytes were found in the database"
        )
        try await registry.exportSafetensors(VersionReference(parsing: "w@2"), toPath: dir.file("out.safetensors"))
        #expect(try readBytes(dir.file("out.safetensors")) == readBytes(file))
        #expect(try await registry.verify().isHealthy)
    }
}
