import Foundation
import FusionCore
import GRDB
import TensorCore
import TensorIO

extension Registry {
    /// Registers a trained fused model as the next version of `model` (created if absent).
    ///
    /// The version number is allocated inside the writing transaction, so numbers stay gapless
    /// and unique with concurrent writers. Each tensor is hashed once, as it is stored; a tensor
    /// whose bytes are already stored adds nothing.
    /// - Parameters:
    ///   - model: the model's name.
    ///   - classifier: the spec and its parameter tensors.
    ///   - lineage: the training run, dataset fingerprints and component versions it came from.
    ///   - tags: the version's tags.
    ///   - finishingRun: a training run to mark finished in the same transaction.
    /// - Returns: the new version number.
    @discardableResult
    public func registerVersion(
        model: String,
        classifier: FusedClassifier,
        lineage: Lineage = Lineage(),
        tags: [String: String] = [:],
        finishingRun: Int64? = nil
    ) async throws -> Int {
        try Names.validate(model, as: "Model name")
        try Self.validateTags(tags)
        let specJSON = try Self.encodeSpec(classifier.spec)
        let tensors = classifier.spec.parameterShapes.map { p in (p.name, Tensor(classifier.parameters[p.name]!)) }
        return try await write { db in
            let modelId = try Self.ensureModel(model, kind: .fused, in: db)
            let (versionId, number) = try Self.insertVersion(
                modelId: modelId,
                spec: specJSON,
                header: nil,
                lineage: lineage,
                tags: tags,
                principal: principal,
                in: db
            )
            for (position, (name, tensor)) in tensors.enumerated() {
                let blob = try blobs.store(tensor, in: db)
                try Self.insertVersionTensor(versionId, position, name, tensor.dtype, tensor.shape, blob, in: db)
            }
            try Self.sealVersion(versionId, in: db)
            if let finishingRun { try Self.finish(run: finishingRun, versionId: versionId, in: db) }
            return number
        }
    }

    /// Registers an externally trained model's safetensors file as the next version of a
    /// component model. Each tensor is read once and hashed as it is stored — a large one copied
    /// by the kernel into the store's object folder while a second thread hashes it, a small one
    /// read in one piece — so memory stays bounded whatever the file's size. A file written to
    /// meanwhile is refused with nothing stored. Its header bytes are kept so
    /// ``exportSafetensors(_:toPath:overwrite:)`` reproduces the file bit for bit.
    @discardableResult
    public func registerComponent(
        model: String,
        safetensorsPath path: String,
        tags: [String: String] = [:],
        trainingRun: Int64? = nil,
        source: String? = nil,
        description: String = ""
    ) async throws -> Int {
        try Names.validateValue(description, as: "Description")
        try Names.validate(model, as: "Model name")
        try Self.validateTags(tags)
        let file = try SafetensorsFile(path: path)
        return try await write { db in
            let modelId = try Self.ensureModel(model, kind: .component, in: db)
            return try Self.insertComponent(
                file,
                modelId: modelId,
                tags: tags,
                trainingRun: trainingRun,
                source: source,
                description: description,
                principal: principal,
                blobs: blobs,
                in: db
            ).number
        }
    }

    /// Stores a safetensors file as the next version of `modelId`, sealed, reading each tensor
    /// once; a file written to while it was read is refused (``TensorIOError`` `changed`).
    static func insertComponent(
        _ file: SafetensorsFile,
        modelId: Int64,
        tags: [String: String],
        trainingRun: Int64?,
        source: String?,
        description: String,
        principal: String,
        blobs: TensorBlobs,
        in db: any StoreSQL
    ) throws -> (id: Int64, number: Int) {
        let (versionId, number) = try insertVersion(
            modelId: modelId,
            spec: nil,
            header: file.header.rawHeader,
            lineage: Lineage(trainingRun: trainingRun),
            tags: tags,
            principal: principal,
            in: db
        )
        try db.execute(
            sql: "UPDATE modelVersion SET source = ?, description = ? WHERE id = ?",
            arguments: [source, description, versionId]
        )
        for (position, entry) in file.header.entries.enumerated() {
            let blob = try blobs.store(
                byteCount: entry.dataRange.count,
                source: "'\(file.path)'",
                in: db,
                stage: { try $0.stage(entry, of: file) },
                produce: { emit in
                    try file.forEachChunk(of: entry, chunkSize: TensorBlobs.chunkSize) { try emit($0) }
                }
            )
            try insertVersionTensor(versionId, position, entry.name, entry.dtype, entry.shape, blob.id, in: db)
        }
        try file.checkUnchanged()
        try sealVersion(versionId, in: db)
        return (versionId, number)
    }

