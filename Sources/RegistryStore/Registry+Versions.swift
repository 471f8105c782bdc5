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
            var (versionId, number, record) = try Self.insertVersion(
                modelId: modelId,
                spec: specJSON,
                header: nil,
                lineage: lineage,
                tags: tags,
                principal: principal,
                finishing: finishingRun,
                in: db
            )
            let stored = try tensors.map { name, tensor in
                let blob = try blobs.store(tensor, in: db)
                let stored = StoredTensor(
                    name: name,
                    dtype: tensor.dtype,
                    shape: tensor.shape,
                    sha256: blob.sha256,
                    byteCount: tensor.bytes.count
                )
                return (stored, blob.id)
            }
            try Self.insertTensors(stored, of: versionId, adding: &record, in: db)
            try Self.sealVersion(versionId, as: record, in: db)
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
        var (versionId, number, record) = try insertVersion(
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
        let stored = try file.header.entries.map { entry in
            let blob = try blobs.store(
                byteCount: entry.dataRange.count,
                source: "'\(file.path)'",
                in: db,
                stage: { try $0.stage(entry, of: file) },
                produce: { emit in
                    try file.forEachChunk(of: entry, chunkSize: TensorBlobs.chunkSize) { try emit($0) }
                }
            )
            let stored = StoredTensor(
                name: entry.name,
                dtype: entry.dtype,
                shape: entry.shape,
                sha256: blob.sha256,
                byteCount: entry.dataRange.count
            )
            return (stored, blob.id)
        }
        try file.checkUnchanged()
        try insertTensors(stored, of: versionId, adding: &record, in: db)
        try sealVersion(versionId, as: record, in: db)
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

    /// Inserts a version row with the next number, its tags and lineage, and records it on its
    /// training run — or on `finishing`, a running training run it marks finished and seals.
    /// - Returns: the version's id and number, and its record so far (no tensors yet) for the
    ///   caller to complete with ``insertTensors(_:of:adding:in:)`` and seal.
    static func insertVersion(
        modelId: Int64,
        spec: String?,
        header: [UInt8]?,
        lineage: Lineage,
        tags: [String: String],
        principal: String,
        finishing: Int64? = nil,
        in db: any StoreSQL
    ) throws -> (id: Int64, number: Int, record: RecordDigests.VersionRecord) {
        // The per-model counter, not max(number): a deleted version's number is never given again.
        let number = try db.fetchOne(
            Int.self,
            sql: "UPDATE model SET lastVersionNumber = lastVersionNumber + 1 WHERE id = ? RETURNING lastVersionNumber",
            arguments: [modelId]
        )!
        var trainingRunStatus: String?
        if let run = lineage.trainingRun {
            trainingRunStatus = try db.fetchOne(
                String.self,
                sql: "SELECT status FROM run WHERE id = ?",
                arguments: [run]
            )
            guard trainingRunStatus != nil else {
                throw RegistryError(.notFound, "There is no run \(run) to record as this version's training run.")
            }
        }
        var record = RecordDigests.VersionRecord(
            spec: spec?.storeValue ?? .null,
            header: header?.storeValue ?? .null,
            row: [
                modelId.storeValue, number.storeValue, Clock.unixSeconds().storeValue, principal.storeValue,
                lineage.trainingRun?.storeValue ?? .null,
            ]
        )
        let id = try db.insertReturningID(
            sql: """
                INSERT INTO modelVersion (spec, safetensorsHeader, modelId, number, createdAt, principal, trainingRunId)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: StoreArguments([record.spec, record.header] + record.row)
        )
        record.tags = tags.map { [$0.key.storeValue, $0.value.storeValue] }
        record.datasets = lineage.datasets.map { [$0.key.storeValue, $0.value.storeValue] }
        record.components = try lineage.components.map {
            [$0.key.storeValue, try resolve($0.value, in: db).storeValue]
        }
        for (table, columns, rows) in [
            ("modelVersionTag", "key, value", record.tags),
            ("modelVersionDataset", "role, fingerprint", record.datasets),
            ("modelVersionComponent", "modality, componentVersionId", record.components),
        ] {
            try db.insertRows("INSERT INTO \(table) (versionId, \(columns))", rows.map { [id.storeValue] + $0 })
        }
        if let finishing { try finish(run: finishing, versionId: id, in: db) }
        if let run = lineage.trainingRun, run != finishing {
            if trainingRunStatus == "running" {
                try db.execute(
                    sql: "UPDATE run SET versionId = ?, heartbeatAt = ? WHERE id = ?",
                    arguments: [id, Clock.unixSeconds(), run]
                )
            } else {
                try db.execute(sql: "UPDATE run SET versionId = ? WHERE id = ?", arguments: [id, run])
                try sealRun(run, in: db)
            }
        }
        return (id, number, record)
    }

    /// Lists a version's tensors, stored as the blobs `blobId`, in order (one statement) and adds
    /// them to its record.
    static func insertTensors(
        _ tensors: [(tensor: StoredTensor, blobId: Int64)],
        of versionId: Int64,
        adding record: inout RecordDigests.VersionRecord,
        in db: any StoreSQL
    ) throws {
        var rows: [[StoreValue]] = []
        for (position, (t, blobId)) in tensors.enumerated() {
            let (dtype, shape) = (t.dtype.rawValue.storeValue, encodeShape(t.shape).storeValue)
            rows.append([versionId.storeValue, position.storeValue, t.name.storeValue, dtype, shape, blobId.storeValue])
            record.layout.append([
                position.storeValue, t.name.storeValue, dtype, shape, t.sha256.storeValue, t.byteCount.storeValue,
            ])
        }
        try db.insertRows("INSERT INTO versionTensor (versionId, position, name, dtype, shape, blobId)", rows)
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
