import Foundation
import GRDB
import TensorIO

/// One entry of an artifact listing: a file (with its size) or a folder.
public struct ArtifactEntry: Sendable, Hashable {
    /// The path relative to the folder listed.
    public let path: String
    /// True for a folder (then `byteCount` is nil).
    public let isDirectory: Bool
    /// The file's size in bytes (nil for a folder).
    public let byteCount: Int?
}

/// Files logged to runs (MLflow's artifacts). A path such as `3/17/artifacts/model/w.safetensors`
/// names one content-addressed blob, stored in chunks like tensors and re-hashed on every read.
extension Registry {
    /// Stores the file at `file` as artifact `path`, replacing what the path held. Identical bytes
    /// are stored once. The file is read once, hashed as it is stored (a large one into the object
    /// folder); a file written to meanwhile is refused (<doc:/documentation/TensorIO/TensorIOError> `changed`) and nothing is stored.
    public func putArtifact(_ path: String, fromFile file: String) async throws {
        try Self.validateArtifactPath(path)
        try await write { db in try Self.storeArtifact(path, fromFile: file, blobs: blobs, in: db) }
    }

    static func storeArtifact(_ path: String, fromFile file: String, blobs: TensorBlobs, in db: any StoreSQL) throws {
        let byteCount = try FileChunks.size(ofFileAtPath: file)
        let blob = try blobs.store(
            byteCount: byteCount,
            source: "'\(path)'",
            in: db,
            stage: { try $0.stage(copyingFileAt: file) },
            produce: { emit in
                try FileChunks.forEach(ofFileAtPath: file, chunkSize: TensorBlobs.chunkSize) { try emit($0) }
            }
        )
        try db.execute(
            sql: """
                INSERT INTO artifact (path, blobId, createdAt) VALUES (?, ?, ?)
                ON CONFLICT (path) DO UPDATE SET blobId = excluded.blobId, createdAt = excluded.createdAt
                """,
            arguments: [path, blob.id, Clock.unixSeconds()]
        )
    }

    /// Writes artifact `path` to the file `destination`, verified as it streams; a damaged
    /// artifact leaves no file (`corruptData`).
    /// - Returns: the artifact's SHA-256.
    @discardableResult
    public func exportArtifact(_ path: String, toPath destination: String) async throws -> String {
        try Self.validateArtifactPath(path)
        return try await read { db in
            guard
                let row = try db.fetchOne(
                    StoreRow.self,
                    sql: "SELECT b.id, b.sha256 FROM artifact a JOIN tensorBlob b ON b.id = a.blobId WHERE a.path = ?",
                    arguments: [path]
                )
            else { throw RegistryError(.notFound, "There is no artifact '\(path)'.") }
            try OutputFile.write(toPath: destination, overwrite: true) { (file: BackgroundWriter) in
                try blobs.export(blobId: row["id"], to: file, in: db, what: "Artifact '\(path)'")
            }
            return row["sha256"]
        }
    }

    /// The files and folders directly inside `folder` ("" lists the root), in path order.
    /// A path that names a file lists nothing, as in MLflow.
    public func listArtifacts(in folder: String) async throws -> [ArtifactEntry] {
        let prefix = folder.isEmpty ? "" : folder.hasSuffix("/") ? folder : folder + "/"
        if !folder.isEmpty { try Self.validateArtifactPath(String(prefix.dropLast())) }
        return try await read { db in
            var entries: [ArtifactEntry] = []
            var folders = Set<String>()
            let rows = try db.fetchAll(
                StoreRow.self,
                sql: """
                    SELECT a.path, b.byteCount FROM artifact a JOIN tensorBlob b ON b.id = a.blobId
                    WHERE substr(a.path, 1, length(?)) = ? ORDER BY a.path
                    """,
                arguments: [prefix, prefix]
            )
            for row in rows {
                let rest = String((row["path"] as String).dropFirst(prefix.count))
                if let slash = rest.firstIndex(of: "/") {
                    let name = String(rest[..<slash])
                    if folders.insert(name).inserted {
                        entries.append(ArtifactEntry(path: name, isDirectory: true, byteCount: nil))
                    }
                } else {
                    entries.append(ArtifactEntry(path: rest, isDirectory: false, byteCount: row["byteCount"]))
                }
            }
            return entries.sorted { $0.path < $1.path }
        }
    }