    /// Loads a fused version as a classifier ready to predict. Every tensor is re-hashed and
    /// compared with its recorded SHA-256 unless `verify` is false.
    public func loadClassifier(_ reference: VersionReference, verify: Bool = true) async throws -> FusedClassifier {
        try await read { db in
            let versionId = try Self.resolve(reference, in: db)
            let version = try Self.version(id: versionId, in: db)
            guard let spec = version.spec else {
                throw RegistryError(
                    .invalidInput,
                    "\(version.reference) is a component model; only fused models predict. Use 'fusebox export'."
                )
            }
            let tensors = try Self.loadTensors(
                versionId: versionId,
                label: version.reference,
                verify: verify,
                blobs: blobs,
                in: db
            )
            var parameters: [String: Matrix] = [:]
            for (name, tensor) in tensors { parameters[name] = try tensor.floatMatrix() }
            do { return try FusedClassifier(spec: spec, parameters: parameters) } catch {
                throw RegistryError(.corruptData, "\(version.reference) cannot be loaded: \(error)")
            }
        }
    }

    /// The tensors of any version (verified by default), in stored order.
    public func tensors(
        _ reference: VersionReference,
        verify: Bool = true
    ) async throws -> [(name: String, tensor: Tensor)] {
        try await read { db in
            let versionId = try Self.resolve(reference, in: db)
            let label = try Self.version(id: versionId, in: db).reference
            return try Self.loadTensors(versionId: versionId, label: label, verify: verify, blobs: blobs, in: db)
        }
    }

    /// Writes a version as a safetensors file. A registered component file comes out with the
    /// same bytes (same SHA-256); a fused version gets a canonical header with its spec in the
    /// metadata (`fusebox.spec`). Every tensor is verified while streaming: a mismatch leaves no file.
    public func exportSafetensors(
        _ reference: VersionReference,
        toPath path: String,
        overwrite: Bool = false
    ) async throws {
        if !overwrite, FileManager.default.fileExists(atPath: path) {
            throw RegistryError(.alreadyExists, "'\(path)' already exists; pass --force to overwrite it.")
        }
        try await read { db in
            let versionId = try Self.resolve(reference, in: db)
            let version = try Self.version(id: versionId, in: db)
            let rows = try db.fetchAll(
                StoreRow.self,
                sql: "SELECT name, dtype, shape, blobId FROM versionTensor WHERE versionId = ? ORDER BY position",
                arguments: [versionId]
            )
            let registered = try db.fetchOne(
                Data.self,
                sql: "SELECT safetensorsHeader FROM modelVersion WHERE id = ?",
                arguments: [versionId]
            )
            var order = rows.map { ($0["name"] as String, $0["blobId"] as Int64) }
            let header: [UInt8]
            if let registered {
                // A registered file: its own header, and the data in offset order (which may
                // differ from header order).
                header = [UInt8](registered)
                let parsed: SafetensorsHeader
                do { parsed = try SafetensorsHeader(rawHeader: header, dataSize: nil, path: version.reference) } catch {
                    throw RegistryError(
                        .corruptData,
                        "\(version.reference)'s stored safetensors header cannot be read (\(error)); run 'fusebox verify'."
                    )
                }
                let blobByName = Dictionary(uniqueKeysWithValues: order)
                order = try parsed.entries.sorted { $0.dataRange.lowerBound < $1.dataRange.lowerBound }.map { entry in
                    guard let blob = blobByName[entry.name] else {
                        throw RegistryError(
                            .corruptData,
                            "\(version.reference)'s stored header names tensor '\(entry.name)', which it does not hold; run 'fusebox verify'."
                        )
                    }
                    return (entry.name, blob)
                }
            } else {
                let layout = rows.map { row in
                    (
                        name: row["name"] as String, dtype: DType(rawValue: row["dtype"]) ?? .uint8,
                        shape: Self.decodeShape(row["shape"])
                    )
                }
                var metadata = [SafetensorsMetadataItem(key: "fusebox.model", value: version.reference)]
                if let spec = version.spec {
                    metadata.append(.init(key: "fusebox.spec", value: try Self.encodeSpec(spec)))
                }
                header = SafetensorsHeader.canonicalBytes(for: layout, metadata: metadata)
            }
            try SafetensorsWriter.write(rawHeader: header, toPath: path, overwrite: overwrite) {
                (file: BackgroundWriter) in
                for (name, blob) in order {
                    try blobs.export(blobId: blob, to: file, in: db, what: "Tensor '\(name)' of \(version.reference)")
                }
            }
        }
    }

