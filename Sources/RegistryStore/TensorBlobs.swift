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
        in db: Database,
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
            try db.execute(
                sql:
                    "INSERT INTO tensorBlob (id, sha256, byteCount, chunkCount, inObjectFolder) VALUES (?, ?, ?, 0, 1)",
                arguments: [requestedId, staged.sha256, byteCount]
            )
            return (db.lastInsertedRowID, staged.sha256, true)
        }
        // In the database: at most one chunk when the store has an object folder (or a store in
        // memory, which holds everything in memory anyway).
        var bytes = Data()
        bytes.reserveCapacity(byteCount)
        try produce { bytes.append(contentsOf: $0) }
        let digest = SHA256Hex.hex(SHA256.hash(data: bytes))
        try check(bytes.count)
        if let id = try Self.blobId(sha256: digest, in: db) { return (id, digest, false) }
        let chunkCount = (byteCount + Self.chunkSize - 1) / Self.chunkSize
        try db.execute(
            sql: "INSERT INTO tensorBlob (id, sha256, byteCount, chunkCount) VALUES (?, ?, ?, ?)",
            arguments: [requestedId, digest, byteCount, chunkCount]
        )
        let id = db.lastInsertedRowID
        let insert = try db.cachedStatement(sql: "INSERT INTO tensorChunk (blobId, position, bytes) VALUES (?, ?, ?)")
        for position in 0..<chunkCount {
            let start = position * Self.chunkSize
            insert.setUncheckedArguments([id, position, bytes[start..<min(start + Self.chunkSize, byteCount)]])
            try insert.execute()
        }
        return (id, digest, true)
    }

    /// Stores an in-memory tensor's bytes.
    func store(_ tensor: Tensor, in db: Database) throws -> Int64 {
        try store(byteCount: tensor.bytes.count, in: db) { emit in
            try tensor.withUnsafeBytes { try emit($0) }
        }.id
    }

    /// Streams a blob's bytes in order; when `verify` is set, re-hashes them and throws
    /// `corruptData` (naming `what`) if the digest or length differs from the record, or its
    /// object is missing.
    func stream(
        blobId: Int64,
        in db: Database,
        verify: Bool,
        what: @autoclosure () -> String,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        guard
            let row = try Row.fetchOne(
                db,
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
    func export(blobId: Int64, to writer: BackgroundWriter, in db: Database, what: @autoclosure () -> String) throws {
        guard
            let objects,
            let row = try Row.fetchOne(
                db,
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
        in db: Database,
        verify: Bool,
        what: @autoclosure () -> String
    ) throws -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(byteCount)
        try stream(blobId: blobId, in: db, verify: verify, what: what()) { out.append(contentsOf: $0) }
        return out
    }

    /// The digests of the files in the object folder that no blob row names (none without a folder).
    func unreferencedObjects(in db: Database) throws -> [String] {
        guard let objects else { return [] }
        let named = Set(try String.fetchAll(db, sql: "SELECT sha256 FROM tensorBlob WHERE inObjectFolder = 1"))
        return try objects.digests().filter { !named.contains($0) }
    }

    // MARK: - Private

    private static func blobId(sha256: String, in db: Database) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT id FROM tensorBlob WHERE sha256 = ?", arguments: [sha256])
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
        in db: Database,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> (Int, String) {
        var hasher = SHA256()
        var total = 0
        var position = 0
        let chunks = try Row.fetchCursor(
            db,
            sql: "SELECT position, bytes FROM tensorChunk WHERE blobId = ? ORDER BY position",
            arguments: [blobId]
        )
        while let chunk = try chunks.next() {
            guard chunk["position"] as Int == position else { break }
            position += 1
            // The row's bytes are only valid until the cursor moves: use them inside the closure.
            try chunk.withUnsafeData(atIndex: 1) { data in
                guard let data else { return }
                try data.withUnsafeBytes { raw in
                    if hashing { hasher.update(bufferPointer: raw) }
                    total += raw.count
                    try body(raw)
                }
            }
        }
        return (total, hashing ? SHA256Hex.hex(hasher.finalize()) : "")
    }
}