    /// Every file under `folder` (or the file `folder` itself), as full paths with their sizes.
    public func artifactFiles(under folder: String) async throws -> [(path: String, byteCount: Int)] {
        try Self.validateArtifactPath(folder)
        return try await read { db in
            try db.fetchAll(
                StoreRow.self,
                sql: """
                    SELECT a.path, b.byteCount FROM artifact a JOIN tensorBlob b ON b.id = a.blobId
                    WHERE a.path = ? OR substr(a.path, 1, length(?) + 1) = ? || '/' ORDER BY a.path
                    """,
                arguments: [folder, folder, folder]
            ).map { ($0["path"], $0["byteCount"]) }
        }
    }

    /// Removes artifact `path`, or every artifact under the folder `path`; the bytes go at the
    /// next `fusebox gc`.
    public func deleteArtifacts(_ path: String) async throws {
        try Self.validateArtifactPath(path)
        try await write { db in
            try db.execute(
                sql: "DELETE FROM artifact WHERE path = ? OR substr(path, 1, length(?) + 1) = ? || '/'",
                arguments: [path, path, path]
            )
            guard db.changesCount > 0 else { throw RegistryError(.notFound, "There is no artifact '\(path)'.") }
        }
    }

    /// Artifact paths: 1–4096 characters of '/'-separated non-empty names, none `.` or `..`, no
    /// control characters.
    static func validateArtifactPath(_ path: String) throws {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...4096).contains(path.utf8.count), !path.unicodeScalars.contains(where: { $0.value < 0x20 }),
            parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." })
        else {
            throw RegistryError(
                .invalidInput,
                "Artifact path '\(Names.printable(path))' is not valid: use '/'-separated names, none empty, '.' or '..'."
            )
        }
    }
}

extension Registry {
    /// Registers the one tensor file at or under artifact `path` — a `.safetensors` file (kept
    /// byte for byte, as ``registerComponent(model:safetensorsPath:tags:trainingRun:source:description:)``
    /// does) or a `.npy` array (one tensor named after the file) — as the next version of
    /// component model `model`. - Returns: the version number.
    /// - Throws: `invalidInput` when the path holds no such file or more than one.
    public func registerComponent(
        model: String,
        artifact path: String,
        trainingRun: Int64? = nil,
        source: String? = nil,
        description: String = "",
        tags: [String: String] = [:],
        temporaryDirectory: String = NSTemporaryDirectory()
    ) async throws -> Int {
        let candidates = try await artifactFiles(under: path).filter {
            $0.path.hasSuffix(".safetensors") || $0.path.hasSuffix(".npy")
        }
        guard candidates.count == 1, let chosen = candidates.first else {
            throw RegistryError(
                .invalidInput,
                candidates.isEmpty
                    ? "Artifact '\(path)' holds no .safetensors or .npy file; Fusebox registers tensors."
                    : "Artifact '\(path)' holds \(candidates.count) tensor files (\(candidates.map(\.path).joined(separator: ", "))); register one of them."
            )
        }
        let staging = (temporaryDirectory as NSString).appendingPathComponent("fusebox-artifact-\(UUID().uuidString)")
        defer {
            try? FileManager.default.removeItem(atPath: staging)
            try? FileManager.default.removeItem(atPath: staging + ".safetensors")
        }
        try await exportArtifact(chosen.path, toPath: staging)
        var file = staging
        if chosen.path.hasSuffix(".npy") {
            let name = ((chosen.path as NSString).lastPathComponent as NSString).deletingPathExtension
            try SafetensorsWriter.write([(name, try NumPyArray.read(path: staging))], toPath: staging + ".safetensors")
            file = staging + ".safetensors"
        }
        return try await registerComponent(
            model: model,
            safetensorsPath: file,
            tags: tags,
            trainingRun: trainingRun,
            source: source,
            description: description
        )
    }
}
