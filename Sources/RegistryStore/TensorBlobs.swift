import Crypto
import Foundation
import GRDB
import TensorCore
import TensorIO

/// Content-addressed tensor bytes: a blob is identified by the SHA-256 of its bytes and stored
/// once, either in the database in chunks of at most ``chunkSize`` bytes, or — when it is larger
/// than ``objectThreshold`` and the store has an ``ObjectFolder`` — as one file named by its
/// digest beside the store, so large tensors skip SQLite's write-ahead log (which writes every
/// byte twice) and are read back at the speed of the disk.
///
/// Invariant: a `tensorBlob` row with `inObjectFolder = 1` commits only after its object was
/// written, flushed and renamed into place (``ObjectFolder/publish(_:)``), inside the same write
/// transaction; `gc` removes objects no row names under the same write lock. So a process killed
/// at any instant leaves no row without its object — at most an object or a temporary file that
/// `gc` removes.
struct TensorBlobs: Sendable {
    /// The most bytes one database chunk (or one read or write buffer) holds.
    static let chunkSize = 4 << 20

    /// Where large blobs go; nil keeps every blob in the database (stores in memory).
    let objects: ObjectFolder?
    /// Blobs with more bytes than this go to the object folder (one chunk's worth by default:
    /// below it, the write-ahead log costs less than an object's `fsync`, as measured in BENCHMARKS.md).
    var objectThreshold = chunkSize

    /// True when a blob of `byteCount` bytes is kept in the object folder.
    func isObject(byteCount: Int) -> Bool { objects != nil && byteCount > objectThreshold }