    // MARK: - Synchronous helpers

    static func loadTensors(
        versionId: Int64,
        label: String,
        verify: Bool,
        blobs: TensorBlobs,
        in db: any StoreSQL
    ) throws -> [(name: String, tensor: Tensor)] {
        let rows = try db.fetchAll(
            StoreRow.self,
            sql: """
                SELECT t.name, t.dtype, t.shape, t.blobId, b.byteCount FROM versionTensor t JOIN tensorBlob b ON b.id = t.blobId
                WHERE t.versionId = ? ORDER BY t.position
                """,
            arguments: [versionId]
        )
        return try rows.map { row in
            let name: String = row["name"]
            let bytes = try blobs.read(
                blobId: row["blobId"],
                byteCount: row["byteCount"],
                in: db,
                verify: verify,
                what: "Tensor '\(name)' of \(label)"
            )
            guard let dtype = DType(rawValue: row["dtype"]) else {
                throw RegistryError(.corruptData, "Tensor '\(name)' of \(label) has an unknown dtype.")
            }
            do { return (name, try Tensor(dtype: dtype, shape: decodeShape(row["shape"]), bytes: bytes)) } catch {
                throw RegistryError(.corruptData, "Tensor '\(name)' of \(label): \(error)")
            }
        }
    }

    /// Inserts a version row with the next number, its tags and lineage.
    static func insertVersion(
        modelId: Int64,
        spec: String?,
        header: [UInt8]?,
        lineage: Lineage,
        tags: [String: String],
        principal: String,
        in db: any StoreSQL
    ) throws -> (id: Int64, number: Int) {
        // The per-model counter, not max(number): a deleted version's number is never given again.
        let number = try db.fetchOne(
            Int.self,
            sql: "UPDATE model SET lastVersionNumber = lastVersionNumber + 1 WHERE id = ? RETURNING lastVersionNumber",
            arguments: [modelId]
        )!
        if let run = lineage.trainingRun,
            try db.fetchOne(Int.self, sql: "SELECT 1 FROM run WHERE id = ?", arguments: [run]) == nil
        {
            throw RegistryError(.notFound, "There is no run \(run) to record as this version's training run.")
        }
        let id = try db.insertReturningID(
            sql:
                "INSERT INTO modelVersion (modelId, number, spec, safetensorsHeader, trainingRunId, createdAt, principal) VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [
                modelId, number, spec, header, lineage.trainingRun, Clock.unixSeconds(), principal,
            ]
        )
        for (key, value) in tags.sorted(by: { $0.key < $1.key }) {
            try db.execute(
                sql: "INSERT INTO modelVersionTag (versionId, key, value) VALUES (?, ?, ?)",
                arguments: [id, key, value]
            )
        }
        for (role, fingerprint) in lineage.datasets.sorted(by: { $0.key < $1.key }) {
            try db.execute(
                sql: "INSERT INTO modelVersionDataset (versionId, role, fingerprint) VALUES (?, ?, ?)",
                arguments: [id, role, fingerprint]
            )
        }
        for (modality, reference) in lineage.components.sorted(by: { $0.key < $1.key }) {
            let component = try resolve(reference, in: db)
            try db.execute(
                sql: "INSERT INTO modelVersionComponent (versionId, modality, componentVersionId) VALUES (?, ?, ?)",
                arguments: [id, modality, component]
            )
        }
        if let run = lineage.trainingRun {
            try db.execute(sql: "UPDATE run SET versionId = ? WHERE id = ?", arguments: [id, run])
            try wrote(to: run, in: db)
        }
        return (id, number)
    }

    static func insertVersionTensor(
        _ versionId: Int64,
        _ position: Int,
        _ name: String,
        _ dtype: DType,
        _ shape: Shape,
        _ blobId: Int64,
        in db: any StoreSQL
    ) throws {
        try db.execute(
            sql:
                "INSERT INTO versionTensor (versionId, position, name, dtype, shape, blobId) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [versionId, position, name, dtype.rawValue, encodeShape(shape), blobId]
        )
    }

    static func encodeSpec(_ spec: FusionSpec) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(spec), as: UTF8.self)
    }

    static func validateTags(_ tags: [String: String]) throws {
        for (key, value) in tags {
            try Names.validateKey(key, as: "Tag")
            try Names.validateValue(value, as: "Tag")
        }
    }
}