    /// Stores the `byteCount` bytes `produce` emits unless a blob with their digest exists,
    /// reading the source once: the bytes are hashed as they are stored. A source that is a file
    /// passes `stage`, which copies it into the object folder in the kernel while hashing it
    /// (``ObjectFolder/stage(_:of:)``); `produce` then serves blobs kept in the database. A
    /// source that emits another number of bytes is `invalidInput`, and the caller's transaction
    /// stores nothing. A new blob gets the next id, or `requestedId` when given (``StoreCopy`` keeps ids).
    /// - Returns: the blob's id, its digest and whether it was new.
    func store(
        byteCount: Int,
        source: @autoclosure () -> String = "a tensor",
        id requestedId: Int64? = nil,
        in db: any StoreSQL,
        stage: ((ObjectFolder) throws -> StagedObject)? = nil,
        produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws -> (id: Int64, sha256: String, isNew: Bool) {
        func check(_ written: Int) throws {
            guard written == byteCount else {
                throw RegistryError(
                    .invalidInput,
                    "A tensor's data in \(source()) was \(written) bytes, its header said \(byteCount)."
                )
            }
        }
        if let objects, isObject(byteCount: byteCount) {
            let staged = try stage?(objects) ?? objects.stage(produce)
            do { try check(staged.byteCount) } catch {
                objects.discard(staged)
                throw error
            }
            if let id = try Self.blobId(sha256: staged.sha256, in: db) {
                objects.discard(staged)
                return (id, staged.sha256, false)
            }
            try objects.publish(staged)
            let id = try insertBlob(
                id: requestedId,
                sha256: staged.sha256,
                byteCount: byteCount,
                inObjectFolder: true,
                in: db
            )
            return (id, staged.sha256, true)
        }
        // In the database. One chunk's worth (all a store with an object folder keeps here) is
        // hashed first and inserted only when new; more is streamed chunk by chunk.
        if byteCount > Self.chunkSize {
            return try storeStreaming(byteCount: byteCount, id: requestedId, in: db, produce: produce, check: check)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(byteCount)
        try produce { bytes.append(contentsOf: $0) }
        let digest = SHA256Hex.hex(SHA256.hash(data: bytes))
        try check(bytes.count)
        if let id = try Self.blobId(sha256: digest, in: db) { return (id, digest, false) }
        let id = try insertBlob(id: requestedId, sha256: digest, byteCount: byteCount, in: db)
        if byteCount > 0 {
            try db.execute(
                sql: "INSERT INTO tensorChunk (blobId, position, bytes) VALUES (?, 0, ?)",
                arguments: [id, bytes]
            )
        }
        return (id, digest, true)
    }

    /// Stores a blob of more than one chunk in the database with one chunk in memory at a time: its
    /// row is written under a provisional digest and its chunks as the bytes arrive, hashed on
    /// the way, all inside a savepoint that is undone when the bytes turn out to be stored already.
    private func storeStreaming(
        byteCount: Int,
        id requestedId: Int64?,
        in db: any StoreSQL,
        produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void,
        check: (Int) throws -> Void
    ) throws -> (id: Int64, sha256: String, isNew: Bool) {
        var outcome: (id: Int64, sha256: String, isNew: Bool)?
        try db.inSavepoint {
            // Unique, so concurrent writers never wait on each other's provisional rows.
            let provisional = ("provisional " + UUID().uuidString).padding(toLength: 64, withPad: "-", startingAt: 0)
            let id = try insertBlob(id: requestedId, sha256: provisional, byteCount: byteCount, in: db)
            var chunker = BlobChunker(chunkSize: Self.chunkSize)
            func insert(_ position: Int, _ bytes: [UInt8]) throws {
                try db.execute(
                    sql: "INSERT INTO tensorChunk (blobId, position, bytes) VALUES (?, ?, ?)",
                    arguments: [id, position, bytes]
                )
            }
            try produce { try chunker.append($0, emit: insert) }
            let digest = try chunker.finish(emit: insert)
            try check(chunker.byteCount)
            if let existing = try Self.blobId(sha256: digest, in: db) {
                outcome = (existing, digest, false)
                return false
            }
            try db.execute(sql: "UPDATE tensorBlob SET sha256 = ? WHERE id = ?", arguments: [digest, id])
            outcome = (id, digest, true)
            return true
        }
        return outcome!
    }

    /// Inserts a blob's row (its chunks, if in the database, follow) with the given id, or the next one.
    private func insertBlob(
        id: Int64?,
        sha256: String,
        byteCount: Int,
        inObjectFolder: Bool = false,
        in db: any StoreSQL
    ) throws -> Int64 {
        let chunkCount = inObjectFolder ? 0 : (byteCount + Self.chunkSize - 1) / Self.chunkSize
        let values: StoreArguments = [sha256, byteCount, chunkCount, inObjectFolder]
        if let id {
            try db.execute(
                sql:
                    "INSERT INTO tensorBlob (id, sha256, byteCount, chunkCount, inObjectFolder) VALUES (?, ?, ?, ?, ?)",
                arguments: [id] + values
            )
            return id
        }
        return try db.insertReturningID(
            sql: "INSERT INTO tensorBlob (sha256, byteCount, chunkCount, inObjectFolder) VALUES (?, ?, ?, ?)",
            arguments: values
        )
    }

    /// Stores an in-memory tensor's bytes; returns the blob's id and digest.
    func store(_ tensor: Tensor, in db: any StoreSQL) throws -> (id: Int64, sha256: String) {
        let blob = try store(byteCount: tensor.bytes.count, in: db) { emit in
            try tensor.withUnsafeBytes { try emit($0) }
        }
        return (blob.id, blob.sha256)
    }

    /// Streams a blob's bytes in order; when `verify` is set, re-hashes them and throws
    /// `corruptData` (naming `what`) if the digest or length differs from the record, or its
    /// object is missing.
    func stream(
        blobId: Int64,
        in db: any StoreSQL,
        verify: Bool,
        what: @autoclosure () -> String,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        guard
            let row = try db.fetchOne(
                StoreRow.self,
                sql: "SELECT sha256, byteCount, inObjectFolder FROM tensorBlob WHERE id = ?",
                arguments: [blobId]
            )
        else { throw RegistryError(.corruptData, "\(what()) points at a missing blob; run 'fusebox verify'.") }
        let expected: String = row["sha256"]
        let byteCount: Int = row["byteCount"]
        let (total, digest) =
            row["inObjectFolder"] as Bool
            ? try readObject(expected, what: what(), body)
            : try Self.readChunks(blobId: blobId, hashing: verify, in: db, body)
        guard !verify || (total == byteCount && digest == expected) else {
            throw checksumFailure(what(), total, byteCount, digest, expected)
        }
    }

    /// Appends a blob's bytes to `writer`, verified: an object is copied in the kernel while
    /// another thread hashes it, chunks are written as they are hashed. A damaged blob throws
    /// `corruptData` (naming `what`), so the file being written is discarded.
    func export(blobId: Int64, to writer: BackgroundWriter, in db: any StoreSQL, what: @autoclosure () -> String) throws
    {
        guard
            let objects,
            let row = try db.fetchOne(
                StoreRow.self,
                sql: "SELECT sha256, byteCount FROM tensorBlob WHERE id = ? AND inObjectFolder = 1",
                arguments: [blobId]
            )
        else { return try stream(blobId: blobId, in: db, verify: true, what: what()) { try writer.write($0) } }
        let expected: String = row["sha256"]
        let byteCount: Int = row["byteCount"]
        let (total, digest): (Int, String)
        do { (total, digest) = try objects.copy(expected, to: writer) } catch let error as TensorIOError
            where error.code == .fileNotFound
        {
            throw missingObject(expected, in: objects, what: what())
        }
        guard total == byteCount, digest == expected else {
            throw checksumFailure(what(), total, byteCount, digest, expected)
        }
    }

    /// Reads a whole blob into memory (verified by default).
    func read(
        blobId: Int64,
        byteCount: Int,
        in db: any StoreSQL,
        verify: Bool,
        what: @autoclosure () -> String
    ) throws -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(byteCount)
        try stream(blobId: blobId, in: db, verify: verify, what: what()) { out.append(contentsOf: $0) }
        return out
    }

    /// The digests of the files in the object folder that no blob row names (none without a folder).
    func unreferencedObjects(in db: any StoreSQL) throws -> [String] {
        guard let objects else { return [] }
        let named = Set(try db.fetchAll(String.self, sql: "SELECT sha256 FROM tensorBlob WHERE inObjectFolder = 1"))
        return try objects.digests().filter { !named.contains($0) }
    }

    // MARK: - Private

    private static func blobId(sha256: String, in db: any StoreSQL) throws -> Int64? {
        try db.fetchOne(Int64.self, sql: "SELECT id FROM tensorBlob WHERE sha256 = ?", arguments: [sha256])
    }

    private func readObject(
        _ sha256: String,
        what: @autoclosure () -> String,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> (Int, String) {
        guard let objects else {
            throw RegistryError(
                .corruptData,
                "\(what()) is kept in an object folder, and this store has none (it is in memory)."
            )
        }
        do { return try objects.read(sha256, chunkSize: Self.chunkSize, body) } catch let error as TensorIOError
            where error.code == .fileNotFound
        {
            throw missingObject(sha256, in: objects, what: what())
        }
    }

    private func missingObject(_ sha256: String, in objects: ObjectFolder, what: String) -> RegistryError {
        RegistryError(
            .corruptData,
            "\(what) is missing: its object '\(objects.path(of: sha256))' is gone. Run 'fusebox verify'; restore the store and its folder '\(objects.root)' from a backup."
        )
    }

    private func checksumFailure(
        _ what: String,
        _ total: Int,
        _ byteCount: Int,
        _ digest: String,
        _ expected: String
    )
        -> RegistryError
    {
        RegistryError(
            .corruptData,
            "\(what) fails its checksum: the stored bytes changed (\(total) of \(byteCount) bytes, SHA-256 \(digest.prefix(12))… instead of \(expected.prefix(12))…). Run 'fusebox verify'."
        )
    }

    /// Streams a blob's database chunks in position order.
    /// - Returns: the bytes read and, when `hashing`, their SHA-256 (else "").
    private static func readChunks(
        blobId: Int64,
        hashing: Bool,
        in db: any StoreSQL,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> (Int, String) {
        var hasher = SHA256()
        var total = 0
        var position = 0
        // One chunk per query, so memory holds one chunk whatever the backend buffers; a missing
        // chunk ends the bytes, and the caller's length and digest checks report it.
        while let bytes = try db.fetchOne(
            [UInt8].self,
            sql: "SELECT bytes FROM tensorChunk WHERE blobId = ? AND position = ?",
            arguments: [blobId, position]
        ) {
            position += 1
            try bytes.withUnsafeBytes { raw in
                if hashing { hasher.update(bufferPointer: raw) }
                total += raw.count
                try body(raw)
            }
        }
        return (total, hashing ? SHA256Hex.hex(hasher.finalize()) : "")
    }
}
